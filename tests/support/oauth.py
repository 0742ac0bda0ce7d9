"""The OAuth endpoints as a client calls them: token requests, the code flow, refresh, revocation, introspection."""

from __future__ import annotations

import secrets

import requests

from support.browser import Browser
from support.server import HTTP_TIMEOUT, ServerProcess
from support.values import Client, User, query_params, without_query


def token_request(server: ServerProcess, data, auth=None, headers=None) -> requests.Response:
    return requests.post(server.url("/oauth/token"), data=data, auth=auth, headers=headers,
                         timeout=HTTP_TIMEOUT)


def password_grant(server: ServerProcess, client: Client, user: User, scope: str | None = None,
                   **extra) -> requests.Response:
    data = {"grant_type": "password", "username": user.username, "password": user.password, **extra}
    if scope is not None:
        data["scope"] = scope
    return token_request(server, data, auth=client.basic)


def assert_token_error(response: requests.Response, error: str | set, status: int | set = 400) -> dict:
    statuses = {status} if isinstance(status, int) else set(status)
    errors = {error} if isinstance(error, str) else set(error)
    assert response.status_code in statuses, (
        f"expected HTTP {statuses} with error {errors}, got {response.status_code}: {response.text[:500]}"
    )
    body = response.json()
    assert body.get("error") in errors, f"expected error in {errors}, got {body}"
    return body


def assert_no_store(response: requests.Response) -> None:
    """RFC 6749 §5.1: Cache-Control: no-store and Pragma: no-cache."""
    cc = [p.strip().lower() for p in response.headers.get("Cache-Control", "").split(",")]
    assert "no-store" in cc, f"Cache-Control was {response.headers.get('Cache-Control')!r}"
    assert response.headers.get("Pragma", "").lower() == "no-cache", (
        f"Pragma was {response.headers.get('Pragma')!r}"
    )


def authorization_params(client: Client, redirect_uri: str | None = None, scope: str | None = "users:read",
                         state: str | None = None, challenge: str | None = None, **extra) -> dict:
    params = {"response_type": "code", "client_id": client.client_id,
              "redirect_uri": redirect_uri or client.redirect_uri}
    if scope is not None:
        params["scope"] = scope
    params["state"] = state if state is not None else secrets.token_urlsafe(8)
    if challenge is not None:
        params["code_challenge"] = challenge
        params["code_challenge_method"] = "S256"
    params.update(extra)
    return params


def get_code(server: ServerProcess, client: Client, user: User, browser: Browser | None = None,
             **params) -> str:
    """Authorization code for `client` approved by `user` (RFC 6749 §4.1.1-4.1.2)."""
    browser = browser or Browser(server)
    p = authorization_params(client, **params)
    location = browser.authorize(p, user)
    q = query_params(location)
    assert without_query(location) == p["redirect_uri"], location
    assert "code" in q, f"no code in {location}"
    assert q.get("state") == p["state"], location
    return q["code"]


def exchange_code(server: ServerProcess, client: Client, code: str, redirect_uri: str | None = None,
                  verifier: str | None = None, basic: bool = True) -> requests.Response:
    data = {"grant_type": "authorization_code", "code": code,
            "redirect_uri": redirect_uri or client.redirect_uri}
    if verifier is not None:
        data["code_verifier"] = verifier
    if client.client_secret is None:
        data["client_id"] = client.client_id
        return token_request(server, data)
    if basic:
        return token_request(server, data, auth=client.basic)
    data.update(client_id=client.client_id, client_secret=client.client_secret)
    return token_request(server, data)


def code_flow_tokens(server: ServerProcess, client: Client, user: User, scope: str = "users:read") -> dict:
    code = get_code(server, client, user, scope=scope)
    r = exchange_code(server, client, code)
    assert r.status_code == 200, r.text
    return r.json()


def refresh(server: ServerProcess, client: Client, refresh_token: str, **extra) -> requests.Response:
    data = {"grant_type": "refresh_token", "refresh_token": refresh_token, **extra}
    if client.client_secret is None:
        data["client_id"] = client.client_id
        return token_request(server, data)
    return token_request(server, data, auth=client.basic)


def revoke(server: ServerProcess, client: Client, token: str, **extra) -> requests.Response:
    """POST /oauth/revoke (RFC 7009 §2.1), authenticated with HTTP Basic (or client_id for public clients)."""
    data = {"token": token, **extra}
    if client.client_secret is None:
        data["client_id"] = client.client_id
        return requests.post(server.url("/oauth/revoke"), data=data, timeout=HTTP_TIMEOUT)
    return requests.post(server.url("/oauth/revoke"), data=data, auth=client.basic, timeout=HTTP_TIMEOUT)


def introspect(server: ServerProcess, client: Client, token: str, **extra) -> requests.Response:
    """POST /oauth/introspect (RFC 7662 §2.1) with HTTP Basic."""
    return requests.post(server.url("/oauth/introspect"), data={"token": token, **extra}, auth=client.basic,
                         timeout=HTTP_TIMEOUT)
