"""The identity providers admin page over HTTP (issue 18 item 1), as a browser without JavaScript uses it: an
administrator adds a provider and its button is on the sign-in page; an edit changes the client id, secret and
scopes the sign-in then uses (seen by a small OpenID Provider, ``support/oidc_stub.py``: the authorization request,
OpenID Connect Core 1.0 §3.1.2.1, and client_secret_basic, RFC 6749 §2.3.1); disable, enable and delete, each
asked first; the client secret never in a page; refused changes shown on the form (a bad issuer, a discovery
document that cannot be read or names another issuer, OpenID Connect Discovery 1.0 §4.3, a taken name); and the
refused side: someone who is not an administrator, a signed-out visitor, a POST without its CSRF token."""

from __future__ import annotations

import base64
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
import requests

from authgate.services.federation.providers import MAX_SECRET
from support import HTTP_TIMEOUT, Browser, User, free_port, parse_page, unique

SECRET_KEY = "test-secret-key-" + "a" * 32
BASE = "/admin/identity-providers"


@pytest.fixture(scope="module")
def srv(server_factory):
    return server_factory({"AUTHGATE_SECRET_KEY": SECRET_KEY})


@pytest.fixture(scope="module")
def admin(srv) -> Browser:
    browser = Browser(srv)
    browser.login(User("admin", srv.admin_password, "", None))
    return browser


def secret() -> str:
    return unique("upstream-secret-") + "-" + "z" * 16


def as_sent(page: requests.Response, action: str) -> dict:
    """The form posting to ``action`` as a browser sends it untouched: checked boxes only, the selected kind."""
    [form] = [f for f in parse_page(page.text).forms if f.method == "post" and f.action == action]
    sent = {}
    for i in form.inputs:
        if not i.get("name") or (i.get("type") == "checkbox" and "checked" not in i):
            continue
        sent[i["name"]] = "oidc" if i["tag"] == "select" else i.get("value", "")
    return sent


def submit(browser: Browser, url: str, changes: dict, *, unchecked: tuple[str, ...] = ()) -> requests.Response:
    page = browser.get(url)
    assert page.status_code == 200, page.text[:500]
    data = {**as_sent(page, url), **changes}
    for name in unchecked:
        data.pop(name, None)
    return browser.post(url, data=data)


def add_on_page(browser: Browser, name: str, issuer: str, client_id: str, client_secret: str,
                **more) -> requests.Response:
    return submit(browser, f"{BASE}/new", {"name": name, "issuer": issuer, "client_id": client_id,
                                           "client_secret": client_secret, "allow_private_network": "on", **more})


def provider_id(srv, name: str) -> int:
    return srv.commands.run_json("providers", "show", name)["id"]


def buttons(srv) -> list[str]:
    form = Browser.single_form(Browser(srv).get("/login"))
    return [b["text"].strip() for b in form.buttons if b.get("data-provider")]


def press(srv, name: str) -> requests.Response:
    """The sign-in page's button of ``name``: the redirect to the provider's authorization endpoint."""
    person = Browser(srv)
    form = Browser.single_form(person.get("/login"))
    answer = person.post(f"/login/federated/{name}", data=form.fields())
    answer.person = person
    return answer


def sign_in_through(srv, stub, name: str) -> dict:
    """A whole sign-in through the stub, as a new person there; the token request authgate sent it."""
    someone = unique("stubber")
    stub.claims = {"sub": someone, "email": f"{someone}@example.org", "preferred_username": someone}
    to_stub = press(srv, name)
    assert to_stub.status_code == 303, to_stub.text[:500]
    back = requests.get(to_stub.headers["Location"], allow_redirects=False, timeout=HTTP_TIMEOUT)
    done = to_stub.person.get(urljoin(srv.base_url + "/", back.headers["Location"]))
    assert done.status_code == 303 and "authgate_session" in done.cookies, done.text[:500]
    return stub.token_requests[-1]


