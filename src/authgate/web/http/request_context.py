"""Per-request context the services read: the client address and request id for the audit log, and the user
agent a new browser session records.

The address is the peer's, or behind a proxy listed in ``AUTHGATE_TRUSTED_PROXIES`` the one it
forwards (uvicorn's ``ProxyHeadersMiddleware``, outside, has set ``scope["client"]`` by then)."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from authgate.services.operations import audit
from authgate.web.http.observability import REQUEST_ID

MAX_ADDRESS = 64
"""The audit log's column; a forwarded "address" that is not one could be longer."""
MAX_USER_AGENT = 255
"""The sessions' column: enough to tell browsers apart, and no room for a megabyte header."""


def user_agent(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"user-agent":
            return value[:MAX_USER_AGENT].decode("latin-1")
    return None


class AuditOrigin:
    """A pure ASGI middleware, inside ``Observability``: binds the peer address, the request id and the user agent for ``audit``."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            client = scope.get("client")
            audit.bind(client[0][:MAX_ADDRESS] if client else None, REQUEST_ID.get(), user_agent(scope))
        await self.app(scope, receive, send)
