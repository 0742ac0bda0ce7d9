"""The "Name and email" part of ``/profile``: edit your names and address (a new address needs your current
password and is verified again) and ask for another verification link. ``UserService.update_own_details`` and
``EmailVerification.resend`` hold the rules; a refusal comes back to the profile as its message."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from authgate.services.errors import ServiceError
from authgate.web.http.error_format import ErrorFormat
from authgate.web.pages.flash import redirect
from authgate.web.pages.visitor import signed_in_form

router = APIRouter(include_in_schema=False, route_class=ErrorFormat.PAGE.route_class)

DETAILS = "/profile/details"
RESEND = "/profile/email/verification"


@router.post(DETAILS)
async def save_details(request: Request) -> Response:
    who, fields = await signed_in_form(request)
    rt = request.app.state.runtime
    changes = {name: fields[name] for name in ("firstname", "lastname", "email") if name in fields}

    def save():
        with rt.db.session() as s:
            user = rt.users.update_own_details(s, who.principal, changes, fields.get("current_password") or None)
            return user.email_verified_at is None

    try:
        unverified = await run_in_threadpool(save)
    except ServiceError as error:
        return redirect(request, "/profile", f"Not saved: {error}")
    note = " Open the link we sent to your new address to verify it." if unverified and rt.account_links.mail_configured else ""
    return redirect(request, "/profile", "Your details are saved." + note)


@router.post(RESEND)
async def resend_verification(request: Request) -> Response:
    who, _ = await signed_in_form(request)
    rt = request.app.state.runtime

    def resend():
        with rt.db.session() as s:
            rt.email_verification.resend(s, who.principal)

    try:
        await run_in_threadpool(resend)
    except ServiceError as error:
        return redirect(request, "/profile", str(error))
    return redirect(request, "/profile", f"We sent a new verification link to {who.user.email}.")
