"""Authorization server metadata (RFC 8414 §2, §3) and OpenID Provider
metadata (OpenID Connect Discovery 1.0 §3, §4): both documents are served,
pass Authlib's validators, and every advertised value is true — each endpoint
answers, each grant type and auth method is accepted, S256 is the only PKCE
method, the scopes are the server's.
"""

from __future__ import annotations


import pytest
import requests
from authlib.oauth2.rfc8414 import AuthorizationServerMetadata
from authlib.oauth2.rfc9207 import AuthorizationServerMetadata as IssMetadata

from support import (
    Browser,
    authorization_params,
    password_grant,
    pkce_pair,
    query_params,
    token_request,
    unique,
)

PATHS = ["/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"]


@pytest.fixture(scope="module")
def meta(server) -> dict:
    return requests.get(server.url(PATHS[0]), timeout=10).json()


@pytest.mark.parametrize("path", PATHS)
def test_documents_are_json_with_the_issuer_rfc8414_3_2(server, path):
    resp = requests.get(server.url(path), timeout=10)
    assert resp.status_code == 200
    assert resp.headers["Content-Type"].startswith("application/json")
    assert resp.json()["issuer"] == server.issuer  # RFC 8414 §3.3: identical to the issuer


def test_both_documents_say_the_same(server):
    a, b = (requests.get(server.url(p), timeout=10).json() for p in PATHS)
    assert a == b


def test_authlib_validator_accepts_it_rfc8414_2(meta, monkeypatch):
    monkeypatch.setenv("AUTHLIB_INSECURE_TRANSPORT", "1")  # the test server's issuer is http://127.0.0.1
    AuthorizationServerMetadata(meta).validate(metadata_classes=[IssMetadata])


def test_endpoints_are_where_advertised_rfc8414_2(server, meta):
    assert meta["authorization_endpoint"] == server.url("/oauth/authorize")
    assert requests.get(meta["jwks_uri"], timeout=10).json()["keys"]
    for field in ("token_endpoint", "revocation_endpoint", "introspection_endpoint"):
        resp = requests.post(meta[field], data={}, timeout=10)
        assert resp.status_code in (400, 401) and "error" in resp.json(), (field, resp.text)


def test_pkce_s256_only_rfc8414_2_rfc7636_4_3(meta):
    assert meta["code_challenge_methods_supported"] == ["S256"]


def test_response_types_and_modes_rfc8414_2(meta):
    assert meta["response_types_supported"] == ["code"]
    assert meta["response_modes_supported"] == ["query"]


def test_scopes_are_the_servers_rfc8414_2(meta):
    assert set(meta["scopes_supported"]) >= {"openid", "profile", "email", "offline_access", "users:read"}


def test_advertised_grant_types_are_accepted_rfc8414_2(server, meta):
    grants = set(meta["grant_types_supported"])
    assert {"authorization_code", "password", "refresh_token", "client_credentials"} <= grants
    for grant in grants:
        resp = token_request(server, {"grant_type": grant}, auth=("nobody", "nothing"))
        assert resp.json()["error"] != "unsupported_grant_type", grant
    assert token_request(server, {"grant_type": "implicit"}).json()["error"] == "unsupported_grant_type"


def test_advertised_token_auth_methods_work_rfc8414_2(server, meta):
    assert set(meta["token_endpoint_auth_methods_supported"]) == {"client_secret_basic", "client_secret_post", "private_key_jwt", "none"}
    user = server.create_user()
    app = server.create_client(grants=["password"])
    assert password_grant(server, app, user).status_code == 200  # client_secret_basic
    body = {"grant_type": "password", "username": user.username, "password": user.password,
            "client_id": app.client_id, "client_secret": app.client_secret}
    assert token_request(server, body).status_code == 200  # client_secret_post
    public = server.create_client(redirect_uris=[f"https://{unique('m')}.example.org/cb"], public=True)
    verifier, challenge = pkce_pair()
    browser = Browser(server)
    location = browser.authorize(authorization_params(public, challenge=challenge), user)
    code = query_params(location)["code"]
    resp = token_request(server, {"grant_type": "authorization_code", "code": code, "client_id": public.client_id,
                                  "redirect_uri": public.redirect_uri, "code_verifier": verifier})
    assert resp.status_code == 200, resp.text  # none


def test_revocation_and_introspection_auth_methods_rfc8414_2(meta):
    assert meta["revocation_endpoint_auth_methods_supported"] == ["client_secret_basic", "client_secret_post",
                                                                  "private_key_jwt", "none"]
    assert meta["introspection_endpoint_auth_methods_supported"] == ["client_secret_basic", "client_secret_post", "private_key_jwt"]


def test_iss_parameter_is_advertised_rfc9207_3(meta):
    assert meta["authorization_response_iss_parameter_supported"] is True


def test_unknown_well_known_is_404_json(server):
    resp = requests.get(server.url("/.well-known/nothing-here"), timeout=10)
    assert resp.status_code == 404 and resp.json() == {"error": "Not Found"}
