"""Dynamic client registration (RFC 7591) and its management (RFC 7592) on a server open to anyone
(``AUTHGATE_REGISTRATION=open``): what the request may hold and what the answer says, the errors of §3.2.2,
the redirect URI forms of RFC 8252, the per-address limit, the configuration endpoint (read, replace,
delete) and its tokens, a registered client's real code flow with PKCE and its refresh, CORS for browser
apps, the admin page, and a server with registration off."""

from __future__ import annotations

import time

import pytest
import requests

from support import (
    HTTP_TIMEOUT, Browser, User, admin_api, assert_token_error, exchange_code, get_code, pkce_pair, refresh, unique,
)
from support.registration import as_client, assert_registration_error, manage, register, registered

LIMIT = 3
ORIGIN = "https://spa.example.org"


@pytest.fixture(scope="module")
def srv(server_factory):
    return server_factory({"AUTHGATE_REGISTRATION": "open", "AUTHGATE_LIMIT_REGISTRATIONS_PER_IP": f"{LIMIT}/3600"})


def native(**extra) -> dict:
    return {"client_name": unique("agent"), "redirect_uris": ["http://127.0.0.1:33418/callback"],
            "token_endpoint_auth_method": "none", **extra}


# -- RFC 7591 §2 and §3.2.1: what is registered, and the answer ----------------------------------------------

def test_a_public_client_registers_with_defaults_rfc7591_3_2_1(srv):
    """§2: grant_types defaults to authorization_code, response_types to code; §3.2.1: 201, client_id and
    client_id_issued_at, no secret for a public client, the metadata as the server holds it."""
    before = int(time.time())
    r = register(srv, native())
    assert r.status_code == 201, r.text
    assert r.headers["Content-Type"].startswith("application/json")
    assert "no-store" in r.headers["Cache-Control"]
    info = r.json()
    assert info["client_id"] and "client_secret" not in info and "client_secret_expires_at" not in info
    assert before - 2 <= info["client_id_issued_at"] <= time.time() + 2
    assert info["token_endpoint_auth_method"] == "none"
    assert info["grant_types"] == ["authorization_code", "refresh_token"]
    assert info["response_types"] == ["code"]
    assert info["redirect_uris"] == ["http://127.0.0.1:33418/callback"]
    assert info["registration_client_uri"] == srv.url(f"/oauth/register/{info['client_id']}")
    assert info["registration_access_token"]


def test_a_client_that_asks_for_no_scope_gets_the_default_set_rfc7591_2(srv):
    """§2 "If omitted, an authorization server MAY register a client with a default set of scopes": registered
    clients get openid profile email offline_access by default, not nothing."""
    info = registered(srv, native())
    assert set(info["scope"].split()) == {"openid", "profile", "email", "offline_access"}
    asked = registered(srv, native(scope="openid email"))
    assert asked["scope"] == "openid email"


def test_a_confidential_client_gets_a_secret_that_does_not_expire_rfc7591_3_2_1(srv):
    info = registered(srv, native(token_endpoint_auth_method="client_secret_post"))
    assert info["client_secret"].startswith("ags_")
    assert info["client_secret_expires_at"] == 0, "0: the secret does not expire"
    assert info["token_endpoint_auth_method"] == "client_secret_post"
    default = registered(srv, {"redirect_uris": ["https://app.example.org/cb"]})
    assert default["token_endpoint_auth_method"] == "client_secret_basic", "§2: the default method"
    assert default["client_secret"]


def test_unknown_fields_are_ignored_and_known_ones_kept_rfc7591_2(srv):
    """§2: "The authorization server MUST ignore any client metadata sent by the client that it does not
    understand"; the informational ones it keeps are returned."""
    info = registered(srv, native(client_uri="https://agent.example.org", contacts=["ops@example.org"],
                                  software_id="agent-kit", x_vendor_thing={"nested": [1, 2]},
                                  **{"client_name#ja": "エージェント"}))
    assert "x_vendor_thing" not in info and "client_name#ja" not in info
    assert info["client_uri"] == "https://agent.example.org"
    assert info["contacts"] == ["ops@example.org"] and info["software_id"] == "agent-kit"


