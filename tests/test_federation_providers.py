"""Upstream identity providers as records (issue 18): managed by the operator's CLI and by administrators through
``/api/1.0/providers``, refused to everyone else (the rule is the service's, shown here from the refused side);
the client secret written, never read back, and sealed at rest under ``AUTHGATE_SECRET_KEY``."""

from __future__ import annotations

import pytest
import requests

from support import (HTTP_TIMEOUT, Browser, User, api_for, assert_conflict, assert_forbidden, assert_invalid,
                     free_port, parse_page, unique)

SECRET_KEY = "test-secret-key-" + "f" * 32
SECRET = "upstream-client-secret-" + "s" * 20


@pytest.fixture(scope="module")
def srv(server_factory):
    return server_factory({"AUTHGATE_SECRET_KEY": SECRET_KEY})


def add(srv, name: str, *flags: str) -> dict:
    return srv.commands.run_json("providers", "add", "--kind", "oidc", "--name", name, "--issuer",
                                 "https://idp.example.org", "--client-id", "authgate", "--client-secret-stdin",
                                 "--scope", "openid", "--scope", "email", "--no-check", *flags, input=SECRET + "\n")


def buttons(srv) -> list[str]:
    page = Browser(srv).get("/login")
    form = [f for f in parse_page(page.text).forms if f.method == "post"]
    assert len(form) == 1  # the buttons belong to the one sign-in form
    return [b["text"].strip() for b in form[0].buttons if b.get("data-provider")]


def test_the_operator_adds_lists_shows_changes_and_deletes_a_provider(srv):
    name = unique("corp")
    data = add(srv, name, "--jit", "--link-verified-email")
    assert data["issuer"] == "https://idp.example.org" and data["scopes"] == ["openid", "email"]
    assert data["allow_jit"] is True and data["link_verified_email"] is True and data["enabled"] is True
    assert data["client_secret_set"] is True and SECRET not in str(data)
    assert name in [p["name"] for p in srv.commands.run_json("providers", "list")["providers"]]
    shown = srv.cli("providers", "show", name)
    assert shown.returncode == 0 and f"{srv.issuer}/login/federated/{name}/callback" in shown.stdout
    assert SECRET not in shown.stdout
    assert f"Sign in with {name}" in buttons(srv)

    off = srv.commands.run_json("providers", "update", name, "--no-enabled", "--no-jit")
    assert off["enabled"] is False and off["allow_jit"] is False
    assert f"Sign in with {name}" not in buttons(srv)
    srv.commands.run_json("providers", "update", name, "--enabled")
    assert f"Sign in with {name}" in buttons(srv)

    assert srv.commands.run_json("providers", "delete", name) == {"deleted": name}
    assert f"Sign in with {name}" not in buttons(srv)
    missing = srv.cli("providers", "show", name)
    assert missing.returncode != 0 and "No identity provider" in missing.stderr and "Traceback" not in missing.stderr


def test_a_provider_needs_a_valid_issuer_and_a_free_name(srv):
    name = unique("corp")
    add(srv, name)
    again = srv.cli("providers", "add", "--name", name, "--issuer", "https://idp.example.org", "--client-id", "x",
                    "--client-secret-stdin", "--no-check", input="s\n")
    assert again.returncode != 0 and "already exists" in again.stderr
    plain = srv.cli("providers", "add", "--name", unique("p"), "--issuer", "http://idp.example.org", "--client-id",
                    "x", "--client-secret-stdin", input="s\n")
    assert plain.returncode != 0 and "https" in plain.stderr and "Traceback" not in plain.stderr
    no_secret = srv.cli("providers", "add", "--name", unique("p"), "--issuer", "https://idp.example.org",
                        "--client-id", "x")
    assert no_secret.returncode != 0 and "--client-secret-stdin" in no_secret.stderr


def test_the_client_secret_is_sealed_at_rest_under_the_secret_key(srv):
    add(srv, unique("sealed"))
    dump = srv.db.dump_text()
    assert SECRET not in dump
    assert "agenc:v1:" in dump


def test_administrators_manage_providers_through_the_api(srv):
    admin = api_for(srv, "admin", scopes=["security:read", "security:write"])
    name = unique("api")
    made = admin.ok("POST", "/providers", 201, json={
        "name": name, "issuer": "https://login.example.com/tenant", "client_id": "authgate", "client_secret": SECRET,
        "allow_jit": True, "check_discovery": False})
    assert made["scopes"] == ["openid", "email", "profile"] and "client_secret" not in made
    assert made["client_secret_set"] is True
    assert name in [p["name"] for p in admin.ok("GET", "/providers")["data"]]
    assert admin.ok("GET", f"/providers/{made['id']}")["issuer"] == "https://login.example.com/tenant"
    changed = admin.ok("PUT", f"/providers/{made['id']}", json={"enabled": False, "scopes": ["email"]})
    assert changed["enabled"] is False and changed["scopes"] == ["openid", "email"]
    assert_invalid(admin.put(f"/providers/{made['id']}", json={"issuer": "ftp://nope"}), "issuer")
    assert_conflict(admin.post("/providers", json={"name": name, "issuer": "https://a.example", "client_id": "c",
                                                   "client_secret": "s", "check_discovery": False}), "name")
    assert admin.ok("DELETE", f"/providers/{made['id']}", 204) is None
    assert admin.get(f"/providers/{made['id']}").status_code == 404


