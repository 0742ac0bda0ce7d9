"""``/api/1.0/users/me/authorizations``: the applications the token's user has let in, and revoking one."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel
from starlette.responses import Response

from authgate.services.accounts.people.principal import Principal
from authgate.services.operations.listing import ListQuery
from authgate.web.bearer import require_scope
from authgate.web.http.error_format import ErrorFormat
from authgate.web.jsonapi.envelope import ClientId, describe, errors, list_body, list_of, list_query

router = APIRouter(prefix="/api/1.0", tags=["authorized applications"], route_class=ErrorFormat.API.route_class)

RULE = "none (your own only); a client credentials token has no user and gets 403"


class ClientRef(BaseModel):
    id: str
    name: str


class AuthorizationOut(BaseModel):
    id: str
    client: ClientRef
    scopes: list[str]
    grant_types: list[str]
    created_at: str
    last_authorized_at: str


AuthorizationList = list_of(AuthorizationOut, "AuthorizationList")


@router.get("/users/me/authorizations", summary="List the applications you have authorized",
            response_model=AuthorizationList, responses=errors(401, 403, 422), description=describe("tokens:read", RULE))
def list_authorizations(request: Request, query: ListQuery = Depends(list_query),
                        principal: Principal = Depends(require_scope("tokens:read", user_required=True))):
    rt = request.app.state.runtime
    with rt.db.session(write=False) as s:
        return list_body(request, rt.authorizations.list(s, principal, query))


@router.delete("/users/me/authorizations/{client_id}", summary="Revoke an application's access (all its tokens)",
               status_code=204, response_class=Response, responses=errors(401, 403, 404, 422),
               description=describe("tokens:write", RULE))
def revoke_authorization(request: Request, client_id: ClientId,
                         principal: Principal = Depends(require_scope("tokens:write", user_required=True))):
    rt = request.app.state.runtime
    with rt.db.session() as s:
        rt.authorizations.revoke(s, principal, client_id)
    return Response(status_code=204)
