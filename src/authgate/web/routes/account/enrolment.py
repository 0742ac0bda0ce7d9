"""``/login/enrol``: setting up a second factor during sign-in, for a user the second-factor policy covers (or a
client's ``acr_values`` asks a second factor of) who has none yet: an authenticator app (its first code confirms
it) or a passkey (the browser's ``navigator.credentials.create`` between two requests, run by
``/static/passkeys.js`` as on the account page). The pending sign-in's cookie opens this page and nothing else; the
session starts only once the factor is confirmed, and the recovery codes are then shown once. ``SecondStep`` holds
the rules; the page is the account page's enrolment, with the pending cookie in place of a session."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from authgate.services.accounts.factors.factors import TOTP
from authgate.services.accounts.factors.passkeys import PASSKEY
from authgate.services.accounts.people.principal import signed_in
from authgate.services.accounts.sign_in.second_step import Enrolled, WrongEnrolmentCode
from authgate.services.errors import Invalid
from authgate.services.operations.ratelimit import TooManyAttempts
from authgate.web.http.error_format import ErrorFormat
from authgate.web.pages.cookies import CSRF_COOKIE, SESSION_COOKIE, csrf_nonce, delete_cookie, read_cookie, set_cookie
from authgate.web.pages.csrf import checked_form, login_binding, token_for
from authgate.web.pages.forms import client_ip
from authgate.web.pages.pending import ENROL, PENDING_COOKIE, safe_next
from authgate.web.pages.qr import qr_svg
from authgate.web.pages.shown_once import show_once
from authgate.web.pages.templates import render, signed_in_state
from authgate.web.pages.visitor import Visitor
from authgate.web.routes.account.passkeys import webauthn_options

router = APIRouter(include_in_schema=False, route_class=ErrorFormat.PAGE.route_class)

PASSKEY_OPTIONS = ENROL + "/passkey/options"
PASSKEY_ACTION = ENROL + "/passkey"
USE_OF_CODES = {PASSKEY: "Sign in with one when your passkey is not at hand.",
                TOTP: "Sign in with one when your authenticator app is not at hand."}


def _back_to_login(next_url: str) -> Response:
    return RedirectResponse("/login?" + urlencode({"next": next_url}), status_code=303)


async def _enrol_form(request: Request, next_url: str, error: Invalid | str | None = None, status: int = 200,
                      retry_after: int | None = None, passkey_error: Invalid | None = None,
                      passkey_name: str = "") -> Response:
    runtime = request.app.state.runtime

    def load():
        with runtime.db.session() as s:
            return runtime.second_step.enrolment(s, read_cookie(request, PENDING_COOKIE))

    found = await run_in_threadpool(load)
    if found is None:
        return _back_to_login(next_url)
    user, enrolment = found
    nonce, is_new = csrf_nonce(request)
    response = render("totp_enrol.html", status=status, **{
        **signed_in_state(request, None), "qr": qr_svg(enrolment.uri), "secret": enrolment.secret,
        "error": Invalid(error) if isinstance(error, str) else error, "username": user.username,
        "required": True, "action": ENROL, "next": next_url, "cancel": "/login",
        "passkey_action": PASSKEY_ACTION, "passkey_options": PASSKEY_OPTIONS, "passkey_error": passkey_error,
        "passkey_name": passkey_name,
        "csrf_token": token_for(request, login_binding(nonce))})
    if is_new:
        set_cookie(response, runtime.settings, CSRF_COOKIE, nonce)
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    return response


@router.get(ENROL)
async def enrol_page(request: Request) -> Response:
    return await _enrol_form(request, safe_next(request.query_params.get("next")))


@router.post(ENROL)
async def enrol(request: Request) -> Response:
    runtime = request.app.state.runtime
    fields = await checked_form(request, login_binding(read_cookie(request, CSRF_COOKIE)))
    next_url = safe_next(fields.get("next"))

    def confirm():
        with runtime.db.session() as s:
            return runtime.second_step.complete_enrolment(
                s, read_cookie(request, PENDING_COOKIE), fields.get("code", ""), client_ip(request),
                replacing=read_cookie(request, SESSION_COOKIE))

    outcome = await run_in_threadpool(confirm)
    if isinstance(outcome, TooManyAttempts):
        return await _enrol_form(request, next_url, str(outcome), status=429, retry_after=outcome.retry_after)
    if isinstance(outcome, WrongEnrolmentCode):
        return await _enrol_form(request, next_url, outcome.error, status=422)
    if not isinstance(outcome, Enrolled):
        return _back_to_login(next_url)
    return await _signed_in_with_codes(request, outcome, next_url)


@router.post(PASSKEY_OPTIONS)
async def enrol_passkey_options(request: Request) -> Response:
    await checked_form(request, login_binding(read_cookie(request, CSRF_COOKIE)))
    runtime = request.app.state.runtime

    def options():
        with runtime.db.session() as s:
            return runtime.second_step.enrolment_passkey_options(s, read_cookie(request, PENDING_COOKIE))

    options = await run_in_threadpool(options)
    if options is None:
        return Response('{"error": "No sign-in is waiting for a second factor: enter your password again."}',
                        status_code=409, media_type="application/json")
    return webauthn_options(options)


@router.post(PASSKEY_ACTION)
async def enrol_passkey(request: Request) -> Response:
    runtime = request.app.state.runtime
    fields = await checked_form(request, login_binding(read_cookie(request, CSRF_COOKIE)))
    next_url = safe_next(fields.get("next"))
    name = fields.get("name", "")

    def register():
        with runtime.db.session() as s:
            return runtime.second_step.complete_enrolment_with_passkey(
                s, read_cookie(request, PENDING_COOKIE), fields.get("credential", ""), name, client_ip(request),
                replacing=read_cookie(request, SESSION_COOKIE))

    outcome = await run_in_threadpool(register)
    if isinstance(outcome, TooManyAttempts):
        return await _enrol_form(request, next_url, str(outcome), status=429, retry_after=outcome.retry_after)
    if isinstance(outcome, WrongEnrolmentCode):
        return await _enrol_form(request, next_url, status=422, passkey_error=outcome.error, passkey_name=name[:64])
    if not isinstance(outcome, Enrolled):
        return _back_to_login(next_url)
    return await _signed_in_with_codes(request, outcome, next_url)


async def _signed_in_with_codes(request: Request, enrolled: Enrolled, next_url: str) -> Response:
    """The new session's cookie, and the recovery codes shown once to that session, then on to ``next_url``."""
    runtime = request.app.state.runtime

    def resume():
        with runtime.db.session(write=False) as s:
            return runtime.sessions.resume(s, enrolled.session_id)

    current = await run_in_threadpool(resume)
    who = Visitor(current.user, current.session_id, signed_in(current.user, current.auth_time))
    response = await show_once(
        request, who, title="Your recovery codes", heading="Two-step sign-in is on", what="recovery codes",
        label="Your recovery codes (each works once)", secret="\n".join(enrolled.recovery_codes), multiline=True,
        details=[("Use", USE_OF_CODES.get(enrolled.kind, USE_OF_CODES[TOTP]))],
        back=next_url, back_label="Continue")
    set_cookie(response, runtime.settings, SESSION_COOKIE, enrolled.session_id, max_age=runtime.settings.session_ttl)
    delete_cookie(response, runtime.settings, PENDING_COOKIE)
    return response