def basic(client_id: str, client_secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()


def csrf_token(browser: Browser) -> str:
    """A valid CSRF token of the browser's session (from its profile page's forms)."""
    return next(i["value"] for f in parse_page(browser.get("/profile").text).forms for i in f.inputs
                if i.get("name") == "csrf_token")


def error_on(page: requests.Response, field: str) -> str:
    """The message the form shows next to ``field`` (and the field marked invalid)."""
    parsed = parse_page(page.text)
    [field_input] = [i for f in parsed.forms for i in f.inputs if i.get("name") == field]
    assert field_input.get("aria-invalid") == "true", page.text[:2000]
    return parsed.by_id[f"{field}-error"]


def test_an_administrator_adds_a_provider_and_its_button_is_on_the_sign_in_page(srv, admin, stub):
    listed = admin.get(BASE)
    assert "+ Identity provider" in parse_page(listed.text).text
    name, client_secret = unique("corp"), secret()
    added = add_on_page(admin, name, stub.issuer, "authgate-at-corp", client_secret, allow_jit="on")
    assert added.status_code == 303 and added.headers["Location"] == BASE, added.text[:2000]
    shown = parse_page(admin.get(BASE).text).text
    assert f"Identity provider “{name}” added." in shown and f"{srv.issuer}/login/federated/{name}/callback" in shown
    assert f"Sign in with {name}" in buttons(srv)
    shown = srv.commands.run_json("providers", "show", name)
    assert shown["issuer"] == stub.issuer and shown["allow_jit"] is True and shown["link_verified_email"] is False
    assert shown["scopes"] == ["openid", "email", "profile"] and shown["enabled"] is True
    assert sign_in_through(srv, stub, name)["authorization"] == basic("authgate-at-corp", client_secret)


def test_an_edit_changes_the_client_and_scopes_the_sign_in_uses(srv, admin, stub):
    name, first, second = unique("edited"), secret(), secret()
    add_on_page(admin, name, stub.issuer, "first-id", first, allow_jit="on")
    edit = f"{BASE}/{provider_id(srv, name)}"
    form = parse_page(admin.get(edit).text)
    assert 'value="first-id"' in admin.get(edit).text and "one is set: leave empty to keep it" in form.text

    saved = submit(admin, edit, {"client_id": "second-id", "client_secret": second, "scopes": "openid email"})
    assert saved.status_code == 303 and f"Identity provider “{name}” saved." in admin.get(BASE).text
    assert sign_in_through(srv, stub, name)["authorization"] == basic("second-id", second)
    request = parse_qs(urlsplit(press(srv, name).headers["Location"]).query)
    assert request["client_id"] == ["second-id"] and request["scope"] == ["openid email"]

    kept = submit(admin, edit, {"scopes": "openid profile", "client_secret": ""})  # an empty box keeps the secret
    assert kept.status_code == 303
    assert sign_in_through(srv, stub, name)["authorization"] == basic("second-id", second)
    assert parse_qs(urlsplit(press(srv, name).headers["Location"]).query)["scope"] == ["openid profile"]


def test_disable_enable_and_delete_are_asked_first(srv, admin, stub):
    name = unique("cycle")
    add_on_page(admin, name, stub.issuer, "c", secret())
    edit = f"{BASE}/{provider_id(srv, name)}"
    assert f"{edit}/disable" in admin.get(edit).text
    question = admin.get(f"{edit}/disable")
    assert question.status_code == 200 and f"Disable “{name}”?" in parse_page(question.text).text
    assert f"Sign in with {name}" in buttons(srv)  # asking changed nothing
    done = submit(admin, f"{edit}/disable", {})
    assert done.status_code == 303 and done.headers["Location"] == edit
    page = parse_page(admin.get(edit).text).text
    assert f"Identity provider “{name}” disabled." in page and "This identity provider is disabled" in page
    assert f"Sign in with {name}" not in buttons(srv)
    assert press(srv, name).status_code == 404

    assert submit(admin, f"{edit}/enable", {}).status_code == 303
    assert f"Sign in with {name}" in buttons(srv)

    question = admin.get(f"{edit}/delete")
    assert f"Delete “{name}”?" in parse_page(question.text).text
    assert admin.get(BASE).text.count(f">{name}<") == 1
    assert submit(admin, f"{edit}/delete", {}).headers["Location"] == BASE
    listed = parse_page(admin.get(BASE).text).text
    assert f"Identity provider “{name}” deleted." in listed
    assert f"Sign in with {name}" not in buttons(srv)
    assert admin.get(edit).status_code == 404
    assert srv.cli("providers", "show", name).returncode != 0


def test_the_client_secret_is_never_in_a_page(srv, admin, stub):
    name, client_secret = unique("hidden"), secret()
    add_on_page(admin, name, stub.issuer, "c", client_secret)
    edit = f"{BASE}/{provider_id(srv, name)}"
    pages = [admin.get(BASE), admin.get(edit), admin.get(f"{edit}/delete")]
    # refused forms, the secret typed again: the page comes back without it
    pages.append(add_on_page(admin, name, stub.issuer, "c", client_secret))
    pages.append(submit(admin, edit, {"issuer": "ftp://nope", "client_secret": client_secret}))
    assert [p.status_code for p in pages] == [200, 200, 200, 409, 422]
    for page in pages:
        assert client_secret not in page.text
    [secret_box] = [i for f in parse_page(pages[-1].text).forms for i in f.inputs if i.get("name") == "client_secret"]
    assert secret_box["type"] == "password" and secret_box.get("value") == ""
    assert client_secret not in srv.db.dump_text()  # sealed at rest


def test_bad_input_is_shown_on_the_form_not_a_500(srv, admin, stub, documents):
    taken = unique("taken")
    add_on_page(admin, taken, stub.issuer, "c", secret())
    name = unique("new")

    plain = add_on_page(admin, name, "http://idp.example.org", "authgate", secret())
    assert plain.status_code == 422
    assert error_on(plain, "issuer") == "Issuer must be an https URL (http only on loopback)."
    assert 'value="http://idp.example.org"' in plain.text and 'value="authgate"' in plain.text  # kept

    down = add_on_page(admin, name, f"http://127.0.0.1:{free_port()}", "c", secret())
    assert down.status_code == 422
    assert error_on(down, "issuer").startswith(
        "The issuer did not pass discovery: its discovery document could not be read")
    elsewhere = documents.publish(f"/{name}/.well-known/openid-configuration", {"issuer": "https://other.example"})
    other = add_on_page(admin, name, elsewhere.removesuffix("/.well-known/openid-configuration"), "c", secret())
    assert other.status_code == 422 and "names the issuer 'https://other.example'" in error_on(other, "issuer")

    again = add_on_page(admin, taken, stub.issuer, "c", secret())
    assert again.status_code == 409 and "already exists" in error_on(again, "name")
    odd = add_on_page(admin, "bad name/" + name, stub.issuer, "c", secret())
    assert odd.status_code == 422 and "letters, digits" in error_on(odd, "name")
    quoted = add_on_page(admin, name, stub.issuer, "c", secret(), scopes='openid "email"')
    assert quoted.status_code == 422 and "without spaces, quotes" in error_on(quoted, "scopes")
    no_secret = add_on_page(admin, name, stub.issuer, "c", "")
    assert no_secret.status_code == 422
    assert error_on(no_secret, "client_secret") == f"Client secret must be 1 to {MAX_SECRET} printable characters."
    long_id = add_on_page(admin, name, stub.issuer, "c" * 513, secret())  # the field is named as its label says
    assert long_id.status_code == 422
    assert error_on(long_id, "client_id") == "Client ID must be 1 to 512 printable characters."
    assert name not in [p["name"] for p in srv.commands.run_json("providers", "list")["providers"]]

    edit = f"{BASE}/{provider_id(srv, taken)}"
    moved = submit(admin, edit, {"issuer": f"http://127.0.0.1:{free_port()}"})
    assert moved.status_code == 422 and "could not be read" in error_on(moved, "issuer")
    assert srv.commands.run_json("providers", "show", taken)["issuer"] == stub.issuer  # nothing saved


def test_without_the_discovery_check_a_provider_not_reachable_yet_is_saved(srv, admin):
    name = unique("later")
    issuer = f"http://127.0.0.1:{free_port()}"
    assert add_on_page(admin, name, issuer, "c", secret()).status_code == 422  # checked by default
    saved = submit(admin, f"{BASE}/new", {"name": name, "issuer": issuer, "client_id": "c", "client_secret": secret(),
                                          "allow_private_network": "on"}, unchecked=("check_discovery", "enabled"))
    assert saved.status_code == 303, saved.text[:2000]
    shown = srv.commands.run_json("providers", "show", name)
    assert shown["issuer"] == issuer and shown["enabled"] is False
    assert f"Sign in with {name}" not in buttons(srv)


def test_someone_who_is_not_an_administrator_is_refused_every_page_and_change(srv, stub):
    name = unique("guarded")
    existing = srv.commands.run_json("providers", "add", "--name", name, "--issuer", stub.issuer, "--client-id", "c",
                                     "--client-secret-stdin", "--allow-private-network", input="s\n")
    edit = f"{BASE}/{existing['id']}"
    before = srv.commands.run_json("providers", "list")["providers"]
    person = Browser(srv)
    person.login(srv.create_user())
    for url in (BASE, f"{BASE}/new", edit, f"{edit}/disable", f"{edit}/enable", f"{edit}/delete"):
        refused = person.get(url)
        assert refused.status_code == 403 and name not in refused.text, url
    token = csrf_token(person)
    made = person.post(f"{BASE}/new", data={"csrf_token": token, "name": unique("mine"), "issuer": stub.issuer,
                                            "client_id": "c", "client_secret": "s", "allow_jit": "on",
                                            "kind": "oidc"})
    assert made.status_code == 403
    for url, data in ((edit, {"issuer": "https://evil.example", "client_id": "c"}), (f"{edit}/disable", {}),
                      (f"{edit}/delete", {})):
        assert person.post(url, data={"csrf_token": token, **data}).status_code == 403, url
    assert srv.commands.run_json("providers", "list")["providers"] == before


def test_a_signed_out_visitor_is_sent_to_sign_in_and_changes_nothing(srv, stub):
    name = unique("out")
    existing = srv.commands.run_json("providers", "add", "--name", name, "--issuer", stub.issuer, "--client-id", "c",
                                     "--client-secret-stdin", "--allow-private-network", input="s\n")
    visitor = Browser(srv)
    for url in (BASE, f"{BASE}/new", f"{BASE}/{existing['id']}"):
        answer = visitor.get(url)
        assert answer.status_code == 303 and answer.headers["Location"].startswith("/login?next="), url
    for url in (f"{BASE}/new", f"{BASE}/{existing['id']}/delete"):
        answer = visitor.post(url, data={"name": unique("x"), "issuer": stub.issuer, "client_id": "c",
                                         "client_secret": "s"})
        assert answer.status_code == 303 and answer.headers["Location"].startswith("/login"), url
    assert srv.commands.run_json("providers", "show", name)["id"] == existing["id"]


def test_a_post_without_its_csrf_token_is_refused(srv, admin, stub):
    name = unique("csrf")
    made = admin.post(f"{BASE}/new", data={"name": name, "kind": "oidc", "issuer": stub.issuer, "client_id": "c",
                                           "client_secret": "s", "allow_private_network": "on"})
    assert made.status_code == 400 and "Expired form" in made.text
    assert srv.cli("providers", "show", name).returncode != 0
    add_on_page(admin, name, stub.issuer, "c", secret())
    edit = f"{BASE}/{provider_id(srv, name)}"
    for url, data in ((edit, {"client_id": "changed"}), (f"{edit}/disable", {}), (f"{edit}/delete", {}),
                      (f"{edit}/delete", {"csrf_token": "forged"})):
        refused = admin.post(url, data=data)
        assert refused.status_code == 400 and "Expired form" in refused.text, url
    shown = srv.commands.run_json("providers", "show", name)
    assert shown["client_id"] == "c" and shown["enabled"] is True


def test_an_administrator_adds_a_github_style_provider_with_its_claim_and_group_mapping(srv, admin):
    """The form's rows for a plain OAuth 2.0 provider (no discovery: its URLs are given), its claim mapping and
    its group mapping, one KEY=VALUE a line; an edit shows them again and keeps them unless changed."""
    group = unique("eng")
    srv.commands.run_json("groups", "create", group)
    name, github = unique("gh"), "https://github.example.com"
    lines = {"kind": "oauth2", "authorization_url": github + "/login/oauth/authorize",
             "token_url": github + "/login/oauth/access_token", "userinfo_url": github + "/user",
             "scopes": "read:user", "claims": "subject=id\r\nusername=login", "groups_claim": "teams",
             "group_mappings": f"acme/eng={group}"}
    added = add_on_page(admin, name, "", "Iv1.client", secret(), **lines)
    assert added.status_code == 303, added.text[:2000]
    shown = srv.commands.run_json("providers", "show", name)
    assert shown["kind"] == "oauth2" and shown["issuer"] == "" and shown["userinfo_url"] == github + "/user"
    assert shown["claims"] == {"subject": "id", "username": "login", "groups": "teams"}
    assert shown["scopes"] == ["read:user"]
    assert [(m["upstream"], m["group"]) for m in shown["group_mappings"]] == [("acme/eng", group)]

    edit = f"{BASE}/{shown['id']}"
    page = parse_page(admin.get(edit).text)
    assert page.by_id["claims"] == "subject=id\nusername=login" and page.by_id["group_mappings"] == f"acme/eng={group}"
    assert submit(admin, edit, {"client_id": "Iv1.other"}).status_code == 303
    again = srv.commands.run_json("providers", "show", name)
    assert again["client_id"] == "Iv1.other" and again["claims"] == shown["claims"]
    assert again["group_mappings"] == shown["group_mappings"]

    wrong = submit(admin, edit, {"claims": "subject=id\nnickname=login", "group_mappings": "x=no-such-group"})
    assert wrong.status_code == 422 and "'nickname' is not one of subject" in error_on(wrong, "claims")
    missing = add_on_page(admin, unique("gh"), "", "c", secret(), **{**lines, "userinfo_url": ""})
    assert missing.status_code == 422 and "needs its userinfo_url" in error_on(missing, "userinfo_url")
    unknown = add_on_page(admin, unique("gh"), "", "c", secret(), **{**lines, "group_mappings": "x=no-such-group"})
    assert unknown.status_code == 422 and "there is no group 'no-such-group'" in error_on(unknown, "group_mappings")
