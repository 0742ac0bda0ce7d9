"""Sign-in through an upstream identity provider: the sign-in page's "Sign in with NAME" button posts here, the
browser goes to the provider, and the provider sends it back to the callback, which starts the session and goes
on to where the sign-in was asked for (the pending ``/oauth/authorize`` request, kept in ``next``). What is
checked and which account it signs in is ``services/federation/``'s to decide; a refusal is a page saying why."""

from __future__ import annotations

import hmac
from urllib.parse import urlencode

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from authgate.services.federation.linking import Linked
from authgate.services.federation.sign_in import ROUND_TRIP_SECONDS, Refused, SecondStepNeeded
from authgate.web.http.error_format import ErrorFormat
from authgate.web.pages.cookies import CSRF_COOKIE, SESSION_COOKIE, delete_cookie, read_cookie, set_cookie
from authgate.web.pages.csrf import checked_form, login_binding
from authgate.web.pages.flash import redirect

from authgate.web.pages.pending import safe_next, to_pending
from authgate.web.pages.templates import render, signed_in_state
from authgate.web.pages.visitor import optional_visitor

router = APIRouter(include_in_schema=False, route_class=ErrorFormat.PAGE.route_class)

FEDERATION_COOKIE = "authgate_federation"
MAX_SHOWN = 300


def _printable(value: str | None) -> str:
    return "".join(c for c in (value or "")[:MAX_SHOWN] if c.isprintable())


async def _refused(request: Request, refused: Refused, status: int = 400) -> Response:
    who = await run_in_threadpool(optional_visitor, request)
    response = render("federation_error.html", status=status, **{
        **signed_in_state(request, who), "message": refused.message,
        "login_url": "/login?" + urlencode({"next": refused.next_url})})
    delete_cookie(response, request.app.state.runtime.settings, FEDERATION_COOKIE)
    return response


@router.post("/login/federated/{name}")
async def begin(request: Request, name: str) -> Response:
    runtime = request.app.state.runtime
    fields = await checked_form(request, login_binding(read_cookie(request, CSRF_COOKIE)))
    next_url = safe_next(fields.get("next"))
    federation = runtime.federated_sign_ins

    def start():
        with runtime.db.session(write=False) as s:
            provider = federation.provider(s, name)
        if provider is None:
            return None
        started = federation.authorization(provider)
        with runtime.db.session() as s:
            return federation.begin(s, provider, started, next_url)

    outcome = await run_in_threadpool(start)
    if outcome is None:
        return await _refused(request, Refused("There is no such way to sign in here (it may have been turned off). "
                                               "Sign in another way.", next_url), status=404)
    if isinstance(outcome, Refused):
        return await _refused(request, outcome, status=502)
    response = RedirectResponse(outcome.url, status_code=303)
    set_cookie(response, runtime.settings, FEDERATION_COOKIE, outcome.state, max_age=ROUND_TRIP_SECONDS)
    return response


@router.get("/login/federated/{name}/callback")
async def callback(request: Request, name: str) -> Response:
    """The provider's answer (RFC 6749 §4.1.2, RFC 9207 §2): a code, or an error shown as the provider said it."""
    runtime = request.app.state.runtime
    federation = runtime.federated_sign_ins
    params = request.query_params
    state = params.get("state")
    cookie = read_cookie(request, FEDERATION_COOKIE)
    if not state or not cookie or not hmac.compare_digest(state.encode(), cookie.encode()):
        return await _refused(request, Refused(
            "This answer from the identity provider does not belong to a sign-in started in this browser. Start "
            "again from the sign-in page."))

    def take():
        with runtime.db.session() as s:
            return federation.take(s, name, state)

    taken = await run_in_threadpool(take)
    if isinstance(taken, Refused):
        return await _refused(request, taken)
    provider, secrets, next_url = taken
    if "linking" in secrets:
        return await _link(request, provider, secrets, params)
    if params.get("error"):
        said = _printable(params.get("error"))
        description = _printable(params.get("error_description"))
        reason = f"it answered {said}" + (f": {description}" if description else "")

        def refuse():
            with runtime.db.session() as s:
                return federation.complete(s, provider, reason, next_url, None)

        return await _refused(request, await run_in_threadpool(refuse))

    def finish():
        identity = federation.answer(provider, secrets, params.get("code"), params.get("iss"))
        with runtime.db.session() as s:
            return federation.complete(s, provider, identity, next_url, read_cookie(request, SESSION_COOKIE))

    outcome = await run_in_threadpool(finish)
    if isinstance(outcome, Refused):
        return await _refused(request, outcome)
    if isinstance(outcome, SecondStepNeeded):
        response = to_pending(runtime.settings, outcome.pending, outcome.next_url)
        delete_cookie(response, runtime.settings, FEDERATION_COOKIE)
        return response
    response = RedirectResponse(outcome.next_url, status_code=303)
    set_cookie(response, runtime.settings, SESSION_COOKIE, outcome.started.session_id,
               max_age=runtime.settings.session_ttl)
    delete_cookie(response, runtime.settings, FEDERATION_COOKIE)
    return response


async def _link(request: Request, provider, secrets: dict, params) -> Response:
    """The answer of a round trip started by **Link** on the account page: linked to the user who started it, who
    must still be the one signed in in this browser."""
    runtime = request.app.state.runtime
    federation = runtime.federated_sign_ins
    who = await run_in_threadpool(optional_visitor, request)
    if who is None or who.user.id != secrets["linking"]:
        return await _refused(request, Refused("This linking was started by another account than the one signed in "
                                               "here now. Sign in again and link from your account page.", "/profile"))

    def finish():
        if params.get("error"):
            description = _printable(params.get("error_description"))
            identity = f"it answered {_printable(params.get('error'))}" + (f": {description}" if description else "")
        else:
            identity = federation.answer(provider, secrets, params.get("code"), params.get("iss"))
        with runtime.db.session() as s:
            return runtime.identity_links.complete(s, who.principal, provider, identity)

    outcome = await run_in_threadpool(finish)
    message = (f"Your {outcome.provider} account is linked: sign in with it from now on." if isinstance(outcome, Linked)
               else outcome.message)
    response = redirect(request, "/profile", message)
    delete_cookie(response, runtime.settings, FEDERATION_COOKIE)
    return response
