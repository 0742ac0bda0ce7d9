"""``/device``: where a signed-in user enters a device's user code and approves or denies it (RFC 8628 §3.3).

What to answer is decided in ``oauth/authorization/device_approval.py``; this module reads the request and renders."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from authgate.oauth.authorization.decisions import ConsentNeeded, SignInNeeded
from authgate.oauth.authorization.device_approval import CodeNeeded, decide_device
from authgate.oauth.endpoints.device import VERIFICATION_PATH
from authgate.web.http.error_format import ErrorFormat
from authgate.web.pages.cookies import SESSION_COOKIE, read_cookie
from authgate.web.pages.csrf import checked_form, session_binding
from authgate.web.pages.forms import client_ip
from authgate.web.pages.templates import page
from authgate.web.pages.visitor import visitor_of

router = APIRouter(include_in_schema=False, route_class=ErrorFormat.PAGE.route_class)


def _device(request: Request, form: dict[str, str] | None) -> Response:
    """The code form, the approval page for a typed code, or (``form``, CSRF already checked) the decision."""
    runtime = request.app.state.runtime
    fields = form if form is not None else dict(request.query_params)
    choice = fields.get("decision", "") if form is not None else None
    with runtime.db.session(write=form is not None) as s:
        signed_in = runtime.sessions.resume(s, read_cookie(request, SESSION_COOKIE))
        outcome = decide_device(runtime, s, signed_in, fields.get("user_code"), client_ip(request), choice)
    if isinstance(outcome, SignInNeeded):
        return RedirectResponse("/login?" + urlencode({"next": outcome.return_to}), status_code=303)
    who = visitor_of(signed_in)
    if isinstance(outcome, CodeNeeded):
        status = 429 if outcome.retry_after is not None else 400 if outcome.problem else 200
        response = page(request, who, "device.html", status=status, user_code=outcome.typed, error=outcome.problem)
        if outcome.retry_after is not None:
            response.headers["Retry-After"] = str(outcome.retry_after)
        return response
    if isinstance(outcome, ConsentNeeded):
        return page(request, who, "device.html", user_code=outcome.user_code, client_name=outcome.client_name,
                    scopes=outcome.scopes, resources=outcome.resources)
    return page(request, who, "device_done.html", approved=outcome.approved, client_name=outcome.client_name)


@router.get(VERIFICATION_PATH)
async def device_page(request: Request) -> Response:
    return await run_in_threadpool(_device, request, None)


@router.post(VERIFICATION_PATH)
async def device_decision(request: Request) -> Response:
    fields = await checked_form(request, session_binding(read_cookie(request, SESSION_COOKIE)))
    return await run_in_threadpool(_device, request, fields)
