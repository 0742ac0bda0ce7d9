"""Sign-in (the password, then the second step for an account with a second factor; or a passkey alone), sign-out
and the start page. What follows a password is ``SecondStep``'s to decide, a passkey ``PasskeySignIn``'s; the
routes only carry their answer to the browser (``/static/passkeys.js`` runs the WebAuthn ceremonies between)."""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from authgate.services.accounts.factors.passkeys import PASSKEY
from authgate.services.accounts.sign_in.login_guard import DIRECTORY, TooManyAttempts
from authgate.services.directory.sign_in import UNREACHABLE, DirectoryDown
from authgate.services.federation.sign_in import Refused as FederationRefused, SecondStepNeeded, SignedIn
from authgate.services.accounts.sign_in.passkey_sign_in import Refused
from authgate.services.accounts.sign_in.second_step import ENROL, Pending, Started, WrongCode
from authgate.services.operations.listing import ListQuery
from authgate.storage.types import utcnow
from authgate.web.http.error_format import ErrorFormat
from authgate.web.pages.cookies import CSRF_COOKIE, SESSION_COOKIE, csrf_nonce, delete_cookie, read_cookie, set_cookie
from authgate.web.pages.csrf import checked_form, login_binding, session_binding, token_for
from authgate.web.pages.forms import client_ip
from authgate.web.pages.pending import PENDING_COOKIE, SECOND_STEP, page_of, safe_next, to_pending
from authgate.web.pages.templates import page, render, signed_in_state
from authgate.web.pages.visitor import optional_visitor
from authgate.web.routes.account.passkeys import webauthn_options

router = APIRouter(include_in_schema=False, route_class=ErrorFormat.PAGE.route_class)

LOGIN_FAILED = "Invalid username or password."
WRONG_CODE = "That code is wrong or was already used. Enter the code your authenticator app shows now, or a recovery code."
PASSKEY_FAILED = "That passkey did not sign you in. Try again, or sign in with your password."
WRONG_PASSKEY = "That passkey was not accepted. Try again, or enter a code."


async def _login_form(request: Request, next_url: str, error: str | None = None, username: str = "",
                      status: int = 200, autofill: bool = True) -> Response:
    """The sign-in form; to a visitor already signed in (``prompt=login``, another account) it says so. After a
    refused passkey it does not offer one in the autofill again (the browser would answer with the same one)."""
    runtime = request.app.state.runtime
    nonce, is_new = csrf_nonce(request)

    def visitor_and_providers():
        with runtime.db.session(write=False) as s:
            providers = runtime.federated_sign_ins.buttons(s)
        return optional_visitor(request), providers

    who, providers = await run_in_threadpool(visitor_and_providers)
    response = render("login.html", status=status, **{
        **signed_in_state(request, who), "next": next_url, "error": error, "username": username,
        "autofill": autofill, "providers": providers, "csrf_token": token_for(request, login_binding(nonce))})
    if is_new:
        set_cookie(response, runtime.settings, CSRF_COOKIE, nonce)
    return response


HOME_ROWS = 5


def _home_data(request: Request, who) -> dict:
    """The visitor's tokens and applications at a glance; for administrators, the server's overview."""
    rt = request.app.state.runtime
    me = who.principal
    with rt.db.session(write=False) as s:
        tokens = rt.personal_tokens.list_for(s, me, who.user.id, ListQuery(
            per_page=HOME_ROWS, order_by="created_at", order_direction="desc"))
        apps = rt.authorizations.list(s, me, ListQuery(per_page=HOME_ROWS, order_by="last_authorized_at",
                                                       order_direction="desc"))
        data = {"tokens": tokens.items, "token_total": tokens.total, "apps": apps.items, "app_total": apps.total,
                "overview": None, "now": utcnow()}
        if rt.permissions.is_administrator(me):
            data["overview"] = rt.activity.overview(s, me)
            data["usernames"] = rt.activity.usernames(s, (event.user_id for event in data["overview"].latest))
        return data


@router.get("/")
async def home(request: Request) -> Response:
    who = await run_in_threadpool(optional_visitor, request)
    if who is None:
        return page(request, None, "home.html")
    return page(request, who, "home.html", **await run_in_threadpool(_home_data, request, who))


@router.get("/favicon.ico")
async def favicon() -> Response:
    """Browsers ask for it without reading the page's icon link."""
    return RedirectResponse("/static/favicon.svg", status_code=301)


