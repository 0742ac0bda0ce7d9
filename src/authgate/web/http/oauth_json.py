"""The JSON answer of the OAuth endpoints (token, revocation, introspection, device authorization):
Authlib's status, body and headers, never cached (RFC 6749 §5.1)."""

from __future__ import annotations

import json

from starlette.responses import Response

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def oauth_json(status: int, body, headers) -> Response:
    headers = dict(headers)
    headers.pop("Content-Type", None)
    headers.update(NO_STORE)
    return Response(json.dumps(body), status_code=status, headers=headers, media_type="application/json")
