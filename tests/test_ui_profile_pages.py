"""The user's own profile page over HTTP, as a browser without JavaScript uses it: revoking one of
their API tokens asks first, then revokes it once the form comes back with its CSRF token, and the
API refuses the token at once (RFC 6750 §3.1 invalid_token); revoking an authorized application
asks first too, and the application must ask for consent again.
"""

from __future__ import annotations

import requests

from support import Browser, authorization_params, parse_page, unique


def signed_in(server, user) -> Browser:
    browser = Browser(server)
    browser.login(user)
    return browser


def confirm(browser: Browser, url: str, question: str, button: str) -> str:
    """Open the confirmation page at ``url``, check what it asks, and return its form's CSRF token."""
    page = browser.get(url)
    assert page.status_code == 200, f"GET {url}: {page.status_code} {page.text[:300]}"
    assert question in parse_page(page.text).text
    form = Browser.single_form(page)
    assert form.action == url and [b["text"].strip() for b in form.buttons] == [button]
    return form.input("csrf_token")["value"]


def test_user_revokes_their_token_and_the_api_refuses_it_rfc6750_3_1(server, make_user):
    user = make_user()
    pat = server.create_pat(user.username, name=unique("script "))
    me = lambda: requests.get(server.url("/api/1.0/users/me"), headers={"Authorization": f"Bearer {pat['token']}"},
                              timeout=10)
    assert me().status_code == 200
    browser = signed_in(server, user)
    url = f"/profile/tokens/{pat['id']}/revoke"
    assert f'href="{url}"' in browser.get("/profile").text
    csrf = confirm(browser, url, f"Revoke the token “{pat['name']}”? Scripts using it will stop working at once.",
                   "Revoke token")

    assert browser.post(url, data={}).status_code == 400
    assert me().status_code == 200

    r = browser.post(url, data={"csrf_token": csrf})
    assert r.status_code == 303 and r.headers["Location"] == "/profile"
    assert f"Token “{pat['name']}” revoked." in browser.get("/profile").text
    response = me()
    assert response.status_code == 401 and "invalid_token" in response.headers["WWW-Authenticate"]


def test_a_user_cannot_revoke_someone_elses_token(server, make_user):
    theirs = server.create_pat(make_user().username)
    browser = signed_in(server, make_user())
    url = f"/profile/tokens/{theirs['id']}/revoke"
    assert browser.get(url).status_code == 404
    csrf = parse_page(browser.get("/profile").text).forms[0].input("csrf_token")["value"]
    assert browser.post(url, data={"csrf_token": csrf}).status_code == 404


def test_user_revokes_an_application_which_must_ask_again(server, make_user, make_client):
    rp = make_client(redirect_uris=[f"https://{unique('rp')}.example.org/cb"], grants=["authorization_code"])
    user = make_user()
    browser = signed_in(server, user)
    assert browser.authorize(authorization_params(rp), user).startswith(rp.redirect_uri)
    assert browser.open_authorize(authorization_params(rp)).status_code == 302

    url = f"/profile/apps/{rp.client_id}/revoke"
    csrf = confirm(browser, url, f"Revoke the access of “{rp.name}”? Its tokens stop working, and it must ask you again.",
                   "Revoke access")
    r = browser.post(url, data={"csrf_token": csrf})
    assert r.status_code == 303 and r.headers["Location"] == "/profile"
    assert "Access revoked." in browser.get("/profile").text
    assert browser.open_authorize(authorization_params(rp)).status_code == 200
    assert browser.post(url, data={"csrf_token": csrf}).status_code == 404
