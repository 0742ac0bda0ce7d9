"""The bearer hot path: API reads answered from memory by a plain ASGI layer, ahead of FastAPI's router.

Every API call passes the bearer check, and behind FastAPI's routing, dependency injection and
response validation that check costs several times its own work (``docs/performance.md``). The
fast lane answers a ``GET`` on a registered path only when it can answer completely from memory:
the token verifies with cached keys, its principal is cached (``BearerService.from_memory``),
it is for this API (``BearerService.for_own_api``, the audience rule), it holds the scope and, where
asked, has a user (``web/bearer.py``'s ``token_of`` and ``refusal``, shared with the routes); a DPoP-bound
token, whose proof the route checks, is never answered here. The answer is the one the FastAPI route gives, byte for byte (a test compares
them). Anything else (no token, a bad one, a cache miss, a refused scope, a query string) falls
through to the FastAPI route, which stays the one place the endpoint's rules, errors and OpenAPI
description live; what memory said is kept for it (``keep_check``), so memory is asked once.

Answers are counted by path on ``/metrics`` (``authgate_fast_lane_answers_total``): the lane adds one
to a plain integer, and the background thread carries the counts over to the metric (``publish``),
so the hot path takes no lock for it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from weakref import WeakKeyDictionary

from prometheus_client import Counter
from starlette.types import ASGIApp, Receive, Scope, Send

from authgate.services.accounts.people.principal import Principal
from authgate.services.credentials.bearer import BearerService, InvalidToken
from authgate.services.operations.background import Background
from authgate.web.bearer import BearerError, keep_check, refusal, token_of

ANSWERS = Counter("authgate_fast_lane_answers_total", "API reads answered from memory by the fast lane, by path",
                  ["route"])
PUBLISH_SECONDS = 1.0


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
    """What ``Observability`` reads from ``scope["route"]`` (the template the metrics are labelled with),
    and the lane's count of answers on this path not yet carried over to ``ANSWERS``."""

    def __init__(self, path: str):
        self.path = path
        self.answered = 0
        self.published = 0
        self.metric = ANSWERS.labels(path)

    def publish(self) -> None:
        answered = self.answered
        if answered > self.published:
            self.metric.inc(answered - self.published)
            self.published = answered


def _authorization(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"authorization":
            return value.decode("latin-1")
    return None


def encode(body: object) -> bytes:
    """JSON as FastAPI writes a response: compact, UTF-8, no NaN."""
    return json.dumps(body, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()


class FastLane:
    def __init__(self, app: ASGIApp, bearer: BearerService, reads: list[FastRead], background: Background):
        self.app = app
        self.bearer = bearer
        self.reads = {read.path: (read, _Route(read.path)) for read in reads}
        self._bodies: dict[str, WeakKeyDictionary] = {read.path: WeakKeyDictionary() for read in reads}
        background.every(PUBLISH_SECONDS, self.publish, failure="could not count the fast lane's answers")

    def _body(self, read: FastRead, principal: Principal) -> bytes:
        source = read.depends_on(principal) if read.depends_on else None
        if source is None:
            return encode(read.body(principal))
        known = self._bodies[read.path]
        body = known.get(source)
        if body is None:
            body = known[source] = encode(read.body(principal))
        return body

    def publish(self) -> None:
        """Carry the answers counted since the last call over to ``/metrics`` (the background thread)."""
        for _, route in self.reads.values():
            route.publish()

    def _principal(self, scope: Scope, read: FastRead) -> Principal | None:
        try:
            token = token_of(_authorization(scope))
        except BearerError:
            return None
        try:
            principal = self.bearer.from_memory(token)
        except InvalidToken as error:
            keep_check(scope, token, None, error)
            return None
        if (principal is None or principal.jkt or not self.bearer.for_own_api(principal)
                or refusal(principal, read.scopes, read.user_required) is not None):
            keep_check(scope, token, principal, None)
            return None
        return principal

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        entry = self.reads.get(scope["path"]) if scope["type"] == "http" and scope["method"] == "GET" else None
        principal = None
        if entry is not None and not scope["query_string"]:
            principal = self._principal(scope, entry[0])
        if principal is None:
            await self.app(scope, receive, send)
            return
        read, route = entry
        scope["route"] = route
        route.answered += 1
        body = self._body(read, principal)
        await send({"type": "http.response.start", "status": 200, "headers": [
            (b"content-length", str(len(body)).encode()), (b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": body})
