"""Disabling a client (an administrator's page, the API with ``edit-auth_clients``, ``authgate clients disable``),
seen from the side that is refused: every endpoint that authenticates a client answers ``invalid_client``
(RFC 6749 §5.2; RFC 9126 §2.1 PAR, RFC 7662 §2.1 introspection, RFC 7009 §2.1 revocation, RFC 8628 §3.1 device
authorization), /oauth/authorize shows an error page (RFC 6749 §4.1.2.1: no redirect for a client that cannot
be trusted), its tokens stop working at the API (RFC 6750 §3.1 ``invalid_token``) and at introspection
(``active: false``), and enabling it again lets it get new tokens while the old ones stay revoked.

The disable comes from another process than the server (the CLI's commands, run by the test), after the server
has the client in its memory: the server hears it through the event log (the cache bus). Clients known by their
metadata document (their ``client_id`` a URL, here longer than an event's subject) are listed, read and disabled
by their ``doc-<n>`` key, and cannot be edited."""

from __future__ import annotations

import time
from urllib.parse import quote

import pytest
import requests

from support import (
    Api, Browser, Client, User, api_for, assert_forbidden, assert_invalid, assert_unauthenticated, eventually,
    grant, introspect, password_grant, pkce_pair, revoke, token_request, unique, users_me,
)
from support.oauth import get_code
from support.pages import parse_page
from support.registration import manage, registered

HTTP_TIMEOUT = 15
REDIRECT = "http://127.0.0.1:8765/callback"
GRANTS = ("authorization_code", "password", "client_credentials", "device_code", "refresh_token")


@pytest.fixture(scope="module")
def authgate(server_factory):
    """Open registration (RFC 7591) and metadata documents fetched from the test's loopback server."""
    return server_factory({"AUTHGATE_REGISTRATION": "open", "AUTHGATE_CIMD": "on",
                           "AUTHGATE_FETCH_ALLOW_PRIVATE": "1"})


@pytest.fixture(scope="module")
def admin_api(authgate) -> Api:
    return api_for(authgate, "admin")


def cli(authgate, *args):
    return authgate.commands.run_json(*args)


def refused(response: requests.Response) -> bool:
    return response.status_code == 401 and response.json().get("error") == "invalid_client"


def client_credentials(authgate, client: Client) -> requests.Response:
    return token_request(authgate, {"grant_type": "client_credentials"}, auth=client.basic)


def authorize_params(client_id: str) -> dict:
    return {"response_type": "code", "client_id": client_id, "redirect_uri": REDIRECT, "state": "s",
            "code_challenge": pkce_pair()[1], "code_challenge_method": "S256"}


def authorize_page(authgate, client_id: str) -> requests.Response:
    return requests.get(authgate.url("/oauth/authorize"), params=authorize_params(client_id), allow_redirects=False,
                        timeout=HTTP_TIMEOUT)


@pytest.fixture(scope="module")
def disabled(authgate):
    """A confidential client with every grant and a user's tokens from it, disabled by the CLI once the server had
    it in memory: (client, user, the tokens issued before, a second client that introspects)."""
    client = authgate.create_client(redirect_uris=[REDIRECT], grants=GRANTS)
    other = authgate.create_client(grants=("client_credentials",))
    user = authgate.create_user()
    before = password_grant(authgate, client, user, scope="users:read")
    assert before.status_code == 200, before.text
    assert client_credentials(authgate, client).status_code == 200
    assert authorize_page(authgate, client.client_id).status_code == 303, "the server knows the client"
    data = cli(authgate, "clients", "disable", client.client_id)
    assert data["revoked"] is True and data["disabled_at"]
    assert refused(client_credentials(authgate, client)), "refused at once: tokens are issued after a look at its row"
    eventually(lambda: authorize_page(authgate, client.client_id), lambda r: r.status_code == 400)
    return client, user, before.json(), other


def test_the_token_endpoint_refuses_a_disabled_client_rfc6749_5_2(disabled, authgate):
    """Every grant of the token endpoint, the password grant and a refresh included: 401 ``invalid_client``."""
    client, user, before, _ = disabled
    for response in (client_credentials(authgate, client), password_grant(authgate, client, user),
                     token_request(authgate, {"grant_type": "refresh_token", "refresh_token": before["refresh_token"]},
                                   auth=client.basic)):
        assert refused(response), response.text


