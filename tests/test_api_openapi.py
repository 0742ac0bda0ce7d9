"""The OpenAPI document (OpenAPI 3.1, checked with openapi-spec-validator) lists every /api/1.0
endpoint with its scopes and error shapes, and the docs page at /api/documentation can sign in:
its redirect page is a registrable redirect URI and the authorization code flow with PKCE
(RFC 6749 §4.1, RFC 7636) works from it exactly as Swagger UI runs it.
"""

from __future__ import annotations

import html
import json
import re
from types import SimpleNamespace

import pytest
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
    ("get", "/users/{user_id}/sessions"), ("delete", "/users/{user_id}/sessions"),
    ("delete", "/users/{user_id}/sessions/{session_id}"),
    ("get", "/oauth/clients"), ("post", "/oauth/clients"), ("get", "/oauth/clients/{client_id}"),
    ("put", "/oauth/clients/{client_id}"), ("delete", "/oauth/clients/{client_id}"),
    ("post", "/oauth/clients/{client_id}/secret"),
    ("post", "/oauth/clients/{client_id}/disable"), ("post", "/oauth/clients/{client_id}/enable"),
    ("get", "/users/me/authorizations"), ("delete", "/users/me/authorizations/{client_id}"),
    ("get", "/security_logs"),
    ("get", "/security/factor_policy"), ("put", "/security/factor_policy"),
    ("get", "/users/{user_id}/factors"), ("delete", "/users/{user_id}/factors"),
    ("get", "/resources"), ("post", "/resources"), ("get", "/resources/{resource_id}"),
    ("put", "/resources/{resource_id}"), ("delete", "/resources/{resource_id}"),
    ("get", "/providers"), ("post", "/providers"), ("get", "/providers/{provider_id}"),
    ("put", "/providers/{provider_id}"), ("delete", "/providers/{provider_id}"),
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


def docs_config(page: requests.Response) -> dict:
    """The configuration the docs page hands to Swagger UI (a JSON block: the page's CSP allows no inline script)."""
    found = re.search(r'<script id="swagger-ui-config" type="application/json">(.*?)</script>', page.text, re.S)
    assert found, page.text[:1000]
    return json.loads(html.unescape(found.group(1)))


def test_docs_page_is_wired_for_the_authorization_code_flow(server):
    page = requests.get(server.url("/api/documentation"), timeout=15)
    assert page.status_code == 200
    config = docs_config(page)
    assert config["ui"]["url"] == "/api/openapi.json"
    assert config["ui"]["oauth2RedirectUrl"] == server.issuer + "/api/oauth2-callback"
    assert config["initOAuth"]["usePkceWithAuthorizationCodeGrant"] is True
    callback = requests.get(server.url("/api/oauth2-callback"), timeout=15)
    assert callback.status_code == 200 and "oauth2" in callback.text.lower()


def referenced(page: requests.Response) -> list[str]:
    return re.findall(r'<(?:script|link|img)\b[^>]*\b(?:src|href)="([^"]*)"', page.text)


@pytest.mark.parametrize("path", ["/api/documentation", "/api/oauth2-callback"])
def test_docs_pages_load_nothing_from_elsewhere_and_cannot_be_framed(server, path):
    """Issue 12, item 12: Swagger UI comes from authgate itself (no CDN, works offline), every file the
    page names is served here, and the pages carry the CSP and anti-framing headers of every page."""
    page = requests.get(server.url(path), timeout=15)
    assert page.status_code == 200
    assets = referenced(page)
    assert assets and all(url.startswith("/") and not url.startswith("//") for url in assets), assets
    assert "http" not in page.text.replace(server.issuer + "/api/oauth2-callback", ""), page.text
    for url in assets:
        asset = requests.get(server.url(url), timeout=15)
        assert asset.status_code == 200 and asset.content, url
        kind = asset.headers["Content-Type"]
        assert kind.startswith({".js": "text/javascript", ".css": "text/css", ".png": "image/png"}[url[url.rindex("."):]]), (url, kind)
    policy = [part.strip() for part in page.headers["Content-Security-Policy"].split(";")]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy and "base-uri 'none'" in policy
    assert not [part for part in policy if part.startswith("script-src") or "unsafe" in part], policy
    assert page.headers["X-Frame-Options"] == "DENY"
    assert page.headers["X-Content-Type-Options"] == "nosniff"


def test_only_swagger_uis_own_files_are_served(server):
    for name in ("index.html", "swagger-initializer.js", "..%2Fswagger-ui.css", "swagger-ui-bundle.js.map"):
        assert requests.get(server.url("/api/documentation/assets/" + name), timeout=15).status_code == 404, name
    bundle = requests.get(server.url("/api/documentation/assets/swagger-ui-bundle.js"), timeout=15).text
    assert "SwaggerUIBundle" in bundle


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
