"""The second factor on ``/profile``: set up an authenticator app (the QR code and the secret, confirmed by a first
code), see the recovery codes once, make a new set, remove the app. ``FactorService`` holds every rule; these
routes convert the form and render its answer."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from authgate.services.errors import Invalid
from authgate.web.http.error_format import ErrorFormat
from authgate.web.pages.flash import redirect
from authgate.web.pages.qr import qr_svg
from authgate.web.pages.shown_once import show_once
from authgate.web.pages.templates import page
from authgate.web.pages.visitor import Visitor, signed_in_form, visitor

router = APIRouter(include_in_schema=False, route_class=ErrorFormat.PAGE.route_class)

ENROL = "/profile/factors/totp"
RECOVERY_CODES = "/profile/factors/recovery-codes"
REMOVE = "/profile/factors/totp/remove"


async def _enrol_page(request: Request, who: Visitor, error: Invalid | None = None, status: int = 200) -> Response:
    rt = request.app.state.runtime

    def load():
        with rt.db.session(write=False) as s:
            return rt.factors.status(s, who.principal).enrolling

    enrolling = await run_in_threadpool(load)
    if enrolling is None:
        return RedirectResponse("/profile", status_code=303)
    return page(request, who, "totp_enrol.html", status=status, qr=qr_svg(enrolling.uri), secret=enrolling.secret,
                error=error)


async def _show_recovery_codes(request: Request, who: Visitor, codes: list[str], heading: str) -> Response:
    return await show_once(request, who, title="Your recovery codes", heading=heading, what="recovery codes",
                           label="Your recovery codes (each works once)", secret="\n".join(codes), multiline=True,
                           details=[("Use", "Sign in with one when your authenticator app is not at hand.")],
                           back="/profile", back_label="Back to your profile")


@router.post(ENROL)
async def start_totp(request: Request) -> Response:
    who, _ = await signed_in_form(request)
    rt = request.app.state.runtime

    def start():
        with rt.db.session() as s:
            rt.factors.start_totp(s, who.principal)

    try:
        await run_in_threadpool(start)
    except Invalid as error:
        return redirect(request, "/profile", str(error))
    return RedirectResponse(ENROL, status_code=303)


@router.get(ENROL)
async def enrol_page(request: Request) -> Response:
    return await _enrol_page(request, await run_in_threadpool(visitor, request))


@router.post(ENROL + "/confirm")
async def confirm_totp(request: Request) -> Response:
    who, fields = await signed_in_form(request)
    rt = request.app.state.runtime

    def confirm():
        with rt.db.session() as s:
            return rt.factors.confirm_totp(s, who.principal, fields.get("code", ""), fields.get("current_password"))

    try:
        codes = await run_in_threadpool(confirm)
    except Invalid as error:
        return await _enrol_page(request, who, error, status=422)
    return await _show_recovery_codes(request, who, codes, "Two-step sign-in is on")


def _password_page(request: Request, who: Visitor, *, remove: bool, error: Invalid | None = None,
                   status: int = 200) -> Response:
    if remove:
        words = {"title": "Remove the authenticator app", "action": REMOVE, "button": "Remove authenticator app",
                 "question": "Your password alone will sign you in again, and your recovery codes stop working."}
    else:
        words = {"title": "New recovery codes", "action": RECOVERY_CODES, "button": "Make new recovery codes",
                 "question": "Your current recovery codes stop working; you will see the new ones once."}
    return page(request, who, "factor_password.html", status=status, danger=remove, error=error, **words)


@router.get(RECOVERY_CODES)
async def recovery_codes_page(request: Request) -> Response:
    return _password_page(request, await run_in_threadpool(visitor, request), remove=False)


@router.post(RECOVERY_CODES)
async def regenerate_recovery_codes(request: Request) -> Response:
    who, fields = await signed_in_form(request)
    rt = request.app.state.runtime

    def regenerate():
        with rt.db.session() as s:
            return rt.factors.regenerate_recovery_codes(s, who.principal, fields.get("current_password", ""))

    try:
        codes = await run_in_threadpool(regenerate)
    except Invalid as error:
        return _password_page(request, who, remove=False, error=error, status=422)
    return await _show_recovery_codes(request, who, codes, "New recovery codes")


@router.get(REMOVE)
async def remove_page(request: Request) -> Response:
    return _password_page(request, await run_in_threadpool(visitor, request), remove=True)


@router.post(REMOVE)
async def remove_totp(request: Request) -> Response:
    who, fields = await signed_in_form(request)
    rt = request.app.state.runtime

    def remove():
        with rt.db.session() as s:
            rt.factors.remove_totp(s, who.principal, fields.get("current_password", ""))

    try:
        await run_in_threadpool(remove)
    except Invalid as error:
        return _password_page(request, who, remove=True, error=error, status=422)
    return redirect(request, "/profile", "Authenticator app removed: your password alone signs you in.")
