"""The browser cookies: the sign-in session and the pre-sign-in CSRF nonce."""

from __future__ import annotations

import secrets

from starlette.requests import Request
from starlette.responses import Response

from authgate.settings import Settings

SESSION_COOKIE = "authgate_session"
CSRF_COOKIE = "authgate_csrf"


def set_cookie(response: Response, settings: Settings, name: str, value: str, max_age: int | None = None) -> None:
    response.set_cookie(
        name, value, max_age=max_age, httponly=True, samesite="lax", secure=settings.secure_cookies, path="/"
    )


def csrf_nonce(request: Request) -> tuple[str, bool]:
    """The request's CSRF nonce and whether it is new (and so must be set on the response)."""
    nonce = request.cookies.get(CSRF_COOKIE)
    if nonce and 16 <= len(nonce) <= 64:
        return nonce, False
    return secrets.token_urlsafe(24), True
