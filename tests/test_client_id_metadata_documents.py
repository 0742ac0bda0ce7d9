"""Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document, as MCP uses them): a client
whose ``client_id`` is the URL of its own metadata, served by the test on loopback — which authgate reaches
only under the test-only ``AUTHGATE_FETCH_ALLOW_PRIVATE=1`` (unsafe in production) — through a full code
flow with PKCE, and the refusals of the safe fetcher and of the document's checks, each document fetched
at most once within its cache lifetime (requests counted at the test server)."""

from __future__ import annotations

import pytest
import requests

from support import Client, ServerProcess, pkce_pair, unique
from support.browser import Browser
from support.oauth import authorization_params, get_code

HTTP_TIMEOUT = 15
REDIRECT = "http://127.0.0.1:8765/callback"


@pytest.fixture(scope="module")
def cimd_server(tmp_path_factory):
    srv = ServerProcess(tmp_path_factory.mktemp("cimd"), env={
        "AUTHGATE_CIMD": "on", "AUTHGATE_FETCH_ALLOW_PRIVATE": "1",
        "AUTHGATE_CIMD_DENY_DOMAINS": "denied.example"}).start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def strict_server(tmp_path_factory):
    """CIMD on, loopback and plain http refused: the production policy."""
    srv = ServerProcess(tmp_path_factory.mktemp("cimd-strict"), env={"AUTHGATE_CIMD": "on"}).start()
    yield srv
    srv.stop()


def publish(documents, name: str = "Agent", redirect_uris=(REDIRECT,), **fields) -> tuple[str, str]:
    path = f"/{unique('client')}/metadata.json"
    url = documents.url(path)
    documents.publish(path, {"client_id": url, "client_name": name, "redirect_uris": list(redirect_uris),
                             "token_endpoint_auth_method": "none", **fields},
                      headers={"Cache-Control": "max-age=600"})
    return path, url


def authorize_page(server, client_id: str, redirect_uri: str = REDIRECT) -> requests.Response:
    params = {"response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri, "state": "s",
              "code_challenge": pkce_pair()[1], "code_challenge_method": "S256"}
    return requests.get(server.url("/oauth/authorize"), params=params, allow_redirects=False, timeout=HTTP_TIMEOUT)


def test_metadata_advertises_the_documents_only_when_on(cimd_server, server):
    """The draft's ``client_id_metadata_document_supported``, only where it is implemented and on."""
    on = requests.get(cimd_server.url("/.well-known/oauth-authorization-server"), timeout=HTTP_TIMEOUT).json()
    off = requests.get(server.url("/.well-known/oauth-authorization-server"), timeout=HTTP_TIMEOUT).json()
    assert on["client_id_metadata_document_supported"] is True
    assert "client_id_metadata_document_supported" not in off


def test_a_code_flow_with_pkce_reaches_a_token(cimd_server, documents):
    """The document is the client: authorize (consent shows the host and the localhost warning), code,
    token as a public client with PKCE (RFC 7636); the document fetched once for the whole flow."""
    path, url = publish(documents, name="Test Agent")
    user = cimd_server.create_user()
    browser = Browser(cimd_server)
    client = Client(client_id=url, client_secret=None, name="Test Agent", redirect_uris=[REDIRECT])
    verifier, challenge = pkce_pair()
    consent = browser.consent_page(authorization_params(client, scope=None, challenge=challenge), user)
    assert "127.0.0.1" in consent.text and "runs on your own computer" in consent.text, consent.text
    code = get_code(cimd_server, client, user, browser=browser, scope=None, challenge=challenge)
    r = requests.post(cimd_server.url("/oauth/token"), data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "client_id": url,
        "code_verifier": verifier}, timeout=HTTP_TIMEOUT)
    assert r.status_code == 200, r.text
    assert r.json()["access_token"]
    assert documents.hits[path] == 1


def test_a_redirect_uri_not_in_the_document_is_refused(cimd_server, documents):
    """Redirect URIs are the document's, matched exactly (RFC 9700 §4.1.3): no redirect to another."""
    _, url = publish(documents)
    r = authorize_page(cimd_server, url, "https://attacker.example/cb")
    assert r.status_code == 400 and "Location" not in r.headers


def test_a_document_whose_client_id_differs_is_refused_and_not_fetched_again(cimd_server, documents):
    """The draft: the document's ``client_id`` must equal its URL; the failure is remembered briefly."""
    path = f"/{unique('client')}/metadata.json"
    documents.publish(path, {"client_id": "https://someone.else.example/metadata.json", "redirect_uris": [REDIRECT]})
    url = documents.url(path)
    for _ in range(2):
        r = authorize_page(cimd_server, url)
        assert r.status_code == 400 and "client_id is not exactly its URL" in r.text
    assert documents.hits[path] == 1


def test_a_redirecting_document_is_refused(cimd_server, documents):
    """The safe fetcher follows no redirect (a document cannot send authgate elsewhere)."""
    path = f"/{unique('client')}/metadata.json"
    documents.publish(path, b"", status=302, headers={"Location": documents.url("/elsewhere.json")})
    for _ in range(2):
        r = authorize_page(cimd_server, documents.url(path))
        assert r.status_code == 400 and "redirect" in r.text
    assert documents.hits[path] == 1 and documents.hits["/elsewhere.json"] == 0


