"""``/api/1.0/resources``: the resource servers tokens may be asked for (RFC 8707 ``resource``).

Reading needs the scope ``clients:read`` and the permission ``view-auth_clients``; creating, changing
and deleting ``clients:write`` and an administrator (``services/applications/resources.py`` says why).
authgate's own API is listed (``builtin``) and cannot be deleted.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Request
from pydantic import BaseModel, Field
from starlette.responses import Response

from authgate.services.accounts.people.principal import Principal
from authgate.services.applications.resources import DEFAULT_SIGNING_ALG, MAX_IDENTIFIER, MAX_TTL, public_view
from authgate.services.operations.listing import ListQuery
from authgate.web.bearer import require_scope
from authgate.web.http.error_format import ErrorFormat
from authgate.web.jsonapi.envelope import MAX_ID, describe, errors, list_body, list_of, list_query

router = APIRouter(prefix="/api/1.0", tags=["resource servers"], route_class=ErrorFormat.API.route_class)

ResourceId = Annotated[int, Path(ge=1, le=MAX_ID, description="The resource server's id.")]
Scope = Annotated[str, Field(min_length=1, max_length=64)]
ADMIN = "administrator"
SigningAlg = Literal["RS256", "PS256", "ES256", "EdDSA"]
ALG_DESCRIPTION = ("The algorithm its access tokens are signed with: RS256 (the default every verifier supports, "
                   "RFC 9068 §2.1), or PS256, ES256, EdDSA; the key is in /oauth/jwks.")


class ResourceOut(BaseModel):
    id: int
    identifier: str = Field(description="An absolute URI: the `resource` clients ask for and the tokens' `aud`.")
    name: str
    scopes: list[str] = Field(description="The scopes it defines: a token for it may carry only these "
                                          "(and openid, profile, email, offline_access).")
    access_token_ttl: int | None = Field(description="Seconds its access tokens live; null: the server's default.")
    introspection: bool = Field(description="Whether introspection describes its tokens.")
    signing_alg: SigningAlg = Field(description=ALG_DESCRIPTION)
    builtin: bool = Field(description="authgate's own API: made at start, not deletable.")
    created_at: str
    updated_at: str


ResourceList = list_of(ResourceOut, "ResourceList")


class ResourceCreate(BaseModel):
    identifier: str = Field(min_length=1, max_length=MAX_IDENTIFIER,
                            description="An absolute URI without a fragment (RFC 8707 §2).")
    name: str = Field(min_length=1, max_length=255)
    scopes: list[Scope] = Field([], max_length=100)
    access_token_ttl: int | None = Field(None, ge=1, le=MAX_TTL)
    introspection: bool = True
    signing_alg: SigningAlg = Field(DEFAULT_SIGNING_ALG, description=ALG_DESCRIPTION)


class ResourceUpdate(BaseModel):
    name: str | None = Field(None, min_length=1, max_length=255)
    scopes: list[Scope] | None = Field(None, max_length=100)
    access_token_ttl: int | None = Field(None, ge=1, le=MAX_TTL, description="null: the server's default.")
    introspection: bool | None = None
    signing_alg: SigningAlg | None = Field(None, description=ALG_DESCRIPTION)


def _runtime(request: Request):
    return request.app.state.runtime


@router.get("/resources", summary="List resource servers", response_model=ResourceList,
            responses=errors(401, 403, 422), description=describe("clients:read", "`view-auth_clients`"))
def list_resources(request: Request, query: ListQuery = Depends(list_query),
                   principal: Principal = Depends(require_scope("clients:read"))):
    rt = _runtime(request)
    with rt.db.session(write=False) as s:
        return list_body(request, rt.resources.page(s, principal, query).map(public_view))


@router.post("/resources", summary="Register a resource server", status_code=201, response_model=ResourceOut,
             responses=errors(401, 403, 409, 422), description=describe("clients:write", ADMIN))
def create_resource(request: Request, body: ResourceCreate,
                    principal: Principal = Depends(require_scope("clients:write"))):
    rt = _runtime(request)
    with rt.db.session() as s:
        row = rt.resources.create(s, body.identifier, body.name, body.scopes, access_token_ttl=body.access_token_ttl,
                                  introspection=body.introspection, signing_alg=body.signing_alg, actor=principal)
        return public_view(row)


@router.get("/resources/{resource_id}", summary="Get a resource server", response_model=ResourceOut,
            responses=errors(401, 403, 404, 422), description=describe("clients:read", "`view-auth_clients`"))
def get_resource(request: Request, resource_id: ResourceId,
                 principal: Principal = Depends(require_scope("clients:read"))):
    rt = _runtime(request)
    with rt.db.session(write=False) as s:
        return public_view(rt.resources.visible(s, principal, resource_id))


@router.put("/resources/{resource_id}", summary="Change a resource server (its identifier stays)",
            response_model=ResourceOut, responses=errors(401, 403, 404, 422),
            description=describe("clients:write", ADMIN))
def update_resource(request: Request, resource_id: ResourceId, body: ResourceUpdate,
                    principal: Principal = Depends(require_scope("clients:write"))):
    rt = _runtime(request)
    values = body.model_dump(exclude_unset=True)
    values = {k: v for k, v in values.items() if v is not None or k == "access_token_ttl"}
    with rt.db.session() as s:
        return public_view(rt.resources.update(s, principal, resource_id, values))


@router.delete("/resources/{resource_id}", summary="Delete a resource server (not authgate's own API)",
               status_code=204, response_class=Response, responses=errors(401, 403, 404, 422),
               description=describe("clients:write", ADMIN))
def delete_resource(request: Request, resource_id: ResourceId,
                    principal: Principal = Depends(require_scope("clients:write"))):
    rt = _runtime(request)
    with rt.db.session() as s:
        rt.resources.delete(s, principal, resource_id)
    return Response(status_code=204)
