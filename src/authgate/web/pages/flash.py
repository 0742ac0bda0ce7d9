"""One-time flash messages ("Token revoked.") carried across a redirect in a signed cookie, and the
redirect that carries one.

The cookie holds the message and an HMAC of it under the server's key, so nobody can make
authgate show a message it did not write; it is read once and deleted. Never put a secret in one.
"""

from __future__ import annotations

import base64

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from authgate.web.pages.cookies import read_cookie, set_cookie

FLASH_COOKIE = "authgate_flash"
MAX_MESSAGE = 500


def _mac(request: Request, text: str) -> str:
    return request.app.state.runtime.hasher.hash("flash:" + text)[:32]


def set_flash(request: Request, response: Response, message: str) -> None:
    text = message[:MAX_MESSAGE]
    encoded = base64.urlsafe_b64encode(text.encode("utf-8")).decode("ascii")
    set_cookie(response, request.app.state.runtime.settings, FLASH_COOKIE, f"{encoded}.{_mac(request, text)}", max_age=120)


def redirect(request: Request, url: str, message: str) -> Response:
    """A 303 to ``url`` that shows ``message`` there."""
    response = RedirectResponse(url, status_code=303)
    set_flash(request, response, message)
    return response


def read_flash(request: Request) -> str | None:
    """The flash message the request carries, if its signature holds (the caller deletes the cookie)."""
    raw = read_cookie(request, FLASH_COOKIE) or ""
    encoded, _, mac = raw.partition(".")
    try:
        text = base64.urlsafe_b64decode(encoded.encode("ascii")).decode("utf-8")
    except ValueError:
        return None
    return text if text and mac == _mac(request, text) else None
