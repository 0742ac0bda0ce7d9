"""HTML rendering with Jinja2 (autoescaped), and the security headers every page carries."""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.responses import HTMLResponse

from authgate.services.accounts.people.principal import RECENT_SIGN_IN, has_usable_password
from authgate.web.pages.cookies import delete_cookie, read_cookie
from authgate.web.pages.flash import FLASH_COOKIE, read_flash

PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}

_env = Environment(
    loader=FileSystemLoader(Path(__file__).parent.parent / "templates"),
    autoescape=select_autoescape(["html"]),
)



ACRONYMS = {"id": "ID", "ids": "IDs", "uri": "URI", "uris": "URIs", "url": "URL", "urls": "URLs", "dn": "DN",
            "jwks": "JWKS", "jwt": "JWT", "pkce": "PKCE", "dpop": "DPoP", "par": "PAR", "totp": "TOTP", "ttl": "TTL",
            "alg": "algorithm", "ip": "IP"}


def field_words(field: str) -> str:
    """A service's field name as the words a page would label it with: ``client_id`` is "client ID"."""
    return " ".join(ACRONYMS.get(word, word) for word in field.split("_"))


def sentence(message, label: str | None = None) -> str:
    """A message as a sentence: a capital first letter and a full stop. A service's message may start with the
    field it is about (``ServiceError.field``, the name an API client sends): on a page that name is said in words,
    the form's ``label`` for it when given (without a trailing "(...)" note), else ``field_words``."""
    text = str(message).strip()
    if not text:
        return text
    field = getattr(message, "field", None)
    if isinstance(field, str) and field and text.startswith(field) and text[len(field):len(field) + 1] in (" ", ":"):
        words = label.split(" (")[0].strip() if label else field_words(field)
        text = words + text[len(field):]
    text = text[0].upper() + text[1:]
    return text if text[-1] in ".!?" else text + "."


_env.filters["sentence"] = sentence
_env.filters["has_password"] = has_usable_password
_env.globals["recent_minutes"] = int(RECENT_SIGN_IN.total_seconds() // 60)


def render(name: str, status: int = 200, **context) -> HTMLResponse:
    return HTMLResponse(_env.get_template(name).render(**context), status_code=status, headers=PAGE_HEADERS)


def signed_in_state(request, visitor) -> dict:
    """What the layout shows of the visitor (None: nobody is signed in): their name, their navigation and a CSRF
    token bound to their session."""
    if visitor is None:
        return {"user": None, "nav": [], "path": request.url.path}
    return {"user": visitor.user, "nav": visitor.nav, "csrf_token": visitor.csrf(request), "path": request.url.path}


def page(request, visitor, name: str, status: int = 200, **context) -> HTMLResponse:
    """A page for the visitor (None: nobody signed in): the layout's navigation, the one-time flash message and
    a CSRF token."""
    flash = read_flash(request)
    response = render(name, status, **{**signed_in_state(request, visitor), "flash": flash, **context})
    if read_cookie(request, FLASH_COOKIE) is not None:
        delete_cookie(response, request.app.state.runtime.settings, FLASH_COOKIE)
    return response


def error_page(title: str, message: str, status: int = 400, hint: str | None = None, *, request=None,
               visitor=None) -> HTMLResponse:
    """The error page; given the request and the visitor, it shows who is signed in, as every page does."""
    state = signed_in_state(request, visitor) if request is not None else {}
    return render("error.html", status=status, title=title, message=message, hint=hint, **state)
