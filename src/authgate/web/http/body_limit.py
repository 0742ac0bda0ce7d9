"""A ceiling on request bodies for every route (a pure ASGI middleware): 413 before the body is read
when ``Content-Length`` says too much, and as soon as a streamed body passes the ceiling.

The refusal is in the error format of the route the request was meant for (``ErrorFormats``), as
``RefuseNul``'s is: the API's envelope under ``/api/``, RFC 6749 §5.2's ``invalid_request`` for the
OAuth endpoints and the other JSON routes, the error page for the pages."""

from __future__ import annotations

from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from authgate.web.http.error_format import ErrorFormat, ErrorFormats
from authgate.web.http.oauth_json import NO_STORE
from authgate.web.pages.templates import error_page

MAX_BODY_BYTES = 1024 * 1024


class BodyTooLarge(Exception):
    pass


def body_refused(kind: ErrorFormat, status: int, title: str, message: str, hint: str) -> Response:
    """A body the server will not read (``status``: 413 too large, 400 cut short), in the format of the route
    (``kind``): the API's envelope, RFC 6749 §5.2's ``invalid_request``, or the error page."""
    if kind is ErrorFormat.API:
        return JSONResponse({"message": message, "errors": {"body": [message]}}, status_code=status)
    if kind.json:
        return JSONResponse({"error": "invalid_request", "error_description": message}, status_code=status,
                            headers=NO_STORE)
    return error_page(title, message, status=status, hint=hint)


def too_large(kind: ErrorFormat, max_bytes: int) -> Response:
    return body_refused(kind, 413, "Request too large", f"The request body is larger than {max_bytes} bytes.",
                        "Send less: a shorter text or a smaller file.")


def cut_short(kind: ErrorFormat) -> Response:
    """The connection ended before the whole body came (``ClientDisconnect``): nobody may be left to read this."""
    return body_refused(kind, 400, "Invalid request", "The request body could not be read: the connection ended "
                        "before all of it arrived.", "Send the form again.")


class BodyLimit:
    def __init__(self, app: ASGIApp, formats: ErrorFormats, max_bytes: int = MAX_BODY_BYTES):
        self.app = app
        self.formats = formats
        self.max_bytes = max_bytes

    async def _refuse(self, scope: Scope, send: Send) -> None:
        async def nothing_more() -> Message:
            return {"type": "http.disconnect"}

        await too_large(self.formats.of(scope), self.max_bytes)(scope, nothing_more, send)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = next((v for k, v in scope.get("headers", []) if k == b"content-length"), None)
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, send)
            return
        seen = 0
        over = False
        answered = False

        async def counted_receive() -> Message:
            nonlocal seen, over
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    over = True
                    raise BodyTooLarge()
            return message

        async def guarded_send(message: Message) -> None:
            """Once the ceiling was passed, whatever the app answers (it may turn the error into a
            400 of its own) is replaced by the 413."""
            nonlocal answered
            if over:
                if not answered:
                    answered = True
                    await self._refuse(scope, send)
                return
            answered = answered or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted_receive, guarded_send)
        except BodyTooLarge:
            if not answered:
                answered = True
                await self._refuse(scope, send)
