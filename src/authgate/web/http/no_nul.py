"""U+0000 refused at the door (a pure ASGI middleware): PostgreSQL text cannot hold it and no field
needs it, so a request that carries one in its path, query string or body never reaches a route.

The body is read whole (``BodyLimit``, outside, bounds it) and handed on unchanged; a NUL is looked
for as it would decode: ``%00`` or a raw byte in a form, ``\\u0000`` or a raw byte in JSON, a raw
byte in anything else. The refusal is in the error format of the route the request was meant for
(``ErrorFormats``): the API's 422, an OAuth ``invalid_request`` (400), or the error page (400)."""

from __future__ import annotations

from urllib.parse import parse_qsl

from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from authgate.web.jsonapi.envelope import INVALID
from authgate.web.http.error_format import ErrorFormat, ErrorFormats
from authgate.web.pages.templates import error_page

FORM_MARKERS = (b"%00", b"\x00")
JSON_MARKERS = (b"\\u0000", b"\x00")
RAW_MARKERS = (b"\x00",)


def _header(scope: Scope, name: bytes) -> bytes | None:
    return next((value for key, value in scope["headers"] if key == name), None)


def _markers(scope: Scope) -> tuple[bytes, ...]:
    content_type = (_header(scope, b"content-type") or b"").split(b";")[0].strip().lower()
    if content_type in (b"", b"application/x-www-form-urlencoded"):
        return FORM_MARKERS
    if content_type == b"application/json" or content_type.endswith(b"+json"):
        return JSON_MARKERS
    return RAW_MARKERS


def _query_field(query_string: bytes) -> str | None:
    """The name of the first query parameter holding a NUL (``query`` if the name itself is one)."""
    if b"%00" not in query_string and b"\x00" not in query_string:
        return None
    for name, value in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True):
        if "\x00" in name + value:
            return name.replace("\x00", "") or "query"
    return "query"


class RefuseNul:
    def __init__(self, app: ASGIApp, formats: ErrorFormats):
        self.app = app
        self.formats = formats

    def _refusal(self, scope: Scope, field: str, where: str) -> Response:
        message = f"The {where} must not contain NUL characters."
        kind = self.formats.of(scope)
        if kind is ErrorFormat.API:
            return JSONResponse({"message": INVALID, "errors": {field: [message]}}, status_code=422)
        if kind.json:
            return JSONResponse({"error": "invalid_request", "error_description": message}, status_code=400,
                                headers={"Cache-Control": "no-store", "Pragma": "no-cache"})
        return error_page("Invalid request", message, hint="Check the link or the form and try again.")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        refusal = None
        if "\x00" in path:
            refusal = self._refusal(scope, "path", "URL")
        elif (field := _query_field(scope["query_string"])) is not None:
            refusal = self._refusal(scope, field, "query string")
        elif _header(scope, b"content-length") not in (None, b"0") or _header(scope, b"transfer-encoding"):
            body, receive = await _buffered(receive)
            if any(marker in body for marker in _markers(scope)):
                refusal = self._refusal(scope, "body", "body")
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        await self.app(scope, receive, send)


async def _buffered(receive: Receive) -> tuple[bytes, Receive]:
    """The whole body, and a ``receive`` that hands it on as one message, then listens as before."""
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"", _replaying([message], receive)
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    body = b"".join(chunks)
    return body, _replaying([{"type": "http.request", "body": body, "more_body": False}], receive)


def _replaying(pending: list[Message], receive: Receive) -> Receive:
    async def replay() -> Message:
        return pending.pop(0) if pending else await receive()

    return replay
