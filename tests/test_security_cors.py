"""CORS for browser apps (the Fetch standard's CORS protocol; oidc-client-ts in a single-page app): the
token, UserInfo, JWKS and revocation endpoints and both discovery documents answer preflights and
allow any origin, never with credentials (they take no cookie, so none may be sent); the pages, the
introspection endpoint (a resource server's back channel, RFC 7662 §4) and the JSON API send no CORS
headers, so a script on another site cannot read them."""

from __future__ import annotations

import pytest
import requests

from support import HTTP_TIMEOUT, Browser, authorization_params, pkce_pair, query_params, user_via_api

ORIGIN = "https://spa.example.org"
CORS_PATHS = {
    "/oauth/token": "POST",
    "/oauth/revoke": "POST",
    "/oauth/userinfo": "GET",
    "/oauth/jwks": "GET",
    "/.well-known/openid-configuration": "GET",
    "/.well-known/oauth-authorization-server": "GET",
}
NO_CORS_PATHS = {"/login": "POST", "/api/1.0/users/me": "GET", "/oauth/introspect": "POST", "/oauth/authorize": "GET",
                 "/profile": "GET"}


def preflight(server, path: str, method: str) -> requests.Response:
    return requests.options(server.url(path), timeout=HTTP_TIMEOUT, headers={
        "Origin": ORIGIN, "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": "authorization, content-type, dpop"})


def assert_cors_without_credentials(response: requests.Response) -> None:
    assert response.headers.get("Access-Control-Allow-Origin") in ("*", ORIGIN), response.headers
    assert "Access-Control-Allow-Credentials" not in response.headers


def assert_no_cors(response: requests.Response) -> None:
    assert not [name for name in response.headers if name.lower().startswith("access-control-")], response.headers


@pytest.mark.parametrize("path, method", CORS_PATHS.items())
def test_preflight_is_answered_without_credentials(server, path, method):
    r = preflight(server, path, method)
    assert 200 <= r.status_code < 300, r.text
    assert_cors_without_credentials(r)
    assert method in [m.strip() for m in r.headers["Access-Control-Allow-Methods"].split(",")]
    allowed = {h.strip().lower() for h in r.headers["Access-Control-Allow-Headers"].split(",")}
    assert {"authorization", "content-type", "dpop"} <= allowed


@pytest.mark.parametrize("path, method", NO_CORS_PATHS.items())
def test_pages_introspection_and_the_api_answer_no_preflight(server, path, method):
    assert_no_cors(preflight(server, path, method))


def test_a_browser_apps_code_flow_reads_every_answer_cross_origin(server, admin):
    """A public SPA client, as oidc-client-ts runs it: discovery, JWKS, token, UserInfo, refresh, revocation."""
    spa = server.create_client(redirect_uris=[ORIGIN + "/callback"], public=True)
    headers = {"Origin": ORIGIN}
    for path in ("/.well-known/openid-configuration", "/.well-known/oauth-authorization-server", "/oauth/jwks"):
        r = requests.get(server.url(path), headers=headers, timeout=HTTP_TIMEOUT)
        assert r.status_code == 200
        assert_cors_without_credentials(r)

    verifier, challenge = pkce_pair()
    params = authorization_params(spa, scope="openid profile offline_access", challenge=challenge)
    code = query_params(Browser(server).authorize(params, user_via_api(admin)))["code"]
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": spa.redirect_uri,
            "client_id": spa.client_id, "code_verifier": verifier}
    token = requests.post(server.url("/oauth/token"), data=data, headers=headers, timeout=HTTP_TIMEOUT)
    assert token.status_code == 200, token.text
    assert_cors_without_credentials(token)
    tokens = token.json()

    info = requests.get(server.url("/oauth/userinfo"), timeout=HTTP_TIMEOUT,
                        headers={**headers, "Authorization": f"Bearer {tokens['access_token']}"})
    assert info.status_code == 200
    assert_cors_without_credentials(info)
    refused = requests.get(server.url("/oauth/userinfo"), headers=headers, timeout=HTTP_TIMEOUT)
    assert refused.status_code == 401
    assert_cors_without_credentials(refused)
    assert "WWW-Authenticate" in refused.headers.get("Access-Control-Expose-Headers", "")

    revoked = requests.post(server.url("/oauth/revoke"), headers=headers, timeout=HTTP_TIMEOUT,
                            data={"token": tokens["refresh_token"], "client_id": spa.client_id})
    assert revoked.status_code == 200
    assert_cors_without_credentials(revoked)


def test_pages_introspection_and_the_api_send_no_cors_headers(server, admin, make_client):
    headers = {"Origin": ORIGIN}
    assert_no_cors(requests.get(server.url("/login"), headers=headers, timeout=HTTP_TIMEOUT))
    me = requests.get(server.url("/api/1.0/users/me"), timeout=HTTP_TIMEOUT,
                      headers={**headers, "Authorization": f"Bearer {admin.token}"})
    assert me.status_code == 200
    assert_no_cors(me)
    rs = make_client(grants=["client_credentials"])
    introspection = requests.post(server.url("/oauth/introspect"), data={"token": admin.token}, auth=rs.basic,
                                  headers=headers, timeout=HTTP_TIMEOUT)
    assert introspection.status_code == 200
    assert_no_cors(introspection)