def test_an_oversized_document_is_refused(cimd_server, documents):
    """The safe fetcher's 64 KB cap."""
    path = f"/{unique('client')}/metadata.json"
    url = documents.url(path)
    documents.publish(path, {"client_id": url, "redirect_uris": [REDIRECT], "padding": "x" * 70_000})
    for _ in range(2):
        r = authorize_page(cimd_server, url)
        assert r.status_code == 400 and "larger than" in r.text
    assert documents.hits[path] == 1


def test_a_document_on_a_private_address_is_refused_without_the_policy(strict_server, documents):
    """Without ``AUTHGATE_FETCH_ALLOW_PRIVATE`` nothing on loopback (nor plain http) is fetched."""
    path, url = publish(documents)
    r = authorize_page(strict_server, url)
    assert r.status_code == 400 and "https" in r.text
    assert documents.hits[path] == 0
    r = authorize_page(strict_server, "https://127.0.0.1:1/client/metadata.json")
    assert r.status_code == 400 and "non-public address" in r.text


def test_a_denied_domain_is_refused_before_any_fetch(cimd_server):
    """Operators deny domains (``AUTHGATE_CIMD_DENY_DOMAINS``), subdomains included."""
    r = authorize_page(cimd_server, "https://app.denied.example/client.json")
    assert r.status_code == 400 and "not accepted here" in r.text


def test_the_token_endpoint_refuses_a_bad_document_as_invalid_client(cimd_server, documents):
    """At the token endpoint the same refusal is ``invalid_client`` (RFC 6749 §5.2)."""
    path = f"/{unique('client')}/metadata.json"
    documents.publish(path, {"client_id": "https://other.example/x.json", "redirect_uris": [REDIRECT]})
    r = requests.post(cimd_server.url("/oauth/token"), data={
        "grant_type": "authorization_code", "code": "x", "redirect_uri": REDIRECT,
        "client_id": documents.url(path), "code_verifier": "v" * 43}, timeout=HTTP_TIMEOUT)
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"
    assert "not exactly its URL" in r.json()["error_description"] and "WWW-Authenticate" in r.headers


def test_a_document_client_with_keys_authenticates_with_private_key_jwt(cimd_server, documents):
    """The draft lets a document name ``private_key_jwt`` with a ``jwks_uri`` (RFC 7523 §2.2): the code is
    exchanged with an assertion made by requests-oauth2client, the key set fetched by the safe fetcher."""
    from joserfc.jwk import ECKey
    from requests_oauth2client import OAuth2Client, PrivateKeyJwt

    key = ECKey.generate_key("P-256", parameters={"kid": unique("ec")})
    jwks_uri = documents.publish(f"/{unique('jwks')}.json", {"keys": [key.as_dict(private=False)]})
    path, url = publish(documents, name="Keyed Agent", token_endpoint_auth_method="private_key_jwt",
                        jwks_uri=jwks_uri)
    user = cimd_server.create_user()
    client = Client(client_id=url, client_secret=None, name="Keyed Agent", redirect_uris=[REDIRECT])
    verifier, challenge = pkce_pair()
    code = get_code(cimd_server, client, user, scope=None, challenge=challenge)
    oauth = OAuth2Client(token_endpoint=cimd_server.url("/oauth/token"),
                         auth=PrivateKeyJwt(url, key.as_dict(private=True), alg="ES256"), testing=True)
    token = oauth.authorization_code(code=code, redirect_uri=REDIRECT, code_verifier=verifier)
    assert token.access_token
    r = requests.post(cimd_server.url("/oauth/token"), data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "client_id": url,
        "code_verifier": verifier}, timeout=HTTP_TIMEOUT)
    assert r.status_code == 401, r.text
    assert documents.hits[path] == 1


def test_a_document_that_changes_its_redirect_uris_is_asked_for_again_rfc9700_4_1(server_factory, documents):
    """A metadata document is the client's own to rewrite, as an RFC 7592 section 2.2 replacement is: once a
    fresh fetch says it sends codes elsewhere (or shows another name), a consent remembered for the old
    document no longer covers it (RFC 9700 section 4.1) and the user sees the consent page again."""
    srv = server_factory({"AUTHGATE_CIMD": "on", "AUTHGATE_FETCH_ALLOW_PRIVATE": "1"})
    path, url = publish(documents, name="Agent")
    user = srv.create_user()
    browser = Browser(srv)
    client = Client(client_id=url, client_secret=None, name="Agent", redirect_uris=[REDIRECT])
    consent = browser.consent_page(authorization_params(client, scope=None, challenge=pkce_pair()[1]), user)
    assert browser.decide(consent, "approve").status_code == 302
    assert browser.open_authorize(authorization_params(client, scope=None, challenge=pkce_pair()[1])).status_code == 302

    elsewhere = "http://127.0.0.1:8766/elsewhere"
    documents.publish(path, {"client_id": url, "client_name": "Agent", "redirect_uris": [REDIRECT, elsewhere],
                             "token_endpoint_auth_method": "none"}, headers={"Cache-Control": "max-age=600"})
    srv.stop(drop_database=False)
    srv.start()  # the fetcher's cache is the process's: a new one fetches the new document
    again = browser.open_authorize(authorization_params(client, redirect_uri=elsewhere, scope=None,
                                                        challenge=pkce_pair()[1]))
    assert again.status_code == 200, f"the remembered consent outlived the new document: {again.status_code}"
    assert "elsewhere" in again.text, "not the consent page for the new redirect URI"