@router.get("/login")
async def login_page(request: Request) -> Response:
    hint = request.query_params.get("login_hint", "")[:255]
    return await _login_form(request, safe_next(request.query_params.get("next")), username=hint)


@router.post("/login")
async def login(request: Request) -> Response:
    runtime = request.app.state.runtime
    fields = await checked_form(request, login_binding(read_cookie(request, CSRF_COOKIE)))
    next_url = safe_next(fields.get("next"))

    login = fields.get("username", "")
    previous = read_cookie(request, SESSION_COOKIE)

    def sign_in():
        with runtime.db.session(write=False) as s:
            attempt = runtime.login_guard.check(s, login, fields.get("password", ""), client_ip(request),
                                                directory=runtime.directory_sign_in)
        with runtime.db.session() as s:
            if attempt.event == DIRECTORY:
                return runtime.directory_sign_in.complete(s, attempt.external, next_url, previous)
            outcome = runtime.second_step.after_password(s, attempt, replacing=previous)
            if outcome is None and isinstance(attempt.external, DirectoryDown):
                runtime.directory_sign_in.record_down(s, attempt.external, attempt.named.get("subject", ""))
                return attempt.external
            return outcome

    outcome = await run_in_threadpool(sign_in)
    if isinstance(outcome, DirectoryDown):
        return await _login_form(request, next_url, UNREACHABLE, login, status=503)
    if isinstance(outcome, FederationRefused):
        return await _login_form(request, next_url, outcome.message, login, status=400)
    if isinstance(outcome, SecondStepNeeded):
        return to_pending(runtime.settings, outcome.pending, next_url)
    if isinstance(outcome, SignedIn):
        return _signed_in(runtime, next_url, outcome.started)
    if isinstance(outcome, TooManyAttempts):
        return await _too_many(_login_form(request, next_url, str(outcome), login, status=429), outcome)
    if outcome is None:
        return await _login_form(request, next_url, LOGIN_FAILED, login, status=400)
    if isinstance(outcome, Pending):
        return to_pending(runtime.settings, outcome, next_url)
    return _signed_in(runtime, next_url, outcome)


async def _too_many(form, refused: TooManyAttempts) -> Response:
    response = await form
    response.headers["Retry-After"] = str(refused.retry_after)
    return response


def _signed_in(runtime, next_url: str, started: Started) -> Response:
    response = RedirectResponse(next_url, status_code=303)
    set_cookie(response, runtime.settings, SESSION_COOKIE, started.session_id, max_age=runtime.settings.session_ttl)
    return response


async def _second_step_form(request: Request, next_url: str, error: str | None = None, status: int = 200
                            ) -> Response:
    """The code form of a pending sign-in; without one (none, expired, used) back to the password."""
    runtime = request.app.state.runtime

    def pending():
        with runtime.db.session(write=False) as s:
            pending_id = read_cookie(request, PENDING_COOKIE)
            step = runtime.second_step.next_step(s, pending_id)
            user = runtime.second_step.pending_user(s, pending_id) if step else None
            return step, user, user is not None and PASSKEY in runtime.factors.kinds(s, user.id)

    step, user, passkey = await run_in_threadpool(pending)
    if user is None:
        return RedirectResponse("/login?" + urlencode({"next": next_url}), status_code=303)
    if step == ENROL:
        return RedirectResponse(page_of(True) + "?" + urlencode({"next": next_url}), status_code=303)
    nonce, is_new = csrf_nonce(request)
    response = render("second_step.html", status=status, **{
        **signed_in_state(request, None), "next": next_url, "error": error, "username": user.username,
        "passkey": passkey, "csrf_token": token_for(request, login_binding(nonce))})
    if is_new:
        set_cookie(response, runtime.settings, CSRF_COOKIE, nonce)
    return response


@router.get(SECOND_STEP)
async def second_step_page(request: Request) -> Response:
    return await _second_step_form(request, safe_next(request.query_params.get("next")))


