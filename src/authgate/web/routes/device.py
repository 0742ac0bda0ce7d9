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
from authgate.web.cookies import SESSION_COOKIE
from authgate.web.forms import BadForm, read_form
from authgate.web.templates import error_page, render

router = APIRouter(include_in_schema=False)

UNKNOWN_CODE = "That code is not valid: it may be mistyped, expired or already used."


def _device(request: Request, form: list[tuple[str, str]] | None) -> Response:
    runtime = request.app.state.runtime
    fields = dict(form) if form is not None else dict(request.query_params)
    typed = (fields.get("user_code") or "")[:64]
    with runtime.db.session(write=form is not None) as s:
        signed_in = runtime.sessions.resume(s, request.cookies.get(SESSION_COOKIE))
        if signed_in is None:
            here = VERIFICATION_PATH + ("?" + urlencode({"user_code": typed}) if typed else "")
            return RedirectResponse("/login?" + urlencode({"next": here}), status_code=303)
        binding = "session:" + signed_in.session_id
        if form is not None and not runtime.sessions.check_csrf(binding, fields.get("csrf_token")):
            return error_page("Expired form", "This form has expired or was not sent by authgate.",
                              hint="Go back, reload the page and try again.")
        if not typed and form is None:
            return render("device.html", user=signed_in.user, user_code="", error=None)
        row = runtime.device_codes.pending_by_user_code(s, typed)
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
                csrf_token=runtime.sessions.csrf_token(binding),
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
    try:
        form = await read_form(request)
    except BadForm as error:
        return error_page("Invalid form", str(error))
    return await run_in_threadpool(_device, request, form)