def test_a_user_who_is_not_an_administrator_is_refused_every_provider_action(srv):
    """Whatever the token's scopes, only an administrator may see or change providers."""
    user = srv.create_user()
    them = api_for(srv, user.username, scopes=["security:read", "security:write"])
    existing = add(srv, unique("target"))
    assert_forbidden(them.get("/providers"))
    assert_forbidden(them.get(f"/providers/{existing['id']}"))
    assert_forbidden(them.post("/providers", json={"name": unique("mine"), "issuer": "https://evil.example",
                                                   "client_id": "c", "client_secret": "s", "allow_jit": True}))
    assert_forbidden(them.put(f"/providers/{existing['id']}", json={"issuer": "https://evil.example"}))
    assert_forbidden(them.delete(f"/providers/{existing['id']}"))
    admin = api_for(srv, "admin", scopes=["security:read"])
    assert admin.ok("GET", f"/providers/{existing['id']}")["issuer"] == "https://idp.example.org"


def test_a_token_without_the_scope_is_refused(srv):
    admin = api_for(srv, "admin", scopes=["users:read"])
    assert_forbidden(admin.get("/providers"), scope="security:read")
    assert_forbidden(admin.post("/providers", json={}), scope="security:write")


def test_a_sign_in_with_a_provider_that_is_not_there_is_a_page_not_a_500(srv):
    browser = Browser(srv)
    login = browser.get("/login")
    form = [f for f in parse_page(login.text).forms if f.method == "post"][0]
    page = browser.post("/login/federated/" + unique("nobody"), data=form.fields())
    assert page.status_code == 404 and "no such way to sign in" in parse_page(page.text).text
    stray = requests.get(srv.url("/login/federated/x/callback?state=abc&code=def"), timeout=HTTP_TIMEOUT)
    assert stray.status_code == 400 and "does not belong to a sign-in started in this browser" in stray.text


def test_administrators_see_the_providers_page_and_others_are_refused(srv):
    name = unique("listed")
    add(srv, name, "--jit")
    admin = Browser(srv)
    admin.login(User("admin", srv.admin_password, "", None))
    listed = admin.get("/admin/identity-providers")
    assert listed.status_code == 200
    text = parse_page(listed.text).text
    assert name in text and f"{srv.issuer}/login/federated/{name}/callback" in text and SECRET not in listed.text
    assert "/admin/identity-providers" in admin.get("/").text
    person = Browser(srv)
    person.login(srv.create_user())
    refused = person.get("/admin/identity-providers")
    assert refused.status_code == 403 and name not in refused.text
    assert "/admin/identity-providers" not in person.get("/").text


def press_provider(srv, name: str) -> requests.Response:
    browser = Browser(srv)
    login = browser.get("/login")
    form = [f for f in parse_page(login.text).forms if f.method == "post"][0]
    return browser.post(f"/login/federated/{name}", data=form.fields())


def test_a_provider_that_cannot_be_reached_is_a_page_saying_so(srv):
    name = unique("down")
    srv.commands.run_json("providers", "add", "--name", name, "--issuer", f"http://127.0.0.1:{free_port()}",
                          "--client-id", "c", "--client-secret-stdin", "--allow-private-network", "--no-check", input="s\n")
    page = press_provider(srv, name)
    assert page.status_code == 502
    assert f"Signing in with {name} did not work: its discovery document could not be read" in parse_page(page.text).text


def test_a_provider_on_a_private_address_is_not_fetched_unless_allowed(srv, documents):
    """SSRF: the server fetches a provider's URLs like any other (https, public addresses), unless an
    administrator marked that provider as inside the network."""
    name = unique("inside")
    documents.publish(f"/{name}/.well-known/openid-configuration", {"issuer": documents.url(f"/{name}")})
    srv.commands.run_json("providers", "add", "--name", name, "--issuer", documents.url(f"/{name}"),
                          "--client-id", "c", "--client-secret-stdin", "--no-check", input="s\n")
    page = press_provider(srv, name)
    assert page.status_code == 502 and "must be an https URL" in parse_page(page.text).text
    assert documents.hits[f"/{name}/.well-known/openid-configuration"] == 0
    srv.commands.run_json("providers", "update", name, "--allow-private-network", "--no-check")
    page = press_provider(srv, name)
    assert documents.hits[f"/{name}/.well-known/openid-configuration"] == 1
    assert page.status_code == 502 and "has no authorization_endpoint" in parse_page(page.text).text


