"""``/oauth/logout``: the OpenID Connect ``end_session_endpoint`` (RP-Initiated Logout 1.0), GET or POST (§2).

An application's POST is answered with a redirect to the same request by GET: the sign-in cookie is
``SameSite=Lax``, so a browser sends it on a cross-site top-level GET and not on a cross-site POST. With a valid
``id_token_hint`` naming the signed-in user, the session ends at once; otherwise the user confirms on a page whose
form (POST, CSRF token bound to the session) carries the request on. Signing out is ``SessionService.end``, as on
the sign-out page, so the applications signed in through the session hear of it (Back-Channel Logout). Then the
browser goes to the registered ``post_logout_redirect_uri`` (with ``state``), or sees the signed-out page.
The reading of the request is ``oauth/endpoints/end_session.py``'s."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from authgate.oauth.endpoints.end_session import EndSession, EndSessionRefused, read_end_session
from authgate.oauth.endpoints.metadata import PATHS
from authgate.web.http.error_format import ErrorFormat
from authgate.web.pages.cookies import SESSION_COOKIE, delete_cookie, read_cookie
from authgate.web.pages.csrf import EXPIRED_HINT, FormRejected, session_binding
from authgate.web.pages.forms import BadForm, query_pairs, read_form
from authgate.web.pages.templates import error_page, page
from authgate.web.pages.visitor import optional_visitor

router = APIRouter(include_in_schema=False, route_class=ErrorFormat.PAGE.route_class)

PATH = PATHS["end_session_endpoint"]


def _read(request: Request, pairs: list[tuple[str, str]]) -> EndSession:
    rt = request.app.state.runtime
    with rt.db.session(write=False) as s:
        return read_end_session(rt, s, pairs)


def _sign_out(request: Request, asked: EndSession) -> Response:
    rt = request.app.state.runtime
    session_id = read_cookie(request, SESSION_COOKIE)
    if session_id:
        with rt.db.session() as s:
            rt.sessions.end(s, session_id)
    response = _after(request, asked)
    delete_cookie(response, rt.settings, SESSION_COOKIE)
    return response


def _after(request: Request, asked: EndSession) -> Response:
    if asked.redirect_to:
        return RedirectResponse(asked.redirect_to, status_code=303)
    return page(request, None, "signed_out.html", client_name=asked.client_name, unregistered=asked.unregistered)


def _refused(request: Request, error: EndSessionRefused, who) -> Response:
    return error_page("Sign-out request refused", str(error), request=request, visitor=who)


def _answer(request: Request, pairs: list[tuple[str, str]]) -> Response:
    who = optional_visitor(request)
    try:
        asked = _read(request, pairs)
    except EndSessionRefused as error:
        return _refused(request, error, who)
    if who is None:
        return _after(request, asked)
    if asked.hint_sub is not None and asked.hint_sub == str(who.user.id):
        return _sign_out(request, asked)
    return page(request, who, "logout_confirm.html", client_name=asked.client_name, params=asked.params,
                action=PATH, other_user=asked.hint_sub is not None)


@router.get(PATH)
async def end_session(request: Request) -> Response:
    return await run_in_threadpool(_answer, request, query_pairs(request))


@router.post(PATH)
async def end_session_posted(request: Request) -> Response:
    """The confirmation form (it has a CSRF token), or an application's request, sent on as a GET."""
    try:
        pairs = await read_form(request)
    except BadForm as error:
        raise FormRejected("Invalid form", str(error)) from None
    if not any(name == "csrf_token" for name, _ in pairs):
        return RedirectResponse(f"{PATH}?{urlencode(pairs)}", status_code=303)
    binding = session_binding(read_cookie(request, SESSION_COOKIE))
    if not request.app.state.runtime.sessions.check_csrf(binding, dict(reversed(pairs)).get("csrf_token")):
        raise FormRejected("Expired form", "This form has expired or was not sent by authgate.", hint=EXPIRED_HINT)
    try:
        asked = await run_in_threadpool(_read, request, pairs)
    except EndSessionRefused as error:
        return _refused(request, error, None)
    return await run_in_threadpool(_sign_out, request, asked)
