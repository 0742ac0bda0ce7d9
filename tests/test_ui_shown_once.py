"""A new API token or client secret is shown once, after a redirect (POST/redirect/GET), as a browser without
JavaScript sees it: the POST answers 303 (so a reload repeats only the GET), the secret is in neither the URL nor
the cookie, the page shows it to the session that made it and to nobody else, once; a second GET, another
signed-in session holding the same cookie, or a copy of the database finds nothing to show.
"""

from __future__ import annotations

import re

import requests

from support import Browser, User, parse_page, unique

SHOWN = "You won't be able to see it again"


def signed_in(server, user) -> Browser:
    browser = Browser(server)
    browser.login(user)
    return browser


def post_form(browser: Browser, page_url: str, action: str, data: dict | list) -> requests.Response:
    forms = [f for f in parse_page(browser.get(page_url).text).forms if f.method == "post" and f.action == action]
    assert len(forms) == 1, f"no single form to {action} on {page_url}"
    csrf = [("csrf_token", forms[0].input("csrf_token")["value"])]
    return browser.post(action, data=csrf + (list(data.items()) if isinstance(data, dict) else data))


def secret_on(page: requests.Response, prefix: str = "") -> str:
    return re.search(r'id="secret" type="text" value="(' + prefix + r'[^"]+)"', page.text).group(1)


def make_token(browser: Browser, name: str) -> requests.Response:
    return post_form(browser, "/profile", "/profile/tokens", {"name": name, "expires_in_days": "7"})


def test_a_new_token_is_shown_once_after_a_redirect_and_never_again(server, make_user, db_dump):
    user = make_user()
    browser = signed_in(server, user)
    made = make_token(browser, unique("once "))
    assert made.status_code == 303 and made.headers["Location"] == "/shown-once"
    assert "agp_" not in made.headers["Location"] and "agp_" not in made.headers.get("Set-Cookie", "")
    assert "agp_" not in made.text
    dump = db_dump()
    shown = browser.get("/shown-once")
    assert shown.status_code == 200 and SHOWN in shown.text
    assert "no-store" in shown.headers["Cache-Control"]
    token = secret_on(shown, "agp_")
    assert token not in dump  # held sealed while it waited: a database copy cannot read it
    me = requests.get(server.url("/api/1.0/users/me"), headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert me.status_code == 200 and me.json()["username"] == user.username

    again = browser.get("/shown-once")  # a reload
    assert again.status_code == 410 and token not in again.text and "already shown" in again.text
    assert token not in browser.get("/profile").text


def test_another_session_with_the_cookie_sees_nothing_and_takes_nothing(server, make_user):
    owner = signed_in(server, make_user())
    made = make_token(owner, unique("stolen "))
    assert made.status_code == 303
    once = {name: value for name, value in owner.session.cookies.items() if name == "authgate_once"}
    assert once, made.headers

    other = signed_in(server, make_user())
    other.session.cookies.update(once)
    refused = other.get("/shown-once")
    assert refused.status_code == 410 and "agp_" not in refused.text

    anonymous = requests.get(server.url("/shown-once"), cookies=once, allow_redirects=False, timeout=10)
    assert anonymous.status_code == 303 and anonymous.headers["Location"].startswith("/login")

    forged = owner.get("/shown-once", cookies={"authgate_once": once["authgate_once"].split(".")[0] + ".wrongkey"})
    assert forged.status_code == 410 and "agp_" not in forged.text

    owner.session.cookies.update(once)  # each refusal also told the browser to forget it
    shown = owner.get("/shown-once")  # none of the above used it up
    assert shown.status_code == 200 and secret_on(shown, "agp_")


def test_a_new_client_secret_and_a_regenerated_one_are_shown_once(server):
    browser = signed_in(server, User("admin", server.admin_password, "", 1))
    name = unique("Once client ")
    made = post_form(browser, "/admin/auth-clients/new", "/admin/auth-clients/new",
                     [("name", name), ("redirect_uris", "https://once.example.org/cb"),
                      ("grants", "client_credentials"), ("kind", "confidential")])
    assert made.status_code == 303 and made.headers["Location"] == "/shown-once"
    shown = browser.get("/shown-once")
    assert shown.status_code == 200 and f"Client “{name}” registered" in shown.text
    secret = secret_on(shown)
    client_id = parse_page(shown.text).text.split("Client ID", 1)[1].split()[0]
    assert browser.get("/shown-once").status_code == 410

    page = f"/admin/auth-clients/{client_id}"
    renewed = post_form(browser, f"{page}/secret", f"{page}/secret", {})
    assert renewed.status_code == 303 and renewed.headers["Location"] == "/shown-once"
    shown = browser.get("/shown-once")
    fresh = secret_on(shown)
    assert fresh != secret and "New secret for" in shown.text
    assert browser.get("/shown-once").status_code == 410
    def token(secret_used):
        return requests.post(server.url("/oauth/token"), data={"grant_type": "client_credentials"},
                             auth=(client_id, secret_used), timeout=10).status_code

    assert token(fresh) == 200 and token(secret) == 401