def test_par_introspection_revocation_and_device_refuse_it(disabled, authgate):
    """RFC 9126 §2.1, RFC 7662 §2.1, RFC 7009 §2.1 and RFC 8628 §3.1 all authenticate the client first."""
    client, _, before, _ = disabled
    par = requests.post(authgate.url("/oauth/par"), data=authorize_params(client.client_id), auth=client.basic,
                        timeout=HTTP_TIMEOUT)
    device = requests.post(authgate.url("/oauth/device"), data={"scope": "users:read"}, auth=client.basic,
                           timeout=HTTP_TIMEOUT)
    for response in (par, introspect(authgate, client, before["access_token"]),
                     revoke(authgate, client, before["refresh_token"]), device):
        assert refused(response), (response.request.url, response.text)


def test_the_authorization_endpoint_shows_an_error_page_rfc6749_4_1_2_1(disabled, authgate):
    """No redirect back to the client (its redirect URI is no longer to be trusted): a page that says it."""
    client, *_ = disabled
    r = authorize_page(authgate, client.client_id)
    assert r.status_code == 400 and "Location" not in r.headers
    assert "This application has been disabled." in r.text and "invalid_client" in r.text


def test_its_tokens_stop_working_at_the_api_and_introspection_rfc6750_3_1(disabled, authgate):
    """The access token issued before is refused by the API's bearer check and is inactive to any other client
    (RFC 7662 §2.2); its refresh token too."""
    _, _, before, other = disabled
    assert_unauthenticated(users_me(authgate, before["access_token"]))
    for token in (before["access_token"], before["refresh_token"]):
        r = introspect(authgate, other, token)
        assert r.status_code == 200 and r.json() == {"active": False}, r.text


def test_enabling_it_again_gives_new_tokens_and_leaves_the_old_ones_revoked(disabled, authgate):
    """Enable restores the client; what was revoked at disable stays revoked (a token that leaked while the client
    was disabled must not come back to life)."""
    client, user, before, other = disabled
    cli(authgate, "clients", "enable", client.client_id)
    fresh = eventually(lambda: password_grant(authgate, client, user, scope="users:read"),
                       lambda r: r.status_code == 200)
    assert fresh.status_code == 200, fresh.text
    assert users_me(authgate, fresh.json()["access_token"]).status_code == 200
    assert_unauthenticated(users_me(authgate, before["access_token"]))
    old_refresh = token_request(authgate, {"grant_type": "refresh_token", "refresh_token": before["refresh_token"]},
                                auth=client.basic)
    assert old_refresh.status_code == 400 and old_refresh.json()["error"] == "invalid_grant", old_refresh.text
    assert introspect(authgate, other, before["access_token"]).json() == {"active": False}
    cli(authgate, "clients", "disable", client.client_id)


def test_disabling_through_the_api_needs_edit_auth_clients_and_is_audited(authgate, admin_api):
    """The permission check is the service's: a token with ``clients:write`` whose user lacks
    ``edit-auth_clients`` gets 403 and changes nothing; with the permission it disables, and the security log has
    ``client.disabled`` and ``client.enabled``."""
    client = authgate.create_client(grants=("client_credentials",))
    person = authgate.create_user()
    without = api_for(authgate, person.username, scopes=("clients:read", "clients:write"))
    assert_forbidden(without.post(f"/oauth/clients/{client.client_id}/disable"))
    assert client_credentials(authgate, client).status_code == 200, "still usable after the refused request"
    grant(admin_api, person.id, "edit-auth_clients")
    body = without.ok("POST", f"/oauth/clients/{client.client_id}/disable")
    assert body["revoked"] is True and body["disabled_at"]
    assert refused(client_credentials(authgate, client))
    assert without.ok("POST", f"/oauth/clients/{client.client_id}/enable")["disabled_at"] is None
    assert eventually(lambda: client_credentials(authgate, client), lambda r: r.status_code == 200).status_code == 200
    log = admin_api.ok("GET", "/security_logs", params={"filter": client.client_id, "per_page": 100})["data"]
    events = [e["event"] for e in log if e.get("subject") == client.client_id]
    assert "client.disabled" in events and "client.enabled" in events, log


