"""``BearerMiddleware``: any ASGI app (Starlette, FastAPI, an MCP server's app) behind a ``ResourceServer``.

It serves the resource's RFC 9728 metadata at its well-known path, lets ``public_paths`` through, and for
every other HTTP request needs ``Authorization: Bearer`` (or ``DPoP`` with its proof, RFC 9449 §7.1) with a
token for this resource (and ``required_scopes``): the app then finds the ``AccessToken`` in ``scope["auth"]`` (and
``request.state.auth``); a refusal is 401 or 403 with ``WWW-Authenticate`` (RFC 6750 §3, RFC 9728 §5.1).

The URL a DPoP proof must name (``htu``) is the resource identifier's scheme and host with the request's path
(``root_path`` included): what the client sees, behind a proxy too."""

from __future__ import annotations

import json
from collections.abc import Iterable

from urllib.parse import urlsplit, urlunsplit

import anyio.to_thread

from authgate_client.resource_server import refusals


class BearerMiddleware:
    def __init__(self, app, resource_server, *, required_scopes: Iterable[str] = (), public_paths: Iterable[str] = ()):
        self.app = app
        self.guard = resource_server
        self.required_scopes = list(required_scopes)
        self.public_paths = set(public_paths)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path = scope.get("path", "")
        if path == self.guard.metadata_path:
            return await _json(send, 200, self.guard.metadata(), [(b"access-control-allow-origin", b"*")])
        if path in self.public_paths:
            return await self.app(scope, receive, send)
        try:
            token = await anyio.to_thread.run_sync(lambda: verify_request(self.guard, scope))
            self.guard.check_scopes(token, self.required_scopes)
        except refusals.TokenRefused as refused:
            challenge = refused.challenge(self.guard.metadata_url).encode()
            return await _json(send, refused.status, refused.body(), [(b"www-authenticate", challenge)])
        scope["auth"] = token
        scope.setdefault("state", {})["auth"] = token
        return await self.app(scope, receive, send)


def credentials_of(scope) -> tuple[str, str | None]:
    """The ``Authorization`` header's scheme (``bearer`` or ``dpop``) and token; ("bearer", None) without one."""
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            kind, _, credentials = value.decode("latin-1").partition(" ")
            if kind.lower() in ("bearer", "dpop") and credentials.strip():
                return kind.lower(), credentials.strip()
            return "bearer", None
    return "bearer", None


def verify_request(guard, scope):
    """``guard.verify`` on an ASGI request: its token, how it came, its DPoP proofs, method and URL."""
    scheme, token = credentials_of(scope)
    proofs = [value.decode("latin-1") for name, value in scope.get("headers", ()) if name == b"dpop"]
    resource = urlsplit(guard.resource)
    url = urlunsplit((resource.scheme, resource.netloc, scope.get("root_path", "") + scope.get("path", ""), "", ""))
    return guard.verify(token, scheme=scheme, proofs=proofs, method=scope.get("method", "GET"), url=url)


async def _json(send, status: int, body: dict, headers: list[tuple[bytes, bytes]]) -> None:
    payload = json.dumps(body).encode()
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", b"application/json"), (b"cache-control", b"no-store"),
        (b"content-length", str(len(payload)).encode()), *headers]})
    await send({"type": "http.response.body", "body": payload})