@router.post(SECOND_STEP)
async def second_step(request: Request) -> Response:
    runtime = request.app.state.runtime
    fields = await checked_form(request, login_binding(read_cookie(request, CSRF_COOKIE)))
    next_url = safe_next(fields.get("next"))

    def complete():
        with runtime.db.session() as s:
            return runtime.second_step.complete(s, read_cookie(request, PENDING_COOKIE), fields.get("code", ""),
                                                client_ip(request), replacing=read_cookie(request, SESSION_COOKIE))

    outcome = await run_in_threadpool(complete)
    if isinstance(outcome, TooManyAttempts):
        return await _too_many(_second_step_form(request, next_url, str(outcome), status=429), outcome)
    if isinstance(outcome, WrongCode):
        return await _second_step_form(request, next_url, WRONG_CODE, status=400)
    if outcome is None:
        return RedirectResponse("/login?" + urlencode({"next": next_url}), status_code=303)
    response = _signed_in(runtime, next_url, outcome)
    delete_cookie(response, runtime.settings, PENDING_COOKIE)
    return response


async def _login_checked(request: Request) -> dict[str, str]:
    return await checked_form(request, login_binding(read_cookie(request, CSRF_COOKIE)))


@router.post("/login/passkey/options")
async def passkey_options(request: Request) -> Response:
    await _login_checked(request)
    runtime = request.app.state.runtime

    def options():
        with runtime.db.session() as s:
            return runtime.passkey_sign_in.options(s)

    return webauthn_options(await run_in_threadpool(options))


@router.post("/login/passkey")
async def passkey_sign_in(request: Request) -> Response:
    """A passkey alone (W3C WebAuthn §7.2): the assertion names its user."""
    runtime = request.app.state.runtime
    fields = await _login_checked(request)
    next_url = safe_next(fields.get("next"))

    def sign_in():
        with runtime.db.session() as s:
            return runtime.passkey_sign_in.sign_in(s, fields.get("credential", ""), client_ip(request),
                                                   replacing=read_cookie(request, SESSION_COOKIE))

    outcome = await run_in_threadpool(sign_in)
    if isinstance(outcome, TooManyAttempts):
        return await _too_many(_login_form(request, next_url, str(outcome), status=429, autofill=False), outcome)
    if isinstance(outcome, Refused):
        return await _login_form(request, next_url, PASSKEY_FAILED, status=400, autofill=False)
    return _signed_in(runtime, next_url, outcome)


@router.post(SECOND_STEP + "/passkey/options")
async def second_step_passkey_options(request: Request) -> Response:
    await _login_checked(request)
    runtime = request.app.state.runtime

    def options():
        with runtime.db.session() as s:
            return runtime.second_step.passkey_options(s, read_cookie(request, PENDING_COOKIE))

    options = await run_in_threadpool(options)
    if options is None:
        return Response('{"error": "No sign-in is waiting for a passkey: enter your password again."}',
                        status_code=409, media_type="application/json")
    return webauthn_options(options)


@router.post(SECOND_STEP + "/passkey")
async def second_step_passkey(request: Request) -> Response:
    runtime = request.app.state.runtime
    fields = await _login_checked(request)
    next_url = safe_next(fields.get("next"))

    def complete():
        with runtime.db.session() as s:
            return runtime.second_step.complete_with_passkey(
                s, read_cookie(request, PENDING_COOKIE), fields.get("credential", ""), client_ip(request),
                replacing=read_cookie(request, SESSION_COOKIE))

    outcome = await run_in_threadpool(complete)
    if isinstance(outcome, TooManyAttempts):
        return await _too_many(_second_step_form(request, next_url, str(outcome), status=429), outcome)
    if isinstance(outcome, WrongCode):
        return await _second_step_form(request, next_url, WRONG_PASSKEY, status=400)
    if outcome is None:
        return RedirectResponse("/login?" + urlencode({"next": next_url}), status_code=303)
    response = _signed_in(runtime, next_url, outcome)
    delete_cookie(response, runtime.settings, PENDING_COOKIE)
    return response


@router.get("/logout")
async def logout_page(request: Request) -> Response:
    who = await run_in_threadpool(optional_visitor, request)
    if who is None:
        return RedirectResponse("/login", status_code=303)
    return page(request, who, "logout.html")


@router.post("/logout")
async def logout(request: Request) -> Response:
    runtime = request.app.state.runtime
    session_id = read_cookie(request, SESSION_COOKIE)
    await checked_form(request, session_binding(session_id))

    def end():
        with runtime.db.session() as s:
            runtime.sessions.end(s, session_id)

    await run_in_threadpool(end)
    response = RedirectResponse("/login", status_code=303)
    delete_cookie(response, runtime.settings, SESSION_COOKIE)
    return response
