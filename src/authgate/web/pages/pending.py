"""Where a pending sign-in goes (``services/accounts/sign_in/second_step.py``): its cookie, and the page that comes next,
the second step's code or, for a user who must set up a second factor first, the enrolment page, and the path a
sign-in may return to. Shared by the sign-in pages and the authorization endpoint (a client asking for a second
factor the session lacks)."""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.responses import RedirectResponse

from authgate.services.accounts.sign_in.second_step import Pending
from authgate.web.pages.cookies import set_cookie

PENDING_COOKIE = "authgate_pending"
SECOND_STEP = "/login/second-step"
ENROL = "/login/enrol"


def safe_next(target: str | None) -> str:
    """Only a path on this server: never an absolute or scheme-relative URL (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def page_of(pending_enrols: bool) -> str:
    return ENROL if pending_enrols else SECOND_STEP


def to_pending(settings, pending: Pending, next_url: str) -> RedirectResponse:
    """A 303 to the pending sign-in's page, with its cookie; ``next_url`` is where the session then goes."""
    response = RedirectResponse(page_of(pending.enrol) + "?" + urlencode({"next": next_url}), status_code=303)
    set_cookie(response, settings, PENDING_COOKIE, pending.pending_id, max_age=settings.pending_sign_in_seconds)
    return response