def test_a_disabled_registered_client_cannot_manage_its_registration_rfc7592_2(authgate, admin_api):
    """A client that registered itself (RFC 7591) is disabled like any other; its registration access token then
    reads, changes and deletes nothing (RFC 7592 §2: 401), so it cannot undo what the administrator did."""
    info = registered(authgate, {"client_name": unique("agent"), "redirect_uris": [REDIRECT],
                                 "grant_types": ["authorization_code", "refresh_token"]})
    assert manage("GET", info).status_code == 200
    admin_api.ok("POST", f"/oauth/clients/{info['client_id']}/disable")
    for method in ("GET", "DELETE"):
        r = manage(method, info)
        assert r.status_code == 401, r.text
    assert admin_api.ok("GET", f"/oauth/clients/{info['client_id']}")["revoked"] is True


def admin_browser(authgate) -> Browser:
    browser = Browser(authgate)
    browser.login(User("admin", authgate.admin_password, "", 1))
    return browser


def confirm(browser: Browser, page_url: str) -> requests.Response:
    """Open a confirmation page and press its button (the form carries the CSRF token)."""
    page = browser.get(page_url)
    assert page.status_code == 200, page.text[:300]
    [form] = [f for f in parse_page(page.text).forms if f.method == "post" and f.action == page_url]
    return browser.post(page_url, data={"csrf_token": form.input("csrf_token")["value"]})


def test_an_administrator_disables_and_enables_a_client_on_its_page(authgate):
    """The client's page links to a confirmation (no state change on GET); once confirmed the client is refused
    and its page says it is disabled, with the way back (Enable)."""
    client = authgate.create_client(grants=("client_credentials",))
    browser = admin_browser(authgate)
    page = f"/admin/auth-clients/{client.client_id}"
    assert f'href="{page}/disable"' in browser.get(page).text
    assert client_credentials(authgate, client).status_code == 200, "a GET of the confirmation changes nothing"
    assert confirm(browser, f"{page}/disable").status_code == 303
    assert refused(client_credentials(authgate, client))
    shown = browser.get(page).text
    assert "is <strong>disabled</strong>" in shown and f'href="{page}/enable"' in shown
    assert "disabled</span>" in browser.get(f"/admin/auth-clients?q={client.client_id}").text
    assert confirm(browser, f"{page}/enable").status_code == 303
    assert client_credentials(authgate, client).status_code == 200


# -- clients known by their metadata document ------------------------------------------------------------------


@pytest.fixture(scope="module")
def document_client(authgate, documents):
    """A metadata document client whose URL is longer than an event's subject (128 characters), made by a first
    authorization request: (its URL, its doc-<n> key)."""
    path = f"/{unique('agent')}/{'x' * 120}/client.json"
    url = documents.url(path)
    assert len(url) > 128
    documents.publish(path, {"client_id": url, "client_name": "Long agent", "redirect_uris": [REDIRECT],
                             "token_endpoint_auth_method": "none"}, headers={"Cache-Control": "max-age=600"})
    assert authorize_page(authgate, url).status_code == 303, "accepted: on to the sign-in"
    [row] = [c for c in cli(authgate, "clients", "list")["clients"] if c["client_id"] == url]
    assert row["id"].startswith("doc-") and row["metadata_document"] is True
    return url, row["id"]


