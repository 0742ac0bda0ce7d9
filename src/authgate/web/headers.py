"""Headers every response carries: ``nosniff``, and HSTS when the issuer is https (a pure ASGI middleware)."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

HSTS = (b"strict-transport-security", b"max-age=31536000; includeSubDomains")
NOSNIFF = (b"x-content-type-options", b"nosniff")


class SecurityHeaders:
    def __init__(self, app: ASGIApp, https: bool):
        self.app = app
        self.extra = [NOSNIFF, HSTS] if https else [NOSNIFF]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {name.lower() for name, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [
                    header for header in self.extra if header[0] not in names
                ]
            await send(message)

        await self.app(scope, receive, send_with_headers)
