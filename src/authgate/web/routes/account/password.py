"""Change your own password, at ``/profile/password``: the current one, the new one twice. The rule is
``UserService.update``'s, as for the API and an administrator's reset: the current password checked (its
failures count towards the lockout), the policy, the other sessions ended and the OAuth tokens revoked (the
API tokens too when asked), audited; this session stays."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from authgate.services.errors import Invalid
from authgate.web.http.error_format import ErrorFormat
from authgate.web.pages.flash import redirect
from authgate.web.pages.templates import page
from authgate.web.pages.visitor import signed_in_form, visitor

router = APIRouter(include_in_schema=False, route_class=ErrorFormat.PAGE.route_class)

PATH = "/profile/password"


@router.get(PATH)
async def password_form(request: Request) -> Response:
    who = await run_in_threadpool(visitor, request)
    return page(request, who, "change_password.html", error=None)


@router.post(PATH)
async def change_password(request: Request) -> Response:
    who, fields = await signed_in_form(request)
    rt = request.app.state.runtime

    def change():
        if fields.get("password", "") != fields.get("password_confirmation", ""):
            raise Invalid("The two new passwords differ.", field="password_confirmation")
        with rt.db.session() as s:
            rt.users.update(s, who.principal, who.user.id, {"password": fields.get("password", "")},
                            current_password=fields.get("current_password", ""), keep_session=who.session_id,
                            revoke_personal_tokens=fields.get("revoke_personal_tokens") == "on")

    try:
        await run_in_threadpool(change)
    except Invalid as error:
        return page(request, who, "change_password.html", status=422, error=error)
    return redirect(request, "/profile", "Password changed. Your other sessions are signed out.")
