"""The pages a mailed link opens, and asking for one: ``/password/forgot`` (the same answer whether or not the
account exists), ``/password/reset`` and ``/invitation`` (choose a password), ``/email/verify`` (confirm the
address: a button, so that a mail scanner opening the link verifies nothing). ``PasswordReset``,
``Invitations`` and ``EmailVerification`` hold the rules; the token travels in the query string, which no log
records, and the pages send no ``Referer``."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from authgate.services.accounts.email_links.account_links import PATHS, INVITE, RESET, VERIFY
from authgate.services.errors import Invalid
from authgate.services.operations.mail import duration
from authgate.services.operations.ratelimit import TooManyAttempts
from authgate.web.http.error_format import ErrorFormat
from authgate.web.pages.cookies import CSRF_COOKIE, csrf_nonce, read_cookie, set_cookie
from authgate.web.pages.csrf import checked_form, login_binding, token_for
from authgate.web.pages.forms import client_ip
from authgate.web.pages.templates import page
from authgate.web.pages.visitor import optional_visitor

router = APIRouter(include_in_schema=False, route_class=ErrorFormat.PAGE.route_class)

FORGOT = "/password/forgot"
NO_MAIL = "Email is not set up on this server; ask an administrator to reset your password."
SENT = ("If an account with that username or email exists and is active, we sent a link to its email address. "
        "It works once, for {lifetime}. Check your spam folder if it does not arrive within a few minutes.")
GONE = "This link has expired or was already used."
PASSWORD_PAGES = {
    RESET: {"title": "Choose a new password", "button": "Set new password",
            "intro": "Choose a new password for {username}. You will be signed out everywhere else.",
            "gone_hint": "Ask for a new link on the “Forgot your password?” page."},
    INVITE: {"title": "Choose your password", "button": "Set password",
             "intro": "Welcome, {username}. Choose the password you will sign in with.",
             "gone_hint": "Ask the administrator who invited you for a new invitation."},
}


async def _anonymous_page(request: Request, name: str, status: int = 200, **context) -> Response:
    """A page for someone who may not be signed in, with a CSRF token bound to a cookie nonce, as sign-in's."""
    nonce, is_new = csrf_nonce(request)
    who = await run_in_threadpool(optional_visitor, request)
    response = page(request, who, name, status=status, **{**context, "csrf_token": token_for(request, login_binding(nonce))})
    if is_new:
        set_cookie(response, request.app.state.runtime.settings, CSRF_COOKIE, nonce)
    return response


async def _form(request: Request) -> dict[str, str]:
    return await checked_form(request, login_binding(read_cookie(request, CSRF_COOKIE)))


async def _gone(request: Request, hint: str) -> Response:
    return await _anonymous_page(request, "link_message.html", status=400, title="Link no longer valid",
                                 message=GONE, hint=hint, alert=True)


def _pending(request: Request, flow, token: str):
    def find():
        with request.app.state.runtime.db.session(write=False) as s:
            user = flow.pending(s, token)
            return user.username if user else None
    return run_in_threadpool(find)


def _forgot_form(request: Request, login: str, error: str | None = None, status: int = 200):
    """The request form, or without a mail server the sentence saying so."""
    return _anonymous_page(request, "password_forgot.html", status=status, login=login, error=error, no_mail=NO_MAIL,
                           mail=request.app.state.runtime.account_links.mail_configured)


@router.get(FORGOT)
async def forgot_page(request: Request) -> Response:
    return await _forgot_form(request, request.query_params.get("login", "")[:255])


@router.post(FORGOT)
async def forgot(request: Request) -> Response:
    rt = request.app.state.runtime
    fields = await _form(request)
    login = fields.get("login", "")[:255]
    if not rt.account_links.mail_configured:
        return await _forgot_form(request, login)

    def ask():
        with rt.db.session() as s:
            rt.password_reset.request(s, login, client_ip(request))

    try:
        await run_in_threadpool(ask)
    except TooManyAttempts as refused:
        response = await _forgot_form(request, login, str(refused), status=429)
        response.headers["Retry-After"] = str(refused.retry_after)
        return response
    return await _anonymous_page(request, "link_message.html", title="Check your email", alert=False, hint=None,
                                 message=SENT.format(lifetime=duration(rt.settings.mail.reset_link_seconds)))


def _password_routes(purpose: str, flow_name: str, accept_name: str) -> None:
    words = PASSWORD_PAGES[purpose]
    path = PATHS[purpose]

    async def show(request: Request, token: str, username: str, error: Invalid | None = None,
                   status: int = 200) -> Response:
        return await _anonymous_page(request, "password_choose.html", status=status, action=path, token=token,
                                     error=error, title=words["title"], button=words["button"],
                                     intro=words["intro"].format(username=username), username=username)

    @router.get(path, name=f"{purpose}_page")
    async def password_page(request: Request) -> Response:
        token = request.query_params.get("token", "")
        username = await _pending(request, getattr(request.app.state.runtime, flow_name), token)
        if username is None:
            return await _gone(request, words["gone_hint"])
        return await show(request, token, username)

    @router.post(path, name=f"{purpose}_submit")
    async def choose_password(request: Request) -> Response:
        rt = request.app.state.runtime
        flow = getattr(rt, flow_name)
        fields = await _form(request)
        token = fields.get("token", "")

        def accept():
            if fields.get("password", "") != fields.get("password_confirmation", ""):
                raise Invalid("The two passwords differ.", field="password_confirmation")
            with rt.db.session() as s:
                return getattr(flow, accept_name)(s, token, fields.get("password", "")).username

        try:
            username = await run_in_threadpool(accept)
        except Invalid as error:
            if error.field == "token":
                return await _gone(request, words["gone_hint"])
            username = await _pending(request, flow, token)
            if username is None:
                return await _gone(request, words["gone_hint"])
            return await show(request, token, username, error, status=422)
        return await _anonymous_page(request, "link_message.html", title="Password set", alert=False, hint=None,
                                     message="Your password is set. Sign in with it.",
                                     sign_in="/login?" + urlencode({"login_hint": username}))


_password_routes(RESET, "password_reset", "reset")
_password_routes(INVITE, "invitations", "accept")


@router.get(PATHS[VERIFY])
async def verify_page(request: Request) -> Response:
    rt = request.app.state.runtime
    token = request.query_params.get("token", "")

    def find():
        with rt.db.session(write=False) as s:
            user = rt.email_verification.pending(s, token)
            return (user.username, user.email) if user else None

    found = await run_in_threadpool(find)
    if found is None:
        return await _gone(request, "Sign in and ask for a new link on your profile page.")
    return await _anonymous_page(request, "email_verify.html", token=token, username=found[0], email=found[1])


@router.post(PATHS[VERIFY])
async def verify(request: Request) -> Response:
    rt = request.app.state.runtime
    fields = await _form(request)

    def confirm():
        with rt.db.session() as s:
            user = rt.email_verification.verify(s, fields.get("token", ""))
            return user.email if user else None

    email = await run_in_threadpool(confirm)
    if email is None:
        return await _gone(request, "Sign in and ask for a new link on your profile page.")
    return await _anonymous_page(request, "link_message.html", title="Address verified", alert=False, hint=None,
                                 message=f"Thank you: {email} is verified.")