def test_none_is_an_advertised_token_endpoint_auth_method_rfc8414_2(srv):
    meta = requests.get(srv.url("/.well-known/oauth-authorization-server"), timeout=HTTP_TIMEOUT).json()
    assert meta["registration_endpoint"] == srv.url("/oauth/register")
    assert "none" in meta["token_endpoint_auth_methods_supported"]
    assert {"client_secret_basic", "client_secret_post"} <= set(meta["token_endpoint_auth_methods_supported"])


# -- RFC 7591 §3.2.2: errors ----------------------------------------------------------------------------------

@pytest.mark.parametrize("uri", [
    "http://app.example.org/cb",            # plain http off loopback
    "https://app.example.org/cb#frag",      # a fragment (RFC 6749 §3.1.2)
    "myapp:/cb",                            # a custom scheme without a dot (RFC 8252 §7.1)
    "javascript:alert(1)",
    "https:///no-host",
    "not a url",
])
def test_redirect_uris_outside_rfc8252_are_invalid_redirect_uri_rfc7591_3_2_2(srv, uri):
    assert_registration_error(register(srv, native(redirect_uris=[uri])), "invalid_redirect_uri")


@pytest.mark.parametrize("uri", [
    "https://app.example.org/cb", "http://127.0.0.1/cb", "http://[::1]:8080/cb", "http://localhost:5000/cb",
    "com.example.agent:/oauth2redirect",
])
def test_redirect_uris_of_rfc8252_are_accepted_rfc8252_7(srv, uri):
    assert registered(srv, native(redirect_uris=[uri]))["redirect_uris"] == [uri]


def test_the_code_grant_needs_a_redirect_uri_rfc7591_2(srv):
    assert_registration_error(register(srv, native(redirect_uris=[])), "invalid_redirect_uri")


@pytest.mark.parametrize("metadata", [
    {"grant_types": ["authorization_code"], "response_types": ["token"]},     # implicit is not served
    {"grant_types": ["refresh_token"], "response_types": ["code"]},           # code without its grant
    {"grant_types": ["authorization_code"], "response_types": []},           # the grant without code
    {"grant_types": "authorization_code"},                                    # not an array
    {"grant_types": []},
])
def test_grant_and_response_types_must_agree_rfc7591_2_1(srv, metadata):
    assert_registration_error(register(srv, native(**metadata)), "invalid_client_metadata")


@pytest.mark.parametrize("metadata", [
    {"grant_types": ["password"], "response_types": []},                     # never for a registered client
    {"grant_types": ["client_credentials"], "response_types": [],            # not in this server's policy
     "token_endpoint_auth_method": "client_secret_basic"},
    {"scope": "users:write"},                                                 # outside the scopes open to them
    {"scope": "*"},
    {"token_endpoint_auth_method": "private_key_jwt"},
    {"client_name": ["not", "a", "string"]},
    {"client_uri": "javascript:alert(1)"},
])
def test_metadata_outside_the_policy_is_invalid_client_metadata_rfc7591_3_2_2(srv, metadata):
    assert_registration_error(register(srv, native(**metadata)), "invalid_client_metadata")


@pytest.mark.parametrize("body", [b"", b"not json", b"[1, 2]", b'"a string"', b"\xff\xfe", b"{"])
def test_a_body_that_is_no_json_object_is_invalid_client_metadata_rfc7591_3_1(srv, body):
    assert_registration_error(register(srv, body), "invalid_client_metadata")


def test_nul_and_deep_nesting_are_refused_not_a_500(srv):
    """PostgreSQL text cannot hold U+0000, whatever Content-Type the body claims; a body nested past
    Python's recursion limit is no metadata either."""
    nul = b'{"client_name": "a\\u0000b", "redirect_uris": ["https://a.example.org/cb"]}'
    plain = register(srv, nul, headers={"Content-Type": "text/plain"})
    assert_registration_error(plain, "invalid_client_metadata")
    as_json = register(srv, nul)
    assert as_json.status_code == 400 and as_json.json()["error"] in ("invalid_request", "invalid_client_metadata")
    deep = b'{"x": ' + b"[" * 30000 + b"]" * 30000 + b"}"
    assert_registration_error(register(srv, deep), "invalid_client_metadata")


def test_a_software_statement_is_refused_rfc7591_3_2_2(srv):
    """§2.3 / §3.2.2: no software statement issuer is configured, so none is approved."""
    jws = "eyJhbGciOiJSUzI1NiJ9.eyJzb2Z0d2FyZV9pZCI6IngifQ.c2ln"
    assert_registration_error(register(srv, native(software_statement=jws)), "unapproved_software_statement")
    assert_registration_error(register(srv, native(software_statement="garbage")), "invalid_software_statement")


