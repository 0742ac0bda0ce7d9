"""Headers every response carries: ``nosniff``, and HSTS when the issuer is https; and ``no-store`` on every
answer of the JSON API unless its route says otherwise (a pure ASGI middleware).

The API's answers are one user's data, and some carry a secret shown once (a new personal access
token, a client secret): no cache between the caller and authgate may keep them (RFC 9111 §5.2.2.5)."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

HSTS = (b"strict-transport-security", b"max-age=31536000; includeSubDomains")
NOSNIFF = (b"x-content-type-options", b"nosniff")
NO_STORE = [(b"cache-control", b"no-store"), (b"pragma", b"no-cache")]
API = "/api/1.0"


class SecurityHeaders:
    def __init__(self, app: ASGIApp, https: bool):
        self.app = app
        self.extra = [NOSNIFF, HSTS] if https else [NOSNIFF]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        private = path == API or path.startswith(API + "/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {name.lower() for name, _ in headers}
                extra = self.extra + (NO_STORE if private and b"cache-control" not in names else [])
                message["headers"] = headers + [header for header in extra if header[0] not in names]
            await send(message)

        await self.app(scope, receive, send_with_headers)
