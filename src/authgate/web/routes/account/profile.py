"""The signed-in user's own page, ``/profile``: API tokens (make one, see it once, revoke), authorized
applications (revoke), linked sign-ins (``linked_identities.py``), the password, sessions and latest security events (``pages/account_security.py``).
Every change goes through the services, as the API's endpoints do."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from authgate.services.errors import Invalid
from authgate.services.operations.listing import MAX_PER_PAGE, ListQuery
from authgate.storage.types import utcnow
from authgate.web.pages.account_security import own_account_security
from authgate.web.pages.confirm import ask, carry_out
from authgate.web.http.error_format import ErrorFormat
from authgate.web.pages.templates import page
from authgate.web.pages.token_form import TokenRequest, make_token, shown_once, token_form_choices
from authgate.web.pages.visitor import signed_in_pairs, visitor

router = APIRouter(include_in_schema=False, route_class=ErrorFormat.PAGE.route_class)

def _profile_data(request: Request, who) -> dict:
    rt = request.app.state.runtime
    with rt.db.session(write=False) as s:
        tokens = rt.personal_tokens.list_for(s, who.principal, who.user.id, ListQuery(per_page=MAX_PER_PAGE)).items
        apps = rt.authorizations.list(s, who.principal, ListQuery(per_page=MAX_PER_PAGE)).items
        factors = rt.factors.status(s, who.principal)
        security = own_account_security(rt, s, who)
        identities = rt.identity_links.of(s, who.principal)
        linkable = rt.identity_links.linkable(s, who.principal)
    return {"tokens": tokens, "apps": apps, "factors": factors, "now": utcnow(), **security,
            "identities": identities, "linkable": linkable,
            "mail_configured": rt.account_links.mail_configured}


@router.get("/profile")
async def profile(request: Request) -> Response:
    who = await run_in_threadpool(visitor, request)
    data = await run_in_threadpool(_profile_data, request, who)
    return page(request, who, "profile.html", **data, **token_form_choices(), form={}, error=None)


@router.post("/profile/tokens")
async def create_token(request: Request) -> Response:
    who, pairs = await signed_in_pairs(request)
    wanted = TokenRequest.of(pairs)
    try:
        row, token = await make_token(request, who, who.user.id, wanted)
    except Invalid as error:
        data = await run_in_threadpool(_profile_data, request, who)
        return page(request, who, "profile.html", status=422, error=error, **data, **token_form_choices(),
                    form=wanted.form)
    return await shown_once(request, who, row, token, title="Your new API token", back="/profile",
                      back_label="Back to your profile")


def _token_name(token_id: int):
    return lambda rt, s, me: rt.personal_tokens.get_for(s, me, me.user.id, token_id).name


@router.get("/profile/tokens/{token_id:id}/revoke")
async def confirm_revoke_token(request: Request, token_id: int) -> Response:
    return await ask(request, _token_name(token_id), title="Revoke API token", button="Revoke token",
                     question="Revoke the token “{name}”? Scripts using it will stop working at once.",
                     action=f"/profile/tokens/{token_id}/revoke", cancel="/profile")


@router.post("/profile/tokens/{token_id:id}/revoke")
async def revoke_token(request: Request, token_id: int) -> Response:
    return await carry_out(request, _token_name(token_id),
                           lambda rt, s, me: rt.personal_tokens.revoke_for(s, me, me.user.id, token_id),
                           then="/profile", flash="Token “{name}” revoked.")


def _app_name(client_id: str):
    def name_of(rt, s, me):
        client = rt.clients.get(s, client_id)
        return client.name if client else client_id
    return name_of


@router.get("/profile/apps/{client_id}/revoke")
async def confirm_revoke_app(request: Request, client_id: str) -> Response:
    return await ask(request, _app_name(client_id), title="Revoke access", button="Revoke access",
                     question="Revoke the access of “{name}”? Its tokens stop working, and it must ask you again.",
                     action=f"/profile/apps/{client_id}/revoke", cancel="/profile")


@router.post("/profile/apps/{client_id}/revoke")
async def revoke_app(request: Request, client_id: str) -> Response:
    return await carry_out(request, _app_name(client_id),
                           lambda rt, s, me: rt.authorizations.revoke(s, me, client_id),
                           then="/profile", flash="Access revoked.")