def test_open_registration_is_limited_per_address(srv):
    """Anonymous registration writes rows: each address may register AUTHGATE_LIMIT_REGISTRATIONS_PER_IP
    clients (here 3 an hour); the next is 429 with Retry-After, and another address is not refused."""
    answers = [register(srv, native(), address="127.0.200.9") for _ in range(LIMIT + 1)]
    assert [r.status_code for r in answers] == [201] * LIMIT + [429], [r.text for r in answers]
    refused = assert_registration_error(answers[-1], "too_many_requests", 429)
    assert "registrations" in refused["error_description"]
    assert int(answers[-1].headers["Retry-After"]) > 0
    assert register(srv, native(), address="127.0.200.10").status_code == 201


# -- RFC 7592: read, replace, delete ------------------------------------------------------------------------

def test_the_client_reads_its_registration_rfc7592_2_1(srv):
    info = registered(srv, native(client_uri="https://agent.example.org"))
    r = manage("GET", info)
    assert r.status_code == 200, r.text
    read = r.json()
    assert "no-store" in r.headers["Cache-Control"]
    for name in ("client_id", "client_id_issued_at", "redirect_uris", "grant_types", "scope", "client_name",
                 "client_uri", "token_endpoint_auth_method", "registration_client_uri"):
        assert read[name] == info[name], name
    assert read["registration_access_token"] == info["registration_access_token"], "§3: the token still in use"


@pytest.mark.parametrize("token", [None, "agm_wrong", "ags_not-even-this-kind"])
def test_a_missing_or_wrong_registration_token_is_401_rfc7592_2_1(srv, token):
    info = registered(srv, native())
    for method in ("GET", "PUT", "DELETE"):
        r = manage(method, info, token=token, json={"client_id": info["client_id"], **native()})
        assert_registration_error(r, "invalid_token", 401)
        assert r.headers["WWW-Authenticate"].startswith('Bearer error="invalid_token"')
    assert manage("GET", info).status_code == 200, "the refused DELETE deleted nothing"


def test_one_clients_token_does_not_open_another_clients_registration_rfc7592_2(srv):
    a, b = registered(srv, native()), registered(srv, native())
    b_with_a = {**b, "registration_access_token": a["registration_access_token"]}
    for method in ("GET", "PUT", "DELETE"):
        r = manage(method, b_with_a, json={"client_id": b["client_id"], **native()})
        assert_registration_error(r, "invalid_token", 401)
    assert manage("GET", b).json()["client_name"] == b["client_name"]


def test_a_client_that_was_not_registered_has_no_configuration_endpoint_rfc7592_2_1(srv):
    made = srv.create_client(redirect_uris=["https://app.example.org/cb"])
    r = requests.get(srv.url(f"/oauth/register/{made.client_id}"), headers={"Authorization": "Bearer x"},
                     timeout=HTTP_TIMEOUT)
    assert_registration_error(r, "invalid_token", 401)


def test_the_client_replaces_its_metadata_rfc7592_2_2(srv):
    """§2.2: the request holds every field (omitted ones are dropped), client_id is required and must match,
    the fields the server issued are ignored, the same validation applies."""
    info = registered(srv, native(client_uri="https://old.example.org", scope="openid profile"))
    new = {"client_id": info["client_id"], "client_name": "Renamed agent",
           "redirect_uris": ["http://127.0.0.1:40000/cb", "com.example.agent:/cb"], "scope": "openid email",
           "token_endpoint_auth_method": "none", "registration_access_token": "ignored",
           "registration_client_uri": "https://elsewhere.example.org/", "client_id_issued_at": 1,
           "unknown_field": True}
    r = manage("PUT", info, json=new)
    assert r.status_code == 200, r.text
    updated = r.json()
    assert updated["client_name"] == "Renamed agent"
    assert updated["redirect_uris"] == new["redirect_uris"] and updated["scope"] == "openid email"
    assert "client_uri" not in updated, "§2.2: an omitted field is deleted"
    assert updated["client_id_issued_at"] == info["client_id_issued_at"]
    assert updated["registration_client_uri"] == info["registration_client_uri"]
    assert manage("GET", info).json()["client_name"] == "Renamed agent"


