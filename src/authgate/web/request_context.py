"""Per-request context the services read: the client address and request id for the audit log."""

from __future__ import annotations

import re

from starlette.types import ASGIApp, Receive, Scope, Send

from authgate.services import audit

REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


class AuditOrigin:
    """A pure ASGI middleware: binds the peer address and a well-formed ``X-Request-ID`` for ``audit``."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            client = scope.get("client")
            request_id = next((v.decode("latin-1") for k, v in scope.get("headers", []) if k == b"x-request-id"), None)
            audit.bind(client[0] if client else None, request_id if request_id and REQUEST_ID.match(request_id) else None)
        await self.app(scope, receive, send)
