"""The JSON API (/api/1.0) with a bearer token, and the shapes of its answers (401, 403, 404, 409, 422)."""

from __future__ import annotations

import secrets

import requests

from support.server import HTTP_TIMEOUT, ServerProcess
from support.values import User, unique


API = "/api/1.0"


class Api:
    """The resource API with one bearer token (None: no Authorization header)."""

    def __init__(self, server: ServerProcess, token: str | None):
        self.server = server
        self.token = token

    def request(self, method: str, path: str, **kw) -> requests.Response:
        headers = dict(kw.pop("headers", {}) or {})
        if self.token is not None:
            headers.setdefault("Authorization", f"Bearer {self.token}")
        return requests.request(method, self.server.url(API + path), headers=headers, timeout=HTTP_TIMEOUT, **kw)

    def get(self, path: str, **kw) -> requests.Response:
        return self.request("GET", path, **kw)

    def post(self, path: str, json=None, **kw) -> requests.Response:
        return self.request("POST", path, json=json, **kw)

    def put(self, path: str, json=None, **kw) -> requests.Response:
        return self.request("PUT", path, json=json, **kw)

    def delete(self, path: str, **kw) -> requests.Response:
        return self.request("DELETE", path, **kw)

    def ok(self, method: str, path: str, status: int = 200, **kw):
        """The JSON of a request that must succeed with ``status`` (None for an empty 204)."""
        r = self.request(method, path, **kw)
        assert r.status_code == status, f"{method} {path}: expected {status}, got {r.status_code}: {r.text[:500]}"
        return r.json() if r.content else None


def api_for(server: ServerProcess, username: str, scopes=()) -> Api:
    """An Api authenticated by a fresh personal access token of ``username`` (made with the CLI)."""
    return Api(server, server.create_pat(username, scopes=scopes)["token"])


def users_me(server: ServerProcess, token: str | None) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return requests.get(server.url("/api/1.0/users/me"), headers=headers, timeout=HTTP_TIMEOUT)


def user_via_api(admin: Api) -> User:
    """A new user made through the API (much quicker than a CLI process when a test needs many)."""
    username, password = unique("user"), "pw-" + secrets.token_urlsafe(12)
    email = f"{username}@example.org"
    data = admin.ok("POST", "/users", 201, json={"username": username, "email": email, "password": password})
    return User(username=username, password=password, email=email, id=data["id"], data=data)


def admin_api(server: ServerProcess) -> Api:
    return api_for(server, "admin")


def grant(admin: Api, user_id: int, *names: str) -> None:
    """Give a user exactly these permissions directly (PUT /permissions)."""
    admin.ok("PUT", "/permissions", 204, json={"user_id": user_id, "permission_names": list(names)})


def assert_unauthenticated(r: requests.Response) -> None:
    assert r.status_code == 401, f"expected 401, got {r.status_code}: {r.text[:300]}"
    assert r.json() == {"error": "Unauthenticated."}
    assert r.headers.get("WWW-Authenticate", "").startswith("Bearer")


def assert_forbidden(r: requests.Response, scope: str | None = None) -> dict:
    """403 in ProcessMaker's shape; with ``scope``, RFC 6750's insufficient_scope naming it."""
    assert r.status_code == 403, f"expected 403, got {r.status_code}: {r.text[:300]}"
    body = r.json()
    assert body["message"] == "This action is unauthorized.", body
    if scope is not None:
        assert body.get("error") == "insufficient_scope", body
        assert scope in r.headers.get("WWW-Authenticate", ""), r.headers
    else:
        assert body.get("error") != "insufficient_scope", body
    return body


def assert_not_found(r: requests.Response) -> None:
    assert r.status_code == 404, f"expected 404, got {r.status_code}: {r.text[:300]}"
    assert r.json() == {"error": "Not Found"}


def assert_conflict(r: requests.Response, field: str) -> dict:
    """409 in the API's error shape, naming ``field`` (a name or address already in use)."""
    assert r.status_code == 409, f"expected 409, got {r.status_code}: {r.text[:300]}"
    body = r.json()
    assert set(body["errors"]) == {field} and all(isinstance(m, str) and m for m in body["errors"][field]), body
    return body


def assert_invalid(r: requests.Response, *fields: str) -> dict:
    """422 in ProcessMaker's shape, naming each of ``fields``."""
    assert r.status_code == 422, f"expected 422, got {r.status_code}: {r.text[:300]}"
    body = r.json()
    assert body["message"] == "The given data was invalid.", body
    assert isinstance(body["errors"], dict) and body["errors"], body
    for name in fields:
        assert name in body["errors"], f"no error for {name}: {body}"
        assert all(isinstance(m, str) and m for m in body["errors"][name]), body
    return body


def from_address(ip: str) -> requests.Session:
    """A requests session whose connections leave from ``ip`` (any 127.x.y.z on Linux): another peer
    address for the per-address limits, without trusting any forwarded header."""
    from requests.adapters import HTTPAdapter

    class _Bound(HTTPAdapter):
        def init_poolmanager(self, *args, **kwargs):
            kwargs["source_address"] = (ip, 0)
            super().init_poolmanager(*args, **kwargs)

    session = requests.Session()
    session.mount("http://", _Bound())
    return session
