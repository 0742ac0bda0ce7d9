"""``/api/1.0/providers``: the upstream identity providers people may sign in with (``services/federation/``).

Administrators only, for reading too (a provider's settings say who may sign in as whom); the scopes are
``security:read`` and ``security:write``, those of the sign-in policy. The client secret is written, never read:
answers say only ``client_secret_set``. Saving an OpenID Connect provider reads its discovery document first
(outside the write transaction), unless ``check_discovery`` is false; an update reads it again only when the issuer
or ``allow_private_network`` changes.

An LDAP directory (``kind: "ldap"``) is managed here too, by the same service calls as ``authgate providers add
--kind ldap``: its ``ldap://`` or ``ldaps://`` URL is the ``issuer``, the service bind DN the ``client_id``, the bind
password the write-only ``client_secret``, and where its users and groups are the ``directory`` object. It has no
discovery document and no scopes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from pydantic import BaseModel, Field
from starlette.responses import Response

from authgate.services.accounts.people.principal import Principal
from authgate.services.federation.providers import (CLAIM_KEYS, DISCOVERY_FIELDS, KINDS, MAX_GROUP_MAPPINGS,
                                                    MAX_SCOPES, MAX_SECRET)
from authgate.web.bearer import require_scope
from authgate.web.http.error_format import ErrorFormat
from authgate.web.jsonapi.envelope import MAX_ID, describe, errors

router = APIRouter(prefix="/api/1.0", tags=["identity providers"], route_class=ErrorFormat.API.route_class)

ProviderId = Annotated[int, Path(ge=1, le=MAX_ID, description="The identity provider's id.")]
Scope = Annotated[str, Field(min_length=1, max_length=128)]
Url = Annotated[str, Field(min_length=1, max_length=2000)]
CLAIMS_HELP = (f"Which upstream claim fills each of {', '.join(CLAIM_KEYS)} where it is not the standard one "
               "(a GitHub-style provider: `{\"subject\": \"id\", \"username\": \"login\"}`); a dotted name is a "
               "path into nested objects.")
CHECK_HELP = "Read the provider's discovery document before saving (oidc); false for a set-up offline."


class GroupMappingIn(BaseModel):
    upstream: str = Field(min_length=1, max_length=255, description="A value of the provider's groups claim.")
    group: str = Field(min_length=1, max_length=255, description="The authgate group's name (or id).")


class DirectoryIn(BaseModel):
    user_base: str | None = Field(None, max_length=1000, description="Where users are searched (required to add).")
    user_filter: str | None = Field(None, max_length=1000, description="Names `{username}`, substituted escaped "
                                                                      "(RFC 4515 §3); default `(uid={username})`.")
    group_base: str | None = Field(None, max_length=1000, description="Where groups are searched; none: groups "
                                                                     "are not read.")
    group_filter: str | None = Field(None, max_length=1000, description="Names `{dn}` (or `{username}`); default "
                                                                       "`(member={dn})`.")


class DirectoryOut(BaseModel):
    user_base: str
    user_filter: str
    group_base: str | None
    group_filter: str


DIRECTORY_HELP = ("`ldap` only: where the directory's users and groups are. On a change, the settings given replace "
                  "those saved, the others stay.")
ISSUER_HELP = ("`oidc`: the issuer (required); `oauth2`: the `iss` its answers must carry, if any; `ldap`: the "
               "directory's URL, `ldap://HOST[:PORT]` or `ldaps://HOST[:PORT]` (required).")


class GroupMappingOut(BaseModel):
    upstream: str
    group: str
    group_id: int
ADMIN = "administrator"


class ProviderOut(BaseModel):
    id: int
    name: str = Field(description="Shown on the sign-in button; part of the callback URL "
                                  "`/login/federated/{name}/callback` registered at the provider.")
    kind: str = Field(description="`oidc`: OpenID Connect, found by discovery of the issuer; `oauth2`: plain OAuth "
                                  "2.0; `ldap`: an LDAP directory (no sign-in button: its password is typed on the "
                                  "sign-in form).")
    issuer: str = Field(description=ISSUER_HELP)
    client_id: str = Field(description="The client id at the provider; `ldap`: the service bind DN.")
    client_secret_set: bool = Field(description="Whether a client secret (`ldap`: the bind password) is stored (it "
                                                "is never shown).")
    scopes: list[str]
    enabled: bool
    allow_jit: bool = Field(description="A first sign-in matching no account creates one.")
    link_verified_email: bool = Field(description="A first sign-in with a verified email links to the account "
                                                  "with that (verified) address.")
    allow_private_network: bool = Field(description="Its URLs may resolve to private or loopback addresses.")
    authorization_url: str | None = Field(description="`oauth2`: where the browser is sent to sign in.")
    token_url: str | None = Field(description="`oauth2`: where authgate redeems the code.")
    userinfo_url: str | None = Field(description="`oauth2`: who signed in, read with the upstream access token.")
    claims: dict[str, str] = Field(description=CLAIMS_HELP)
    groups_claim: str | None = Field(description="The upstream claim listing a person's groups.")
    directory: DirectoryOut | None = Field(None, description=DIRECTORY_HELP)
    group_mappings: list[GroupMappingOut] = Field(
        description="At each sign-in the user joins the groups mapped from the upstream groups listed, and leaves "
                    "the mapped groups no longer listed; other groups are left alone.")
    created_at: str
    updated_at: str


class ProviderList(BaseModel):
    data: list[ProviderOut]


class ProviderCreate(BaseModel):
    kind: str = Field("oidc", description=f"One of: {', '.join(KINDS)} (`oauth2`: plain OAuth 2.0 with a userinfo "
                                          "URL, GitHub-style; `ldap`: an LDAP directory).")
    name: str = Field(min_length=1, max_length=64)
    issuer: str = Field("", max_length=2000, description=ISSUER_HELP)
    client_id: str = Field(min_length=1, max_length=512, description="`ldap`: the service bind DN.")
    client_secret: str = Field(min_length=1, max_length=MAX_SECRET, description="`ldap`: the bind password. "
                                                                                "Write-only.")
    scopes: list[Scope] = Field([], max_length=MAX_SCOPES, description="Empty: openid email profile.")
    enabled: bool = True
    allow_jit: bool = False
    link_verified_email: bool = False
    allow_private_network: bool = False
    authorization_url: Url | None = None
    token_url: Url | None = None
    userinfo_url: Url | None = None
    claims: dict[str, str] = Field({}, description=CLAIMS_HELP)
    groups_claim: str | None = Field(None, max_length=255)
    group_mappings: list[GroupMappingIn] = Field([], max_length=MAX_GROUP_MAPPINGS)
    directory: DirectoryIn | None = Field(None, description=DIRECTORY_HELP)
    check_discovery: bool = Field(True, description=CHECK_HELP)


class ProviderUpdate(BaseModel):
    issuer: str | None = Field(None, min_length=1, max_length=2000)
    client_id: str | None = Field(None, min_length=1, max_length=512)
    client_secret: str | None = Field(None, min_length=1, max_length=MAX_SECRET)
    scopes: list[Scope] | None = Field(None, max_length=MAX_SCOPES)
    enabled: bool | None = None
    allow_jit: bool | None = None
    link_verified_email: bool | None = None
    allow_private_network: bool | None = None
    authorization_url: Url | None = None
    token_url: Url | None = None
    userinfo_url: Url | None = None
    claims: dict[str, str] | None = Field(None, description=CLAIMS_HELP + " Replaces the mapping.")
    groups_claim: str | None = Field(None, max_length=255, description="An empty string removes it.")
    group_mappings: list[GroupMappingIn] | None = Field(None, max_length=MAX_GROUP_MAPPINGS,
                                                        description="Replaces the mappings.")
    directory: DirectoryIn | None = Field(None, description=DIRECTORY_HELP)
    check_discovery: bool = Field(True, description=CHECK_HELP)


def _runtime(request: Request):
    return request.app.state.runtime


@router.get("/providers", summary="List identity providers", response_model=ProviderList,
            responses=errors(401, 403), description=describe("security:read", ADMIN))
def list_providers(request: Request, principal: Principal = Depends(require_scope("security:read"))):
    rt = _runtime(request)
    with rt.db.session(write=False) as s:
        return {"data": [rt.providers.described(s, row) for row in rt.providers.list(s, principal)]}


@router.post("/providers", summary="Add an identity provider", status_code=201, response_model=ProviderOut,
             responses=errors(401, 403, 409, 422), description=describe("security:write", ADMIN))
def create_provider(request: Request, body: ProviderCreate,
                    principal: Principal = Depends(require_scope("security:write"))):
    rt = _runtime(request)
    values = body.model_dump(exclude={"check_discovery", "client_secret", "directory"})
    if body.directory is not None:
        values["directory"] = body.directory.model_dump(exclude_none=True)
    if body.check_discovery:
        rt.providers.check_discovery(principal, values)
    with rt.db.session() as s:
        row = rt.providers.create(s, values.pop("name"), values.pop("issuer"), values.pop("client_id"),
                                  body.client_secret, actor=principal, **values)
        return rt.providers.described(s, row)


@router.get("/providers/{provider_id}", summary="Get an identity provider", response_model=ProviderOut,
            responses=errors(401, 403, 404, 422), description=describe("security:read", ADMIN))
def get_provider(request: Request, provider_id: ProviderId,
                 principal: Principal = Depends(require_scope("security:read"))):
    rt = _runtime(request)
    with rt.db.session(write=False) as s:
        return rt.providers.described(s, rt.providers.visible(s, principal, provider_id))


@router.put("/providers/{provider_id}", summary="Change an identity provider (its name and kind stay)",
            response_model=ProviderOut, responses=errors(401, 403, 404, 422),
            description=describe("security:write", ADMIN))
def update_provider(request: Request, provider_id: ProviderId, body: ProviderUpdate,
                    principal: Principal = Depends(require_scope("security:write"))):
    rt = _runtime(request)
    values = {k: v for k, v in body.model_dump(exclude_unset=True, exclude={"check_discovery"}).items()
              if v is not None}
    if body.check_discovery and DISCOVERY_FIELDS & set(values):
        with rt.db.session(write=False) as s:
            current = rt.providers.visible(s, principal, provider_id)
        rt.providers.check_discovery(principal, values, current)
    with rt.db.session() as s:
        return rt.providers.described(s, rt.providers.update(s, principal, provider_id, values))


@router.delete("/providers/{provider_id}", summary="Delete an identity provider and its links",
               status_code=204, response_class=Response, responses=errors(401, 403, 404, 422),
               description=describe("security:write", ADMIN))
def delete_provider(request: Request, provider_id: ProviderId,
                    principal: Principal = Depends(require_scope("security:write"))):
    rt = _runtime(request)
    with rt.db.session() as s:
        rt.providers.delete(s, principal, provider_id)
    return Response(status_code=204)
