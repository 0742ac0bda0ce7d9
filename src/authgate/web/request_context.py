"""Per-request context the services read: the client address and request id for the audit log."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from authgate.services import audit
from authgate.web.observability import REQUEST_ID


class AuditOrigin:
    """A pure ASGI middleware, inside ``Observability``: binds the peer address and the request id for ``audit``."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            client = scope.get("client")
            audit.bind(client[0] if client else None, REQUEST_ID.get())
        await self.app(scope, receive, send)
