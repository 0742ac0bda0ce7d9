"""The OpenAPI document (OpenAPI 3.1, checked with openapi-spec-validator) lists every /api/1.0
endpoint with its scopes and error shapes, and the docs page at /api/documentation can sign in:
its redirect page is a registrable redirect URI and the authorization code flow with PKCE
(RFC 6749 §4.1, RFC 7636) works from it exactly as Swagger UI runs it.
"""

from __future__ import annotations

from types import SimpleNamespace

import requests
from openapi_spec_validator import validate

from support import Api, Browser, authorization_params, pkce_pair, query_params, token_request, unique

EXPECTED = {
    ("get", "/users"), ("post", "/users"), ("get", "/users/me"), ("get", "/users/{user_id}"),
    ("put", "/users/{user_id}"), ("delete", "/users/{user_id}"), ("put", "/users/{user_id}/restore"),
    ("get", "/deleted_users"),
    ("get", "/groups"), ("post", "/groups"), ("get", "/groups/{group_id}"), ("put", "/groups/{group_id}"),
    ("delete", "/groups/{group_id}"), ("get", "/groups/{group_id}/users"), ("post", "/group_members"),
    ("delete", "/group_members/{group_member_id}"),
    ("get", "/permissions"), ("put", "/permissions"),
    ("get", "/users/{user_id}/tokens"), ("post", "/users/{user_id}/tokens"),
    ("get", "/users/{user_id}/tokens/{token_id}"), ("delete", "/users/{user_id}/tokens/{token_id}"),
    ("get", "/oauth/clients"), ("post", "/oauth/clients"), ("get", "/oauth/clients/{client_id}"),
    ("put", "/oauth/clients/{client_id}"), ("delete", "/oauth/clients/{client_id}"),
    ("post", "/oauth/clients/{client_id}/secret"),
    ("get", "/users/me/authorizations"), ("delete", "/users/me/authorizations/{client_id}"),
    ("get", "/security_logs"),
}


def openapi(server) -> dict:
    r = requests.get(server.url("/api/openapi.json"), timeout=15)
    assert r.status_code == 200
    return r.json()


def test_document_validates_and_lists_every_endpoint(server):
    doc = openapi(server)
    validate(doc)
    listed = {(method, path.removeprefix("/api/1.0")) for path, item in doc["paths"].items()
              for method in item if path.startswith("/api/1.0")}
    assert listed == EXPECTED


def test_every_endpoint_names_its_scope_and_error_shapes(server):
    doc = openapi(server)
    schemes = doc["components"]["securitySchemes"]
    assert schemes["oauth2"]["flows"]["authorizationCode"]["authorizationUrl"] == "/oauth/authorize"
    assert schemes["oauth2"]["flows"]["authorizationCode"]["tokenUrl"] == "/oauth/token"
    assert schemes["bearer"]["scheme"].lower() == "bearer"
    for path, item in doc["paths"].items():
        if not path.startswith("/api/1.0"):
            continue
        for method, op in item.items():
            where = f"{method.upper()} {path}"
            oauth = [req["oauth2"] for req in op.get("security", []) if "oauth2" in req]
            assert oauth and oauth[0], f"{where} names no scope"
            assert {"bearer": []} in op["security"], where
            assert "Scope:" in op.get("description", ""), where
            for code in ("401", "403"):
                assert code in op["responses"], f"{where} lacks {code}"
            if op.get("parameters") or op.get("requestBody"):
                schema = op["responses"]["422"]["content"]["application/json"]["schema"]
                assert schema["$ref"].endswith("/ValidationErrorBody"), where
            assert op["responses"]["401"]["content"]["application/json"]["schema"]["$ref"].endswith("/Unauthenticated")
            if "{" in path:
                assert "404" in op["responses"], where


def test_docs_page_is_wired_for_the_authorization_code_flow(server):
    page = requests.get(server.url("/api/documentation"), timeout=15)
    assert page.status_code == 200 and "/api/openapi.json" in page.text
    assert "'/api/oauth2-callback'" in page.text and '"usePkceWithAuthorizationCodeGrant": true' in page.text
    callback = requests.get(server.url("/api/oauth2-callback"), timeout=15)
    assert callback.status_code == 200 and "oauth2" in callback.text.lower()


def test_authorize_from_the_docs_page_works_rfc6749_4_1_rfc7636(server, admin, make_user):
    """What Swagger UI does after the README's registration: PKCE, public client, token, API call."""
    redirect_uri = server.url("/api/oauth2-callback")
    client = admin.ok("POST", "/oauth/clients", 201, json={"name": unique("docs"), "public": True,
                                                           "redirect_uris": [redirect_uri],
                                                           "types": ["authorization_code_grant"]})
    user = make_user()
    verifier, challenge = pkce_pair()

    public = SimpleNamespace(client_id=client["id"], redirect_uri=redirect_uri)
    params = authorization_params(public, scope="users:read", challenge=challenge)
    location = Browser(server).authorize(params, user)
    assert location.startswith(redirect_uri)
    code = query_params(location)["code"]
    r = token_request(server, {"grant_type": "authorization_code", "code": code, "client_id": client["id"],
                               "redirect_uri": redirect_uri, "code_verifier": verifier})
    assert r.status_code == 200, r.text
    assert Api(server, r.json()["access_token"]).ok("GET", "/users/me")["id"] == user.id