def test_the_api_adds_a_github_style_provider_with_its_claim_and_group_mapping(srv):
    """A plain OAuth 2.0 provider has its URLs and no discovery to check; its mappings are written and read back,
    and refused plainly (the API's envelope, the field named) when wrong."""
    admin = api_for(srv, "admin", scopes=["security:read", "security:write"])
    group = unique("eng")
    srv.commands.run_json("groups", "create", group)
    github = "https://github.example.com"
    body = {"kind": "oauth2", "name": unique("gh"), "client_id": "Iv1.abc", "client_secret": SECRET,
            "authorization_url": github + "/login/oauth/authorize", "token_url": github + "/login/oauth/access_token",
            "userinfo_url": github + "/user", "scopes": ["read:user"], "claims": {"subject": "id", "username": "login"},
            "groups_claim": "teams", "group_mappings": [{"upstream": "acme/eng", "group": group}]}
    made = admin.ok("POST", "/providers", 201, json=body)
    assert made["kind"] == "oauth2" and made["issuer"] == "" and made["scopes"] == ["read:user"]
    assert made["claims"] == {"subject": "id", "username": "login", "groups": "teams"} and made["groups_claim"] == "teams"
    assert [(m["upstream"], m["group"]) for m in made["group_mappings"]] == [("acme/eng", group)]
    assert admin.ok("GET", f"/providers/{made['id']}")["token_url"] == github + "/login/oauth/access_token"
    cleared = admin.ok("PUT", f"/providers/{made['id']}", json={"group_mappings": [], "groups_claim": ""})
    assert cleared["group_mappings"] == [] and cleared["groups_claim"] is None
    assert cleared["claims"] == {"subject": "id", "username": "login"}

    assert_invalid(admin.put(f"/providers/{made['id']}", json={"claims": {"nickname": "login"}}), "claims")
    assert_invalid(admin.put(f"/providers/{made['id']}", json={"group_mappings": [
        {"upstream": "x", "group": unique("missing")}]}), "group_mappings")
    assert_invalid(admin.post("/providers", json={**body, "name": unique("gh"), "userinfo_url": None}),
                   "userinfo_url")
    assert_invalid(admin.post("/providers", json={**body, "name": unique("gh"), "token_url": "ftp://x.example"}),
                   "token_url")
    assert_invalid(admin.post("/providers", json={"name": unique("o"), "issuer": "https://idp.example.org",
                                                  "client_id": "c", "client_secret": "s", "check_discovery": False,
                                                  "token_url": github + "/token"}), "token_url")


def test_saving_an_oidc_provider_through_the_api_or_the_cli_reads_its_discovery_document_first(srv):
    """As the admin page does (Discovery 1.0 §4): an issuer that cannot be read is refused on the issuer field,
    unless the check is turned off for a set-up offline; a change that does not touch the issuer needs no check,
    so a provider whose upstream is down can still be disabled."""
    admin = api_for(srv, "admin", scopes=["security:read", "security:write"])
    down = f"http://127.0.0.1:{free_port()}"
    body = {"name": unique("down"), "issuer": down, "client_id": "c", "client_secret": "s",
            "allow_private_network": True}
    refused = admin.post("/providers", json=body)
    assert_invalid(refused, "issuer")
    assert "did not pass discovery: its discovery document could not be read" in refused.text
    made = admin.ok("POST", "/providers", 201, json={**body, "check_discovery": False})
    assert admin.ok("PUT", f"/providers/{made['id']}", json={"enabled": False})["enabled"] is False
    assert_invalid(admin.put(f"/providers/{made['id']}", json={"issuer": f"http://127.0.0.1:{free_port()}"}),
                   "issuer")
    assert admin.ok("PUT", f"/providers/{made['id']}", json={"issuer": down + "/x", "check_discovery": False})

    name = unique("down")
    args = ("providers", "add", "--name", name, "--issuer", down, "--client-id", "c", "--client-secret-stdin",
            "--allow-private-network")
    cli = srv.cli(*args, input="s\n")
    assert cli.returncode != 0 and "did not pass discovery" in cli.stderr and "Traceback" not in cli.stderr
    assert srv.commands.run_json(*args, "--no-check", input="s\n")["name"] == name
    assert srv.commands.run_json("providers", "update", name, "--no-enabled")["enabled"] is False
    moved = srv.cli("providers", "update", name, "--issuer", f"http://127.0.0.1:{free_port()}")
    assert moved.returncode != 0 and "did not pass discovery" in moved.stderr
