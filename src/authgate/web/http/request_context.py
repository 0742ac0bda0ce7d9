"""Per-request context the services read: the client address and request id for the audit log.

The address is the peer's, or behind a proxy listed in ``AUTHGATE_TRUSTED_PROXIES`` the one it
forwards (uvicorn's ``ProxyHeadersMiddleware``, outside, has set ``scope["client"]`` by then)."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from authgate.services.operations import audit
from authgate.web.http.observability import REQUEST_ID

MAX_ADDRESS = 64
"""The audit log's column; a forwarded "address" that is not one could be longer."""


class AuditOrigin:
    """A pure ASGI middleware, inside ``Observability``: binds the peer address and the request id for ``audit``."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            client = scope.get("client")
            audit.bind(client[0][:MAX_ADDRESS] if client else None, REQUEST_ID.get())
        await self.app(scope, receive, send)
