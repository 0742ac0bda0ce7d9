"""The JSON answer of the OAuth endpoints (token, revocation, introspection, device authorization):
Authlib's status, body and headers, never cached (RFC 6749 §5.1).

Built as Starlette's ``Response(json.dumps(body), status, headers, media_type="application/json")`` would be,
header for header, without its generic header handling: the answer of every OAuth request goes through here."""

from __future__ import annotations

import json

from authlib.consts import default_json_headers
from starlette.responses import Response

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
_NO_STORE_RAW = tuple((name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in NO_STORE.items())
_JSON_TYPE = (b"content-type", b"application/json")


class _Json(Response):
    media_type = "application/json"

    def __init__(self, status: int, body: bytes, raw_headers: list[tuple[bytes, bytes]]):
        self.status_code = status
        self.background = None
        self.body = body
        self.raw_headers = raw_headers


def _raw_headers(headers) -> list[tuple[bytes, bytes]]:
    if not headers or headers is default_json_headers:
        return list(_NO_STORE_RAW)
    headers = dict(headers)
    headers.pop("Content-Type", None)
    headers.update(NO_STORE)
    return [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers.items()]


def oauth_json(status: int, body, headers) -> Response:
    content = json.dumps(body).encode("utf-8")
    raw = _raw_headers(headers)
    names = [name for name, _ in raw]
    if b"content-length" not in names and not (status < 200 or status in (204, 304)):
        raw.append((b"content-length", str(len(content)).encode("latin-1")))
    if b"content-type" not in names:
        raw.append(_JSON_TYPE)
    return _Json(status, content, raw)
