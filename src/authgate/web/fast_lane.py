"""The bearer hot path: API reads answered from memory by a plain ASGI layer, ahead of FastAPI's router.

Every API call passes the bearer check, and behind FastAPI's routing, dependency injection and
response validation that check costs several times its own work (``docs/performance.md``). The
fast lane answers a ``GET`` on a registered path only when it can answer completely from memory:
the token verifies with cached keys, its principal is cached (``BearerService.authenticate_cached``),
it holds the scope and, where asked, has a user. The answer is the one the FastAPI route gives, byte
for byte (a test compares them). Anything else (no token, a bad one, a cache miss, a refused scope,
a query string) falls through to the FastAPI route, which stays the one place the endpoint's rules,
errors and OpenAPI description live.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from weakref import WeakKeyDictionary

from starlette.types import ASGIApp, Receive, Scope, Send

from authgate.services import scopes as scope_rules
from authgate.services.bearer import BearerService, InvalidToken
from authgate.services.principal import Principal


@dataclass(frozen=True)
class FastRead:
    """A ``GET`` the fast lane may answer: the scopes the FastAPI route requires and the same body.

    ``depends_on`` names the object the body is made from (for ``users/me``, the cached user): the
    encoded body is kept while that very object is the one cached, and made again once it is replaced."""

    path: str
    scopes: tuple[str, ...]
    body: Callable[[Principal], object]
    user_required: bool = False
    depends_on: Callable[[Principal], object] | None = None


class _Route:
    """What ``Observability`` reads from ``scope["route"]``: the template the metrics are labelled with."""

    def __init__(self, path: str):
        self.path = path


def _bearer_token(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            return token.strip() if scheme.lower() == "bearer" else None
    return None


def encode(body: object) -> bytes:
    """JSON as FastAPI writes a response: compact, UTF-8, no NaN."""
    return json.dumps(body, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()


class FastLane:
    def __init__(self, app: ASGIApp, bearer: BearerService, reads: list[FastRead]):
        self.app = app
        self.bearer = bearer
        self.reads = {read.path: (read, _Route(read.path)) for read in reads}
        self._bodies: dict[str, WeakKeyDictionary] = {read.path: WeakKeyDictionary() for read in reads}

    def _body(self, read: FastRead, principal: Principal) -> bytes:
        source = read.depends_on(principal) if read.depends_on else None
        if source is None:
            return encode(read.body(principal))
        known = self._bodies[read.path]
        body = known.get(source)
        if body is None:
            body = known[source] = encode(read.body(principal))
        return body

    def _principal(self, read: FastRead, token: str | None) -> Principal | None:
        if not token:
            return None
        try:
            principal = self.bearer.authenticate_cached(token)
        except InvalidToken:
            return None
        if principal is None or (read.user_required and principal.user is None):
            return None
        if not any(scope_rules.grants(list(principal.scopes), needed) for needed in read.scopes):
            return None
        return principal

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        entry = self.reads.get(scope["path"]) if scope["type"] == "http" and scope["method"] == "GET" else None
        principal = None
        if entry is not None and not scope["query_string"]:
            principal = self._principal(entry[0], _bearer_token(scope))
        if principal is None:
            await self.app(scope, receive, send)
            return
        read, route = entry
        scope["route"] = route
        body = self._body(read, principal)
        await send({"type": "http.response.start", "status": 200, "headers": [
            (b"content-length", str(len(body)).encode()), (b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": body})
