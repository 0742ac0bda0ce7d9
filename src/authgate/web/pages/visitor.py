"""Who is looking at a page: the signed-in user, their session, and what the navigation bar may offer.

Pages call ``visitor(request)`` in the thread pool; a page that needs a signed-in user raises
``SignInRequired`` when there is none (the app answers with a redirect to ``/login?next=...``).
The pages act through the services as ``signed_in(user)``: the services' permission rules decide.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from authgate.services.accounts.people.principal import Principal, signed_in
from authgate.services.accounts.sessions.sessions import SignedIn
from authgate.storage.models import User
from authgate.web.pages.cookies import SESSION_COOKIE, read_cookie
from authgate.web.pages.csrf import checked_form, checked_pairs, session_binding, token_for

NAV = (
    ("/admin/auth-clients", "Auth Clients", "view-auth_clients"),
    ("/admin/resources", "Resources", "view-auth_clients"),
    ("/admin/users", "Users", "view-users"),
    ("/admin/groups", "Groups", "view-groups"),
)
ADMINISTRATORS_NAV = (("/admin/security-log", "Security log"), ("/admin/sign-in-policy", "Sign-in policy"),
                      ("/admin/identity-providers", "Identity providers"))


class SignInRequired(Exception):
    def __init__(self, next_url: str):
        self.next_url = next_url


@dataclass
class Visitor:
    user: User
    session_id: str
    principal: Principal
    nav: list[tuple[str, str]] = field(default_factory=list)

    def csrf(self, request: Request) -> str:
        return token_for(request, session_binding(self.session_id))


def _visitor_of(runtime, s: Session, current: SignedIn) -> Visitor:
    principal = signed_in(current.user, current.auth_time)
    nav = [(href, label) for href, label, needed in NAV if runtime.permissions.allows(s, principal, needed)]
    if runtime.permissions.is_administrator(principal):
        nav.extend(ADMINISTRATORS_NAV)
    return Visitor(current.user, current.session_id, principal, nav)


def visitor(request: Request) -> Visitor:
    """The signed-in visitor (run in the thread pool); ``SignInRequired`` otherwise."""
    runtime = request.app.state.runtime
    with runtime.db.session(write=False) as s:
        current = runtime.sessions.resume(s, read_cookie(request, SESSION_COOKIE))
        if current is None:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            raise SignInRequired(target if request.method == "GET" else request.url.path)
        return _visitor_of(runtime, s, current)


def optional_visitor(request: Request) -> Visitor | None:
    """The signed-in visitor, or None (run in the thread pool): for pages anyone may see, error pages included,
    so that they show who is signed in."""
    try:
        return visitor(request)
    except SignInRequired:
        return None


def visitor_of(current: SignedIn | None) -> Visitor | None:
    """The visitor of a session already resumed (the OAuth pages resume it themselves), or None; without the
    administration links, which would cost the authorization flow a permission look-up per link."""
    if current is None:
        return None
    return Visitor(current.user, current.session_id, signed_in(current.user, current.auth_time))


async def signed_in_form(request: Request) -> tuple[Visitor, dict[str, str]]:
    """The signed-in visitor and their form, once its CSRF token is checked: every page POST."""
    who = await run_in_threadpool(visitor, request)
    return who, await checked_form(request, session_binding(who.session_id))


async def signed_in_pairs(request: Request) -> tuple[Visitor, list[tuple[str, str]]]:
    """As ``signed_in_form``, with the form as its (name, value) pairs: for checkbox lists."""
    who = await run_in_threadpool(visitor, request)
    return who, await checked_pairs(request, session_binding(who.session_id))


async def permitted_visitor(request: Request, permission: str) -> Visitor:
    """The signed-in visitor, once the services let them ``permission`` (``Forbidden`` otherwise): the
    empty forms, which only the permission's holders may see."""
    who = await run_in_threadpool(visitor, request)
    runtime = request.app.state.runtime

    def check():
        with runtime.db.session(write=False) as s:
            runtime.permissions.require(s, who.principal, permission)

    await run_in_threadpool(check)
    return who