def test_a_document_client_is_read_by_its_key_and_not_edited_here(authgate, admin_api, document_client):
    """Its ``client_id`` (a URL) fits no path segment: the API reads it by ``id`` (``doc-<n>``), and refuses any
    change, which only its document may make (422); a ``doc-<n>`` naming an ordinary client's row is 404."""
    url, key = document_client
    listed = admin_api.ok("GET", "/oauth/clients", params={"filter": "Long agent", "per_page": 100})["data"]
    assert [c["id"] for c in listed if c["client_id"] == url] == [key]
    shown = admin_api.ok("GET", f"/oauth/clients/{key}")
    assert shown["client_id"] == url and shown["metadata_document"] is True
    assert_invalid(admin_api.put(f"/oauth/clients/{key}", json={"name": "Renamed"}), "client_id")
    assert_invalid(admin_api.post(f"/oauth/clients/{key}/secret"), "client_id")
    assert admin_api.ok("GET", f"/oauth/clients/{key}")["name"] == "Long agent"
    ordinary = authgate.create_client(grants=("client_credentials",))
    row_id = admin_api.ok("GET", "/oauth/clients", params={"filter": ordinary.client_id})["data"][0]
    assert row_id["id"] == ordinary.client_id
    assert admin_api.get(f"/oauth/clients/{quote(url, safe='')}").status_code == 404


def test_the_admin_page_of_a_document_client_shows_the_document_and_no_form(authgate, document_client):
    url, key = document_client
    browser = admin_browser(authgate)
    listing = browser.get("/admin/auth-clients?q=Long+agent")
    assert f'href="/admin/auth-clients/{key}"' in listing.text
    page = browser.get(f"/admin/auth-clients/{key}")
    assert page.status_code == 200 and url in page.text and "only that document changes it" in page.text
    assert 'name="redirect_uris"' not in page.text and f"/admin/auth-clients/{key}/disable" in page.text
    csrf = browser.single_form(browser.get("/admin/auth-clients/new")).input("csrf_token")["value"]
    edit = browser.post(f"/admin/auth-clients/{key}", data={"name": "Renamed", "csrf_token": csrf})
    assert edit.status_code == 422
    assert browser.get(f"/admin/auth-clients/{key}").text.count("Renamed") == 0


def test_disabling_a_document_client_by_its_key_reaches_the_server_at_once(authgate, document_client):
    """Disabled by the CLI by its key, while the server has it in memory: its next authorization request gets the
    error page, although the event's subject holds only the first 128 characters of its id; enabled again, it is
    accepted again."""
    url, key = document_client
    assert authorize_page(authgate, url).status_code == 303
    cli(authgate, "clients", "disable", key)
    page = eventually(lambda: authorize_page(authgate, url), lambda r: r.status_code == 400)
    assert page.status_code == 400 and "This application has been disabled." in page.text
    token = token_request(authgate, {"grant_type": "authorization_code", "code": "x", "redirect_uri": REDIRECT,
                                     "client_id": url, "code_verifier": "v" * 43})
    assert refused(token), token.text
    cli(authgate, "clients", "enable", url)
    assert eventually(lambda: authorize_page(authgate, url), lambda r: r.status_code == 303).status_code == 303


def test_deleting_a_long_url_document_client_ends_its_tokens_at_once_rfc6750_3_1(authgate, documents):
    """A deleted client's tokens are refused from memory by every worker; the event names the client by the first
    128 characters of its id, and that must still match a metadata document's longer URL."""
    path = f"/{unique('agent')}/{'y' * 120}/client.json"
    url = documents.url(path)
    documents.publish(path, {"client_id": url, "client_name": "Deleted agent", "redirect_uris": [REDIRECT],
                             "token_endpoint_auth_method": "none"}, headers={"Cache-Control": "max-age=600"})
    client = Client(client_id=url, client_secret=None, name="Deleted agent", redirect_uris=[REDIRECT])
    verifier, challenge = pkce_pair()
    code = get_code(authgate, client, authgate.create_user(), scope=None, challenge=challenge)
    r = token_request(authgate, {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
                                 "client_id": url, "code_verifier": verifier})
    assert r.status_code == 200, r.text
    token = r.json()["access_token"]
    assert users_me(authgate, token).status_code == 403, "a working token, without the scope users:read"
    key = [c["id"] for c in cli(authgate, "clients", "list")["clients"] if c["client_id"] == url][0]
    cli(authgate, "clients", "delete", key)
    assert eventually(lambda: users_me(authgate, token), lambda r: r.status_code == 401).status_code == 401


# -- sign-out: RP-Initiated Logout 1.0 and Back-Channel Logout 1.0 ------------------------------------------------


