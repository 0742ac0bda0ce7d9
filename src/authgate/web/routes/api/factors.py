"""``/api/1.0/users/{id}/factors``: a user's second factors (kind, name, when made and last used; never a secret)
and their reset by an administrator, for a lost phone or security key. ``FactorService`` decides who may."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel
from starlette.responses import Response

from authgate.services.accounts.people.principal import Principal
from authgate.services.operations.listing import MAX_PER_PAGE, ListQuery, Page
from authgate.web.bearer import require_scope
from authgate.web.http.error_format import ErrorFormat
from authgate.web.jsonapi.envelope import PathId, describe, errors, list_body, list_of

router = APIRouter(prefix="/api/1.0", tags=["users"], route_class=ErrorFormat.API.route_class)

PERMISSION = ("`edit-users` and every permission the user holds; only administrators for administrators "
              "(as resetting their password)")


class FactorOut(BaseModel):
    kind: str
    name: str
    created_at: str | None
    last_used_at: str | None


FactorList = list_of(FactorOut, "FactorList")


@router.get("/users/{user_id}/factors", summary="List a user's second factors", response_model=FactorList,
            responses=errors(401, 403, 404, 422),
            description=describe("users:read", PERMISSION + "; yourself: none")
            + " Kinds: `totp`, `recovery` (the codes left), `passkey`.")
def list_factors(request: Request, user_id: PathId, principal: Principal = Depends(require_scope("users:read"))):
    rt = request.app.state.runtime
    with rt.db.session(write=False) as s:
        items = [view.as_dict() for view in rt.factors.of_user(s, principal, user_id)]
    return list_body(request, Page(items, len(items), ListQuery(order_by="created_at", per_page=MAX_PER_PAGE)))


@router.delete("/users/{user_id}/factors", summary="Reset a user's second factors", status_code=204,
               responses=errors(401, 403, 404, 422), response_class=Response,
               description=describe("users:write", PERMISSION + "; not your own (the account page does that)")
               + " Removes the authenticator app, the recovery codes and every passkey: the password alone signs "
               "the user in again. Recorded in the security log (`factor.reset`).")
def reset_factors(request: Request, user_id: PathId, principal: Principal = Depends(require_scope("users:write"))):
    rt = request.app.state.runtime
    with rt.db.session() as s:
        rt.factors.reset(s, principal, user_id)
    return Response(status_code=204)
