"""The browser cookies: the sign-in session, the pre-sign-in CSRF nonce and the flash message.

With an https issuer every cookie is named with the ``__Host-`` prefix (RFC 6265bis §4.1.3.2):
browsers then accept it only when it is Secure, has ``Path=/`` and no ``Domain``, so a sibling
subdomain cannot plant or overwrite one (session fixation, CSRF nonce tossing).
"""

from __future__ import annotations

import secrets

from starlette.requests import Request
from starlette.responses import Response

from authgate.settings import Settings

SESSION_COOKIE = "authgate_session"
CSRF_COOKIE = "authgate_csrf"
HOST_PREFIX = "__Host-"


def cookie_name(settings: Settings, name: str) -> str:
    return HOST_PREFIX + name if settings.secure_cookies else name


def read_cookie(request: Request, name: str) -> str | None:
    return request.cookies.get(cookie_name(request.app.state.runtime.settings, name))


def set_cookie(response: Response, settings: Settings, name: str, value: str, max_age: int | None = None) -> None:
    response.set_cookie(
        cookie_name(settings, name), value, max_age=max_age, httponly=True, samesite="lax",
        secure=settings.secure_cookies, path="/",
    )


def delete_cookie(response: Response, settings: Settings, name: str) -> None:
    """Deleted with the attributes it was set with: a ``__Host-`` cookie is only replaced by a Secure one."""
    response.delete_cookie(cookie_name(settings, name), path="/", secure=settings.secure_cookies, httponly=True,
                           samesite="lax")


def csrf_nonce(request: Request) -> tuple[str, bool]:
    """The request's CSRF nonce and whether it is new (and so must be set on the response)."""
    nonce = read_cookie(request, CSRF_COOKIE)
    if nonce and 16 <= len(nonce) <= 64:
        return nonce, False
    return secrets.token_urlsafe(24), True
