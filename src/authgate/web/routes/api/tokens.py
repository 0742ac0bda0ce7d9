"""``/api/1.0/users/{id}/tokens``: personal access tokens, as Passport and ProcessMaker shape them.

The token itself is in the create response only (``accessToken``); a user manages their own, an
administrator anyone's, and a new token never holds a scope the token making it lacks.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field
from starlette.responses import Response

from authgate.services.accounts.people.principal import Principal
from authgate.services.credentials.personal_tokens import public_view
from authgate.services.operations.listing import ListQuery
from authgate.web.bearer import require_scope
from authgate.web.http.error_format import ErrorFormat
from authgate.web.jsonapi.envelope import PathId, UtcDateTime, describe, errors, list_body, list_of, list_query

router = APIRouter(prefix="/api/1.0", tags=["personal access tokens"], route_class=ErrorFormat.API.route_class)

RULE = "none for your own tokens; an administrator for anyone else's"


class TokenOut(BaseModel):
    id: int
    user_id: int
    client_id: None = None
    name: str
    scopes: list[str]
    revoked: bool
    created_at: str
    expires_at: str | None
    last_used_at: str | None


TokenList = list_of(TokenOut, "TokenList")


class TokenCreate(BaseModel):
    name: str = Field(min_length=1, max_length=255)
    scopes: list[Annotated[str, Field(max_length=64)]] | None = Field(
        None, max_length=50, description="Defaults to the scopes of the token making it.")
    expires_at: UtcDateTime | None = Field(None, description=(
        "ISO 8601; UTC when no offset is given. Default: one year, or when the personal access token making it "
        "expires if that is sooner; a personal access token cannot make one that outlives it (403)."))


class TokenCreated(BaseModel):
    accessToken: str = Field(description="The token: shown this once, only its hash is kept.")
    token: TokenOut


def _runtime(request: Request):
    return request.app.state.runtime


@router.get("/users/{user_id}/tokens", summary="List a user's personal access tokens", response_model=TokenList,
            responses=errors(401, 403, 404, 422), description=describe("tokens:read", RULE))
def list_tokens(request: Request, user_id: PathId, query: ListQuery = Depends(list_query),
                principal: Principal = Depends(require_scope("tokens:read"))):
    rt = _runtime(request)
    with rt.db.session(write=False) as s:
        return list_body(request, rt.personal_tokens.list_for(s, principal, user_id, query).map(public_view))


@router.post("/users/{user_id}/tokens", summary="Create a personal access token", status_code=201,
             response_model=TokenCreated, responses=errors(401, 403, 404, 422), description=describe("tokens:write", RULE))
def create_token(request: Request, user_id: PathId, body: TokenCreate,
                 principal: Principal = Depends(require_scope("tokens:write"))):
    rt = _runtime(request)
    with rt.db.session() as s:
        row, token = rt.personal_tokens.create_for(s, principal, user_id, body.name, body.scopes, body.expires_at)
        return {"accessToken": token, "token": public_view(row)}


@router.get("/users/{user_id}/tokens/{token_id}", summary="Get a personal access token", response_model=TokenOut,
            responses=errors(401, 403, 404, 422), description=describe("tokens:read", RULE))
def get_token(request: Request, user_id: PathId, token_id: PathId,
              principal: Principal = Depends(require_scope("tokens:read"))):
    rt = _runtime(request)
    with rt.db.session(write=False) as s:
        return public_view(rt.personal_tokens.get_for(s, principal, user_id, token_id))


@router.delete("/users/{user_id}/tokens/{token_id}", summary="Revoke a personal access token (at once)",
               status_code=204, response_class=Response, responses=errors(401, 403, 404, 422),
               description=describe("tokens:write", RULE))
def revoke_token(request: Request, user_id: PathId, token_id: PathId,
                 principal: Principal = Depends(require_scope("tokens:write"))):
    rt = _runtime(request)
    with rt.db.session() as s:
        rt.personal_tokens.revoke_for(s, principal, user_id, token_id)
    return Response(status_code=204)
