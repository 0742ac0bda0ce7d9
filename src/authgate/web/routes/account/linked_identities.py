"""Linked sign-ins on ``/profile``: **Link** (a POST that starts the upstream round trip as the signed-in user; the
provider's answer comes back to the sign-in's callback, ``federation.py``, which links it) and **Unlink** (asked
first, then a POST). ``services/federation/linking.py`` holds every rule; these routes adapt the forms."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from authgate.services.federation.sign_in import ROUND_TRIP_SECONDS, Refused
from authgate.web.http.error_format import ErrorFormat
from authgate.web.pages.confirm import ask, carry_out
from authgate.web.pages.cookies import set_cookie
from authgate.web.pages.flash import redirect
from authgate.web.pages.visitor import signed_in_form
from authgate.web.routes.account.federation import FEDERATION_COOKIE

router = APIRouter(include_in_schema=False, route_class=ErrorFormat.PAGE.route_class)

BASE = "/profile/identities"
BACK = "/profile"


@router.post(BASE + "/{name}/link")
async def link(request: Request, name: str) -> Response:
    who, _ = await signed_in_form(request)
    rt = request.app.state.runtime

    def start():
        with rt.db.session(write=False) as s:
            provider = rt.identity_links.provider_to_link(s, who.principal, name)
        started = rt.federated_sign_ins.authorization(provider)
        with rt.db.session() as s:
            return rt.federated_sign_ins.begin(s, provider, started, BACK, linking=who.user.id)

    outcome = await run_in_threadpool(start)
    if isinstance(outcome, Refused):
        return redirect(request, BACK, outcome.message)
    response = RedirectResponse(outcome.url, status_code=303)
    set_cookie(response, rt.settings, FEDERATION_COOKIE, outcome.state, max_age=ROUND_TRIP_SECONDS)
    return response


def _provider_of(link_id: int):
    return lambda rt, s, me: rt.identity_links.get(s, me, link_id).provider


@router.get(BASE + "/{link_id:id}/unlink")
async def confirm_unlink(request: Request, link_id: int) -> Response:
    return await ask(request, _provider_of(link_id), title="Unlink sign-in", button="Unlink",
                     question="Unlink your {name} account? It will no longer sign you in here.",
                     action=f"{BASE}/{link_id}/unlink", cancel=BACK)


@router.post(BASE + "/{link_id:id}/unlink")
async def unlink(request: Request, link_id: int) -> Response:
    return await carry_out(request, _provider_of(link_id),
                           lambda rt, s, me: rt.identity_links.unlink(s, me, link_id),
                           then=BACK, flash="Your {name} account is unlinked: it no longer signs you in here.")
