"""Sign-in, sign-out and the start page."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from authgate.web.cookies import CSRF_COOKIE, SESSION_COOKIE, csrf_nonce, set_cookie
from authgate.web.forms import BadForm, read_form
from authgate.web.templates import error_page, render

router = APIRouter(include_in_schema=False)

LOGIN_FAILED = "Invalid username or password."


def safe_next(target: str | None) -> str:
    """Only a path on this server: never an absolute or scheme-relative URL (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _login_form(request: Request, next_url: str, error: str | None = None, username: str = "", status: int = 200) -> Response:
    runtime = request.app.state.runtime
    nonce, is_new = csrf_nonce(request)
    response = render(
        "login.html",
        status=status,
        user=None,
        next=next_url,
        error=error,
        username=username,
        csrf_token=runtime.sessions.csrf_token("login:" + nonce),
    )
    if is_new:
        set_cookie(response, runtime.settings, CSRF_COOKIE, nonce)
    return response


def _signed_in(request: Request):
    runtime = request.app.state.runtime
    with runtime.db.session(write=False) as s:
        return runtime.sessions.resume(s, request.cookies.get(SESSION_COOKIE))


@router.get("/")
async def home(request: Request) -> Response:
    signed_in = await run_in_threadpool(_signed_in, request)
    return render("home.html", user=signed_in.user if signed_in else None)


@router.get("/login")
async def login_page(request: Request) -> Response:
    hint = request.query_params.get("login_hint", "")[:255]
    return _login_form(request, safe_next(request.query_params.get("next")), username=hint)


@router.post("/login")
async def login(request: Request) -> Response:
    runtime = request.app.state.runtime
    try:
        fields = dict(await read_form(request))
    except BadForm as error:
        return error_page("Invalid form", str(error))
    next_url = safe_next(fields.get("next"))
    nonce = request.cookies.get(CSRF_COOKIE)
    if not runtime.sessions.check_csrf("login:" + nonce if nonce else None, fields.get("csrf_token")):
        return error_page("Expired form", "This sign-in form has expired or was not sent by authgate.",
                          hint="Reload the sign-in page and try again (cookies must be enabled).")

    def sign_in():
        with runtime.db.session() as s:
            user = runtime.users.authenticate(s, fields.get("username", ""), fields.get("password", ""))
            return runtime.sessions.start(s, user) if user else None

    session_id = await run_in_threadpool(sign_in)
    if session_id is None:
        return _login_form(request, next_url, LOGIN_FAILED, fields.get("username", ""), status=400)
    response = RedirectResponse(next_url, status_code=303)
    set_cookie(response, runtime.settings, SESSION_COOKIE, session_id, max_age=runtime.settings.session_ttl)
    return response


@router.get("/logout")
async def logout_page(request: Request) -> Response:
    signed_in = await run_in_threadpool(_signed_in, request)
    if signed_in is None:
        return RedirectResponse("/login", status_code=303)
    csrf = request.app.state.runtime.sessions.csrf_token("session:" + signed_in.session_id)
    return render("logout.html", user=signed_in.user, csrf_token=csrf)


@router.post("/logout")
async def logout(request: Request) -> Response:
    runtime = request.app.state.runtime
    try:
        fields = dict(await read_form(request))
    except BadForm as error:
        return error_page("Invalid form", str(error))
    session_id = request.cookies.get(SESSION_COOKIE)
    if not runtime.sessions.check_csrf("session:" + session_id if session_id else None, fields.get("csrf_token")):
        return error_page("Expired form", "This form has expired or was not sent by authgate.")

    def end():
        with runtime.db.session() as s:
            runtime.sessions.end(s, session_id)

    await run_in_threadpool(end)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