@pytest.mark.parametrize("change, error", [
    ({"client_id": None}, "invalid_client_metadata"),
    ({"client_id": "someone-else"}, "invalid_client_metadata"),
    ({"redirect_uris": ["http://app.example.org/cb"]}, "invalid_redirect_uri"),
    ({"scope": "users:write"}, "invalid_client_metadata"),
    ({"token_endpoint_auth_method": "client_secret_basic"}, "invalid_client_metadata"),
])
def test_a_replacement_is_validated_as_a_registration_rfc7592_2_2(srv, change, error):
    info = registered(srv, native())
    body = {"client_id": info["client_id"], **native(), **change}
    assert_registration_error(manage("PUT", info, json={k: v for k, v in body.items() if v is not None}), error)
    assert manage("GET", info).json()["redirect_uris"] == info["redirect_uris"], "nothing changed"


def test_a_replacement_with_a_wrong_client_secret_is_refused_rfc7592_2_2(srv):
    info = registered(srv, native(token_endpoint_auth_method="client_secret_basic"))
    body = {"client_id": info["client_id"], **native(token_endpoint_auth_method="client_secret_basic")}
    assert_registration_error(manage("PUT", info, json={**body, "client_secret": "ags_wrong"}),
                              "invalid_client_metadata")
    assert manage("PUT", info, json={**body, "client_secret": info["client_secret"]}).status_code == 200


def test_the_client_deletes_itself_and_its_tokens_stop_working_rfc7592_2_3(srv):
    user = srv.create_user()
    info = registered(srv, native())
    client = as_client(info)
    verifier, challenge = pkce_pair()
    code = get_code(srv, client, user, scope="openid offline_access", challenge=challenge)
    tokens = exchange_code(srv, client, code, verifier=verifier).json()
    r = manage("DELETE", info)
    assert r.status_code == 204 and r.content == b""
    assert_registration_error(manage("GET", info), "invalid_token", 401)
    assert_registration_error(manage("DELETE", info), "invalid_token", 401)
    assert_token_error(refresh(srv, client, tokens["refresh_token"]), {"invalid_client", "invalid_grant"}, {400, 401})
    me = requests.get(srv.url("/api/1.0/users/me"), headers={"Authorization": f"Bearer {tokens['access_token']}"},
                      timeout=HTTP_TIMEOUT)
    assert me.status_code == 401


# -- a registered client at work ------------------------------------------------------------------------------

def test_a_registered_public_client_completes_a_code_flow_with_pkce_and_refreshes_rfc7636(srv):
    user = srv.create_user()
    client = as_client(registered(srv, native()))
    verifier, challenge = pkce_pair()
    code = get_code(srv, client, user, scope="openid profile offline_access", challenge=challenge,
                    redirect_uri="http://127.0.0.1:51234/callback")    # any loopback port (RFC 8252 §7.3)
    r = exchange_code(srv, client, code, redirect_uri="http://127.0.0.1:51234/callback", verifier=verifier)
    assert r.status_code == 200, r.text
    tokens = r.json()
    assert set(tokens["scope"].split()) == {"openid", "profile", "offline_access"}
    assert tokens["id_token"] and tokens["refresh_token"]
    again = refresh(srv, client, tokens["refresh_token"])
    assert again.status_code == 200, again.text
    assert again.json()["refresh_token"] != tokens["refresh_token"]


def test_a_registered_public_client_must_use_pkce_rfc7636_4_4_1(srv):
    client = as_client(registered(srv, native()))
    browser = Browser(srv)
    r = browser.get("/oauth/authorize", params={"response_type": "code", "client_id": client.client_id,
                                                "redirect_uri": client.redirect_uri, "scope": "openid"})
    assert r.status_code in (302, 400), r.text
    if r.status_code == 302:
        assert "error=invalid_request" in r.headers["Location"]


def test_a_registered_confidential_client_authenticates_with_its_secret(srv):
    user = srv.create_user()
    client = as_client(registered(srv, {"redirect_uris": ["https://app.example.org/cb"], "scope": "openid email"}))
    verifier, challenge = pkce_pair()
    code = get_code(srv, client, user, scope="openid email", challenge=challenge)
    r = exchange_code(srv, client, code, verifier=verifier)
    assert r.status_code == 200, r.text
    assert "refresh_token" not in r.json(), "OpenID without offline_access: no refresh token (Core §11)"


