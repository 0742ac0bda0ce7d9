"""HTML rendering with Jinja2 (autoescaped), and the security headers every page carries."""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.responses import HTMLResponse

from authgate.web.cookies import delete_cookie, read_cookie
from authgate.web.flash import FLASH_COOKIE, read_flash

PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}

_env = Environment(
    loader=FileSystemLoader(Path(__file__).with_name("templates")),
    autoescape=select_autoescape(["html"]),
)


def render(name: str, status: int = 200, **context) -> HTMLResponse:
    return HTMLResponse(_env.get_template(name).render(**context), status_code=status, headers=PAGE_HEADERS)


def page(request, visitor, name: str, status: int = 200, **context) -> HTMLResponse:
    """A page for a signed-in visitor: the layout's navigation, the one-time flash message and a CSRF token."""
    flash = read_flash(request)
    response = render(name, status, user=visitor.user, nav=visitor.nav, flash=flash,
                      csrf_token=visitor.csrf(request), path=request.url.path, **context)
    if read_cookie(request, FLASH_COOKIE) is not None:
        delete_cookie(response, request.app.state.runtime.settings, FLASH_COOKIE)
    return response


def error_page(title: str, message: str, status: int = 400, hint: str | None = None) -> HTMLResponse:
    return render("error.html", status=status, title=title, message=message, hint=hint)
