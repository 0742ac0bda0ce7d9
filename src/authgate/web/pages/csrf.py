"""Forms that change state: read the body and check its CSRF token, bound to the sign-in session
(or, before sign-in, to the nonce cookie). A rejected form raises ``FormRejected``, answered by
the app's error handler with an error page."""

from __future__ import annotations

from starlette.requests import Request

from authgate.web.pages.forms import BadForm, read_form

EXPIRED_HINT = "Go back, reload the page and try again (cookies must be enabled)."


class FormRejected(Exception):
    """A form refused before any handler ran: the error page's title, message and hint."""

    def __init__(self, title: str, message: str, hint: str | None = None):
        super().__init__(message)
        self.title, self.message, self.hint = title, message, hint


def session_binding(session_id: str | None) -> str | None:
    return "session:" + session_id if session_id else None


def login_binding(nonce: str | None) -> str | None:
    return "login:" + nonce if nonce else None


def token_for(request: Request, binding: str) -> str:
    return request.app.state.runtime.sessions.csrf_token(binding)


async def checked_pairs(request: Request, binding: str | None) -> list[tuple[str, str]]:
    """The form's (name, value) pairs, repeats kept (checkboxes), once its CSRF token matches ``binding``."""
    try:
        pairs = await read_form(request)
    except BadForm as error:
        raise FormRejected("Invalid form", str(error)) from None
    if not request.app.state.runtime.sessions.check_csrf(binding, dict(reversed(pairs)).get("csrf_token")):
        raise FormRejected("Expired form", "This form has expired or was not sent by authgate.", hint=EXPIRED_HINT)
    return pairs


async def checked_form(request: Request, binding: str | None) -> dict[str, str]:
    """The form's fields (first value of each), once its CSRF token matches ``binding``."""
    return dict(reversed(await checked_pairs(request, binding)))
