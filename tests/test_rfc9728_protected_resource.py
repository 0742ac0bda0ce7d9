"""RFC 9728 protected resource metadata for authgate's own API, its ``resource_metadata`` in the API's
``WWW-Authenticate`` challenges, and RFC 8414 §3.1 path-inserted discovery for an issuer with a path.
Real servers over HTTP."""

from __future__ import annotations

import pytest
import requests

from support.api import users_me
from support.server import ServerProcess
from support.values import unique

WELL_KNOWN = "/.well-known/oauth-protected-resource"


def metadata(server, path: str) -> dict:
    r = requests.get(server.url(path), timeout=10)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/json")
    return r.json()


def params(challenge: str) -> dict:
    scheme, _, rest = challenge.partition(" ")
    assert scheme == "Bearer", challenge
    found = {}
    for part in rest.split('", '):
        name, _, value = part.partition("=")
        found[name.strip()] = value.strip().strip('"')
    return found


def test_api_metadata_content_rfc9728_2_and_3(server):
    """RFC 9728 §2, §3.1, §3.3: at the identifier's path-inserted URL, ``resource`` is that identifier,
    this server is its authorization server, the scopes are the API's, the token goes in the header."""
    identifier = server.issuer + "/api/1.0"
    doc = metadata(server, WELL_KNOWN + "/api/1.0")
    assert doc["resource"] == identifier
    assert doc["authorization_servers"] == [server.issuer]
    assert doc["bearer_methods_supported"] == ["header"]
    assert {"users:read", "users:write", "clients:read", "*"} <= set(doc["scopes_supported"])
    assert not {"openid", "profile", "email", "offline_access"} & set(doc["scopes_supported"])
    assert doc["resource_name"] == "authgate API"
    assert doc["resource_documentation"] == server.issuer + "/api/documentation"
    assert metadata(server, WELL_KNOWN) == doc


def test_authorization_server_names_the_api_rfc9728_4(server):
    """RFC 9728 §4: the authorization server's metadata lists the protected resource it serves."""
    meta = metadata(server, "/.well-known/oauth-authorization-server")
    assert meta["protected_resources"] == [server.issuer + "/api/1.0"]


def test_unknown_path_inserted_metadata_is_404(server):
    """RFC 9728 §3.1: only the API's own path has metadata here."""
    for path in (WELL_KNOWN + "/api/2.0", WELL_KNOWN + "/other", "/.well-known/oauth-authorization-server/x"):
        r = requests.get(server.url(path), timeout=10)
        assert r.status_code == 404 and r.json() == {"error": "Not Found"}, (path, r.text)


@pytest.mark.parametrize("authorization", [None, "Bearer not-a-token", "Bearer " + "e30.e30.e30"])
def test_api_401_names_its_metadata_rfc9728_5_1(server, authorization):
    """RFC 9728 §5.1: ``WWW-Authenticate: Bearer resource_metadata="..."`` on the API's 401s (RFC 6750 §3)."""
    headers = {"Authorization": authorization} if authorization else {}
    r = requests.get(server.url("/api/1.0/users/me"), headers=headers, timeout=10)
    assert r.status_code == 401, r.text
    found = params(r.headers["WWW-Authenticate"])
    assert found["resource_metadata"] == server.issuer + WELL_KNOWN + "/api/1.0"
    if authorization:
        assert found["error"] == "invalid_token"


def test_api_403_insufficient_scope_rfc6750_3_1(server):
    """RFC 6750 §3.1 and RFC 9728 §5.1: a token lacking the scope: 403 ``insufficient_scope`` with the
    scope needed, and the metadata URL."""
    user = server.create_user()
    token = server.create_pat(user.username, scopes=["tokens:read"])["token"]
    r = users_me(server, token)
    assert r.status_code == 403, r.text
    found = params(r.headers["WWW-Authenticate"])
    assert found["error"] == "insufficient_scope" and found["scope"] == "users:read"
    assert found["resource_metadata"] == server.issuer + WELL_KNOWN + "/api/1.0"


def test_userinfo_challenge_is_not_the_apis(server):
    """UserInfo is the authorization server's endpoint, not the API: no ``resource_metadata`` there."""
    r = requests.get(server.url("/oauth/userinfo"), timeout=10)
    assert r.status_code == 401 and "resource_metadata" not in r.headers["WWW-Authenticate"]


def test_metadata_is_readable_cross_origin(server):
    """Browser-based clients (MCP's among them) read the metadata from another origin."""
    r = requests.get(server.url(WELL_KNOWN + "/api/1.0"), headers={"Origin": "https://app.example"}, timeout=10)
    assert r.headers.get("Access-Control-Allow-Origin") == "*"


@pytest.fixture(scope="module")
def prefixed(tmp_path_factory):
    """A server whose issuer has a path (``/auth``), as behind a proxy that strips that prefix."""
    srv = ServerProcess(tmp_path_factory.mktemp("authgate-prefixed"))
    srv.issuer = srv.base_url + "/auth"
    srv.env["AUTHGATE_ISSUER"] = srv.issuer
    srv.start()
    yield srv
    srv.stop()


def test_path_inserted_discovery_rfc8414_3_1(prefixed):
    """RFC 8414 §3.1: issuer ``http://host/auth`` has its metadata at
    ``/.well-known/oauth-authorization-server/auth``, whose ``issuer`` is that issuer (§3.3)."""
    meta = metadata(prefixed, "/.well-known/oauth-authorization-server/auth")
    assert meta["issuer"] == prefixed.issuer
    assert meta["token_endpoint"] == prefixed.issuer + "/oauth/token"
    r = requests.get(prefixed.url("/.well-known/oauth-authorization-server/" + unique("other")), timeout=10)
    assert r.status_code == 404


def test_path_inserted_resource_metadata_with_an_issuer_path_rfc9728_3_1(prefixed):
    """RFC 9728 §3.1: the API ``http://host/auth/api/1.0`` has its metadata at
    ``/.well-known/oauth-protected-resource/auth/api/1.0``, and the API's 401 says so."""
    doc = metadata(prefixed, WELL_KNOWN + "/auth/api/1.0")
    assert doc["resource"] == prefixed.issuer + "/api/1.0"
    assert doc["authorization_servers"] == [prefixed.issuer]
    r = requests.get(prefixed.url("/api/1.0/users/me"), timeout=10)
    assert params(r.headers["WWW-Authenticate"])["resource_metadata"] == \
        prefixed.base_url + WELL_KNOWN + "/auth/api/1.0"
