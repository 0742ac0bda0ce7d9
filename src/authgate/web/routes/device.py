"""``/device``: where a signed-in user enters a device's user code and approves or denies it (RFC 8628 §3.3)."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from authgate.oauth.device import VERIFICATION_PATH
from authgate.services import scopes as scope_rules
from authgate.services.device_codes import normalize_user_code
from authgate.storage.models import Client
from authgate.web.cookies import SESSION_COOKIE, read_cookie
from authgate.services.login_guard import TooManyAttempts
from authgate.web.csrf import checked_form, session_binding, token_for
from authgate.web.forms import client_ip
from authgate.web.templates import render

router = APIRouter(include_in_schema=False)

UNKNOWN_CODE = "That code is not valid: it may be mistyped, expired or already used."


def _device(request: Request, form: dict[str, str] | None) -> Response:
    """The code form, the approval page for a typed code, or (``form``, CSRF already checked) the decision."""
    runtime = request.app.state.runtime
    fields = form if form is not None else dict(request.query_params)
    typed = (fields.get("user_code") or "")[:64]
    with runtime.db.session(write=form is not None) as s:
        signed_in = runtime.sessions.resume(s, read_cookie(request, SESSION_COOKIE))
        if signed_in is None:
            here = VERIFICATION_PATH + ("?" + urlencode({"user_code": typed}) if typed else "")
            return RedirectResponse("/login?" + urlencode({"next": here}), status_code=303)
        binding = session_binding(signed_in.session_id)
        if not typed and form is None:
            return render("device.html", user=signed_in.user, user_code="", error=None)
        try:
            row = runtime.device_codes.pending_for_person(s, typed, client_ip(request))
        except TooManyAttempts as refused:
            response = render("device.html", status=429, user=signed_in.user, user_code=typed, error=str(refused))
            response.headers["Retry-After"] = str(refused.retry_after)
            return response
        if row is None:
            return render("device.html", status=400, user=signed_in.user, user_code=typed, error=UNKNOWN_CODE)
        client = s.get(Client, row.client_id)
        if form is None:
            return render(
                "device.html",
                user=signed_in.user,
                user_code=normalize_user_code(typed),
                client_name=client.name,
                scopes=scope_rules.describe(scope_rules.parse(row.scope)),
                csrf_token=token_for(request, binding),
            )
        approved = fields.get("decision") == "approve"
        if not runtime.device_codes.decide(s, row, signed_in.user, approved):
            return render("device.html", status=400, user=signed_in.user, user_code=typed, error=UNKNOWN_CODE)
        return render("device_done.html", user=signed_in.user, approved=approved, client_name=client.name)


@router.get(VERIFICATION_PATH)
async def device_page(request: Request) -> Response:
    return await run_in_threadpool(_device, request, None)


@router.post(VERIFICATION_PATH)
async def device_decision(request: Request) -> Response:
    fields = await checked_form(request, session_binding(read_cookie(request, SESSION_COOKIE)))
    return await run_in_threadpool(_device, request, fields)