def test_a_disabled_client_is_neither_redirected_to_nor_posted_at_sign_out(authgate):
    """RP-Initiated Logout 1.0 §3.1 follows a ``post_logout_redirect_uri`` registered for the client; a client an
    administrator disabled is no longer to be trusted with the browser (as RFC 6749 §4.1.2.1 for its redirect URI),
    so the user sees the plain signed-out page, not naming it. Its back-channel endpoint (Back-Channel Logout 1.0
    §2.5) gets no logout token either, while an enabled client signed in through the same session gets one."""
    from test_oidc_logout import RelyingParty, make_rp, verified
    from support import authorization_params, exchange_code, query_params

    enabled_rp, disabled_rp = RelyingParty(), RelyingParty()
    try:
        user = authgate.create_user()
        browser = Browser(authgate)
        browser.login(user)
        id_tokens = {}
        for rp_endpoint in (enabled_rp, disabled_rp):
            rp = make_rp(authgate, rp_endpoint.uri)
            client = Client(rp["client_id"], rp["client_secret"], rp["name"], [rp["redirect_uri"]])
            location = browser.authorize(authorization_params(client, scope="openid", nonce=unique("n")), user)
            r = exchange_code(authgate, client, query_params(location)["code"])
            assert r.status_code == 200, r.text
            id_tokens[rp_endpoint] = (rp, r.json()["id_token"])
        rp, id_token = id_tokens[disabled_rp]
        cli(authgate, "clients", "disable", rp["client_id"])
        query = {"id_token_hint": id_token, "post_logout_redirect_uri": rp["bye"], "state": "st"}
        r = browser.get("/oauth/logout", params=query)
        assert r.status_code == 200 and "Location" not in r.headers, (r.status_code, r.headers.get("Location"))
        assert "You are signed out" in r.text and rp["name"] not in r.text and rp["bye"] not in r.text
        assert browser.get("/logout").status_code != 200, "the session ended"
        [received] = enabled_rp.wait_for(1)
        assert verified(authgate, received["logout_token"][0])["aud"] == id_tokens[enabled_rp][0]["client_id"]
        time.sleep(2)
        assert disabled_rp.received == [], "a logout token was posted to the disabled client"
        anonymous = requests.get(authgate.url("/oauth/logout"), params={"client_id": rp["client_id"], **query},
                                 allow_redirects=False, timeout=HTTP_TIMEOUT)
        assert anonymous.status_code == 200 and "Location" not in anonymous.headers
    finally:
        enabled_rp.close()
        disabled_rp.close()


# -- in flight while the client is disabled -------------------------------------------------------------------


def test_no_token_issued_while_a_client_is_disabled_outlives_the_disable_rfc6749_5_2(authgate, admin_api):
    """Token requests in flight while an administrator disables the client (authenticated from the worker's memory
    just before): whatever they got is revoked with the rest, so once enabled again introspection (RFC 7662 §2.2)
    finds none of them active, and every request after the disable answered is refused (RFC 6749 §5.2)."""
    import threading

    client = authgate.create_client(grants=("client_credentials",))
    assert client_credentials(authgate, client).status_code == 200
    issued, after, stop, disabled_at = [], [], threading.Event(), []

    def hammer():
        with requests.Session() as http:
            while not stop.is_set():
                started = time.monotonic()
                r = http.post(authgate.url("/oauth/token"), data={"grant_type": "client_credentials"},
                              auth=client.basic, timeout=HTTP_TIMEOUT)
                if r.status_code == 200:
                    issued.append(r.json()["access_token"])
                if disabled_at and started > disabled_at[0]:
                    after.append(r.status_code)

    threads = [threading.Thread(target=hammer) for _ in range(6)]
    for thread in threads:
        thread.start()
    time.sleep(0.5)
    admin_api.ok("POST", f"/oauth/clients/{client.client_id}/disable")
    disabled_at.append(time.monotonic())
    time.sleep(0.5)
    stop.set()
    for thread in threads:
        thread.join()
    assert after and 200 not in after, after
    admin_api.ok("POST", f"/oauth/clients/{client.client_id}/enable")
    alive = [t for t in issued if introspect(authgate, client, t).json().get("active")]
    assert alive == [], f"{len(alive)} of {len(issued)} tokens issued around the disable still work"