def test_a_registered_client_cannot_ask_beyond_its_scopes_rfc6749_3_3(srv):
    user = srv.create_user()
    client = as_client(registered(srv, native(scope="openid")))
    location = Browser(srv).authorize({"response_type": "code", "client_id": client.client_id,
                                       "redirect_uri": client.redirect_uri, "scope": "openid users:read",
                                       "state": "s", "code_challenge": pkce_pair()[1],
                                       "code_challenge_method": "S256"}, user)
    assert "error=invalid_scope" in location


def test_the_consent_page_says_nobody_here_registered_it(srv):
    user = srv.create_user()
    client = as_client(registered(srv, native()))
    page = Browser(srv).consent_page({"response_type": "code", "client_id": client.client_id,
                                      "redirect_uri": client.redirect_uri, "scope": "openid", "state": "s",
                                      "code_challenge": pkce_pair()[1], "code_challenge_method": "S256"}, user)
    assert "registered itself" in page.text and "the operator of this server" not in page.text


def _asks(browser: Browser, client, redirect_uri: str | None = None) -> int:
    """The status of an authorization request by the signed-in browser: 200 the consent page, 302 remembered."""
    return browser.open_authorize({"response_type": "code", "client_id": client.client_id,
                                   "redirect_uri": redirect_uri or client.redirect_uri, "scope": "openid",
                                   "state": "s", "code_challenge": pkce_pair()[1],
                                   "code_challenge_method": "S256"}).status_code


@pytest.mark.parametrize("change", [
    {"redirect_uris": ["http://127.0.0.1:33418/callback", "http://127.0.0.1:47000/elsewhere"]},
    {"client_name": "A trusted name"},
    {"logo_uri": "https://logo.example.org/new.png"},
])
def test_a_client_that_changes_where_codes_go_or_how_it_looks_is_asked_for_again_rfc7592_2_2_rfc9700_4_1(srv, change):
    """RFC 7592 section 2.2 lets a registered client replace its redirect URIs, name and logo with its own
    token; a consent remembered for the old client must not send codes to the new addresses, nor vouch for the
    new face (RFC 9700 section 4.1, 4.7: users approve what the consent page showed). So every user is asked
    again; a replacement that keeps them (a new scope list, contacts) keeps the consent."""
    user = srv.create_user()
    info = registered(srv, native(logo_uri="https://logo.example.org/old.png"))
    client = as_client(info)
    browser = Browser(srv)
    consent = browser.consent_page({"response_type": "code", "client_id": client.client_id,
                                    "redirect_uri": client.redirect_uri, "scope": "openid", "state": "s",
                                    "code_challenge": pkce_pair()[1], "code_challenge_method": "S256"}, user)
    assert browser.decide(consent, "approve").status_code == 302
    assert _asks(browser, client) == 302, "not remembered to begin with"

    same = {k: v for k, v in info.items() if k in ("client_id", "client_name", "redirect_uris",
                                                   "token_endpoint_auth_method", "logo_uri")}
    assert manage("PUT", info, json={**same, "contacts": ["ops@example.org"]}).status_code == 200
    assert _asks(browser, client) == 302, "a change of nothing the user saw forgot the consent"

    r = manage("PUT", info, json={**same, **change})
    assert r.status_code == 200, r.text
    assert _asks(browser, client, r.json()["redirect_uris"][-1]) == 200, "the remembered consent outlived the change"


def test_a_consent_page_answered_after_the_client_changed_is_shown_again_rfc7592_2_2_rfc9700_4_1(srv):
    """The user opens the consent page; while it is open the client replaces its redirect URIs (RFC 7592 §2.2),
    keeping the old one and adding another. Approving the page, which showed the old client, neither sends a code
    nor remembers a consent the replacement would have forgotten: the page is shown again, for the client as it is
    now, and a request to the new redirect URI still asks the user (RFC 9700 §4.1: no code to an address the
    user never approved)."""
    user = srv.create_user()
    info = registered(srv, native())
    client = as_client(info)
    browser = Browser(srv)
    params = {"response_type": "code", "client_id": client.client_id, "redirect_uri": client.redirect_uri,
              "scope": "openid", "state": "s", "code_challenge": pkce_pair()[1], "code_challenge_method": "S256"}
    consent = browser.consent_page(params, user)

    elsewhere = "http://127.0.0.1:47000/elsewhere"
    same = {k: v for k, v in info.items() if k in ("client_id", "client_name", "token_endpoint_auth_method")}
    changed = manage("PUT", info, json={**same, "redirect_uris": [client.redirect_uri, elsewhere]})
    assert changed.status_code == 200, changed.text

    again = browser.decide(consent, "approve")
    assert again.status_code == 200 and "Authorization request" in again.text, \
        (again.status_code, again.headers.get("Location"))
    assert _asks(browser, client, elsewhere) == 200, "the stale page's approval was remembered for the new client"
    done = browser.decide(again, "approve")
    assert done.status_code == 302 and done.headers["Location"].startswith(client.redirect_uri), done.text[:300]
    assert _asks(browser, client, elsewhere) == 302, "an approval of the page shown now is remembered"


# -- browsers, administrators, the audit log -----------------------------------------------------------------

def test_browser_apps_may_register_and_manage_cross_origin_without_credentials(srv):
    """CORS (Fetch standard) on the registration endpoint and the configuration endpoints, never with
    credentials: they take no cookie."""
    pre = requests.options(srv.url("/oauth/register"), timeout=HTTP_TIMEOUT, headers={
        "Origin": ORIGIN, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"})
    assert pre.status_code == 204 and pre.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in pre.headers
    r = register(srv, native(redirect_uris=[ORIGIN + "/cb"]), headers={"Origin": ORIGIN})
    assert r.status_code == 201 and r.headers["Access-Control-Allow-Origin"] == "*"
    info = r.json()
    pre = requests.options(info["registration_client_uri"], timeout=HTTP_TIMEOUT, headers={
        "Origin": ORIGIN, "Access-Control-Request-Method": "PUT", "Access-Control-Request-Headers": "authorization"})
    assert pre.status_code == 204 and "PUT" in pre.headers["Access-Control-Allow-Methods"]
    read = manage("GET", info, headers={"Origin": ORIGIN})
    assert read.headers["Access-Control-Allow-Origin"] == "*"


def test_registered_clients_are_marked_on_the_admin_page_and_audited_without_secrets(srv):
    info = registered(srv, native(client_name=unique("Marked agent")))
    admin = admin_api(srv)
    browser = Browser(srv)
    browser.login(User("admin", srv.admin_password, "", None))
    listing = browser.get("/admin/auth-clients", params={"q": info["client_id"]})
    assert listing.status_code == 200
    assert info["client_name"] in listing.text and ">registered</span>" in listing.text
    made = srv.create_client(name=unique("Made by hand"), redirect_uris=["https://x.example.org/cb"])
    other = browser.get("/admin/auth-clients", params={"q": made.client_id})
    assert made.name in other.text and ">registered</span>" not in other.text
    assert browser.get(f"/admin/auth-clients/{info['client_id']}").status_code == 200
    events = admin.get("/security_logs", params={"filter": "client.registered", "per_page": 100}).json()["data"]
    mine = [e for e in events if e["subject"] == info["client_id"]]
    assert mine and mine[0]["event"] == "client.registered" and mine[0]["ip"].startswith("127.0.")
    confidential = registered(srv, native(token_endpoint_auth_method="client_secret_basic"))
    dump = srv.db.dump_text()
    for secret in (info["registration_access_token"], confidential["registration_access_token"],
                   confidential["client_secret"]):
        assert secret not in dump, "stored hashed, never in the audit log"


def test_an_administrator_deletes_a_registered_client(srv):
    info = registered(srv, native())
    admin = admin_api(srv)
    assert admin.get(f"/oauth/clients/{info['client_id']}").json()["registered_at"]
    assert admin.delete(f"/oauth/clients/{info['client_id']}").status_code == 204
    assert_registration_error(manage("GET", info), "invalid_token", 401)


# -- registration off (the default) --------------------------------------------------------------------------

def test_with_registration_off_it_is_neither_advertised_nor_served(server):
    meta = requests.get(server.url("/.well-known/openid-configuration"), timeout=HTTP_TIMEOUT).json()
    assert "registration_endpoint" not in meta
    assert "none" in meta["token_endpoint_auth_methods_supported"]
    r = register(server, native())
    assert_registration_error(r, "not_found", 404)
    assert_registration_error(requests.get(server.url("/oauth/register/anything"), timeout=HTTP_TIMEOUT,
                                           headers={"Authorization": "Bearer x"}), "not_found", 404)
