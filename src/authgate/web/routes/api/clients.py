"""``/api/1.0/oauth/clients``: client applications, in ProcessMaker's (Passport's) shape plus authgate's.

The secret is in the create response and in ``POST .../secret`` (a new one) only. A client known by its
metadata document is addressed by its ``id`` (``doc-<n>``: its ``client_id`` is a URL), may be read, disabled
and deleted, not changed (its document says what it is).
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field
from starlette.responses import Response

from authgate.oauth.grants.registry import GRANTS
from authgate.services.accounts.people.principal import Principal
from authgate.services.applications.clients import public_view
from authgate.services.applications.logout_uris import FIELDS as LOGOUT_FIELDS
from authgate.services.operations.listing import ListQuery
from authgate.web.bearer import require_scope
from authgate.web.http.error_format import ErrorFormat
from authgate.web.jsonapi.envelope import ClientId, describe, errors, list_body, list_of, list_query

router = APIRouter(prefix="/api/1.0", tags=["client applications"], route_class=ErrorFormat.API.route_class)

Uri = Annotated[str, Field(max_length=2000)]
Name = Annotated[str, Field(max_length=64)]
TYPES_DOC = f"Grants the client may use: {', '.join(GRANTS.choices())}."
DIRECTORY_RULE = ("giving a `client_credentials` client `users:read` / `groups:read`, or new keys to a client that "
                  "has them, also needs `view-users` / `view-groups` (or administrator), else 403")
CREDENTIALS_RULE = ("`edit-auth_clients`; for a client that reads the directory (`users:read` / `groups:read` with "
                    "client credentials) also `view-users` / `view-groups` (or administrator), else 403")
OWNER_RULE = ("; a client another user owns also needs every permission its owner holds (an administrator's: "
              "administrators only), else 403")
LOGOUT_DOC = "Where RP-Initiated Logout may send the browser back to (exact match)."
BACKCHANNEL_DOC = "Where logout tokens are posted (OpenID Back-Channel Logout): https, or http on a loopback host."


AUTH_METHOD_DOC = ("How it authenticates at the token endpoint: client_secret_basic or client_secret_post (a secret), "
                   "none (public), private_key_jwt (RFC 7523: a JWT signed by one of its keys, jwks or jwks_uri).")
KeySet = dict | None
PROFILE_DOC = ("The security profile it is held to: fapi2 (FAPI 2.0 Security Profile: pushed requests, PKCE, "
               "private_key_jwt, DPoP, PS256/ES256/EdDSA, 60 s codes), or null.")
Profile = Literal["fapi2", "none"] | None


class ClientOut(BaseModel):
    id: str = Field(description="What addresses it in paths: its client_id, or doc-<n> for a client known by its "
                                "metadata document (whose client_id is a URL).")
    client_id: str
    name: str
    redirect: str = Field(description="The redirect URIs, comma-separated (Passport's field).")
    redirect_uris: list[str]
    types: list[str]
    grants: list[str]
    scopes: list[str] = Field(description="The scopes it may ask for; empty means any.")
    public: bool
    personal_access_client: bool
    password_client: bool
    revoked: bool = Field(description="Disabled by an administrator (Passport's field).")
    disabled_at: str | None = Field(None, description="When it was disabled; null while it may be used.")
    user_id: int | None
    created_at: str
    updated_at: str
    registered_at: str | None = Field(None, description="When the client registered itself (RFC 7591); null otherwise.")
    post_logout_redirect_uris: list[str] = Field([], description="Where sign-out may return (RP-Initiated Logout).")
    backchannel_logout_uri: str | None = Field(None, description="Where logout tokens are posted (Back-Channel Logout).")
    backchannel_logout_session_required: bool = False
    token_endpoint_auth_method: str = Field("client_secret_basic", description=AUTH_METHOD_DOC)
    jwks: dict | None = Field(None, description="Its public keys, inline (a JWK Set), for private_key_jwt.")
    jwks_uri: str | None = Field(None, description="Where its public keys are published, for private_key_jwt.")
    metadata_document: bool = Field(False, description="Known by its Client ID Metadata Document (its client_id is that URL).")
    require_pushed_authorization_requests: bool = Field(False, description="Its authorization requests must be pushed (RFC 9126).")
    dpop_bound_access_tokens: bool = Field(False, description="Its token requests must carry a DPoP proof (RFC 9449 §5.2).")
    require_signed_request_object: bool = Field(
        False, description="Its authorization requests must be request objects signed by its keys (RFC 9101 §10.5).")
    profile: str | None = Field(None, description=PROFILE_DOC)


class ClientWithSecret(ClientOut):
    secret: str | None = Field(description="Shown this once; null for a public client.")


ClientList = list_of(ClientOut, "ClientList")


class ClientCreate(BaseModel):
    name: str = Field(min_length=1, max_length=255)
    redirect: str | None = Field(None, max_length=20_000, description="Redirect URIs, comma-separated (ProcessMaker's field).")
    redirect_uris: list[Uri] | None = Field(None, max_length=50, description="Redirect URIs (instead of `redirect`).")
    types: list[Name] | None = Field(None, max_length=20, description=TYPES_DOC)
    scopes: list[Name] = Field([], max_length=50, description="The scopes it may ask for; empty means any.")
    public: bool = Field(False, description="No secret (native and browser apps); PKCE is then required.")
    post_logout_redirect_uris: list[Uri] = Field([], max_length=50, description=LOGOUT_DOC)
    backchannel_logout_uri: Uri | None = Field(None, description=BACKCHANNEL_DOC)
    backchannel_logout_session_required: bool = Field(False, description="It needs `sid` in logout tokens.")
    token_endpoint_auth_method: Literal["client_secret_basic", "client_secret_post", "none", "private_key_jwt"] | None = Field(
        None, description=AUTH_METHOD_DOC)
    jwks: KeySet = Field(None, description="For private_key_jwt: its public keys (a JWK Set).")
    jwks_uri: Uri | None = Field(None, description="For private_key_jwt: where its public keys are published (https).")
    profile: Profile = Field(None, description=PROFILE_DOC)


class ClientUpdate(BaseModel):
    name: str | None = Field(None, min_length=1, max_length=255)
    redirect: str | None = Field(None, max_length=20_000)
    redirect_uris: list[Uri] | None = Field(None, max_length=50)
    types: list[Name] | None = Field(None, max_length=20, description=TYPES_DOC)
    scopes: list[Name] | None = Field(None, max_length=50)
    public: bool | None = Field(None, description="Cannot change.")
    post_logout_redirect_uris: list[Uri] | None = Field(None, max_length=50, description=LOGOUT_DOC)
    backchannel_logout_uri: Uri | None = Field(None, description=BACKCHANNEL_DOC + " An empty string removes it.")
    backchannel_logout_session_required: bool | None = None
    token_endpoint_auth_method: Literal["client_secret_basic", "client_secret_post", "private_key_jwt"] | None = Field(
        None, description=AUTH_METHOD_DOC + " Moving to private_key_jwt drops the secret.")
    jwks: KeySet = Field(None, description="For private_key_jwt: its public keys (a JWK Set).")
    jwks_uri: Uri | None = Field(None, description="For private_key_jwt: where its public keys are published (https).")
    require_pushed_authorization_requests: bool | None = Field(None, description="Must push its authorization requests (RFC 9126).")
    dpop_bound_access_tokens: bool | None = Field(None, description="Must send a DPoP proof with every token request (RFC 9449 §5.2).")
    require_signed_request_object: bool | None = Field(
        None, description="Must send its authorization requests as request objects signed by its keys (RFC 9101 §10.5).")
    profile: Profile = Field(None, description=PROFILE_DOC + " \"none\" removes it.")


def _redirect_uris(body: ClientCreate | ClientUpdate) -> list[str] | None:
    if body.redirect_uris is not None:
        return body.redirect_uris
    if body.redirect is not None:
        return [uri.strip() for uri in body.redirect.split(",") if uri.strip()]
    return None


def _runtime(request: Request):
    return request.app.state.runtime


@router.get("/oauth/clients", summary="List client applications", response_model=ClientList,
            responses=errors(401, 403, 422), description=describe("clients:read", "`view-auth_clients`"))
def list_clients(request: Request, query: ListQuery = Depends(list_query),
                 principal: Principal = Depends(require_scope("clients:read"))):
    rt = _runtime(request)
    with rt.db.session(write=False) as s:
        return list_body(request, rt.clients.page(s, principal, query).map(public_view))


@router.post("/oauth/clients", summary="Register a client application", status_code=201,
             response_model=ClientWithSecret, responses=errors(401, 403, 422),
             description=describe("clients:write", "`create-auth_clients`; " + DIRECTORY_RULE))
def create_client(request: Request, body: ClientCreate, principal: Principal = Depends(require_scope("clients:write"))):
    rt = _runtime(request)
    owner = principal.user.id if principal.user is not None else None
    with rt.db.session() as s:
        client, secret = rt.clients.create(
            s, body.name, redirect_uris=_redirect_uris(body) or [], grants=body.types, scopes=body.scopes,
            public=body.public, owner_id=owner, actor=principal,
            logout={name: getattr(body, name) for name in LOGOUT_FIELDS}, auth_method=body.token_endpoint_auth_method,
            jwks=body.jwks, jwks_uri=body.jwks_uri, profile=body.profile,
        )
        return public_view(client) | {"secret": secret}


@router.get("/oauth/clients/{client_id}", summary="Get a client application", response_model=ClientOut,
            responses=errors(401, 403, 404, 422), description=describe("clients:read", "`view-auth_clients`"))
def get_client(request: Request, client_id: ClientId, principal: Principal = Depends(require_scope("clients:read"))):
    rt = _runtime(request)
    with rt.db.session(write=False) as s:
        return public_view(rt.clients.visible(s, principal, client_id))


@router.put("/oauth/clients/{client_id}", summary="Change a client application", response_model=ClientOut,
            responses=errors(401, 403, 404, 422), description=describe("clients:write", "`edit-auth_clients`; " + DIRECTORY_RULE
                                                                                  + OWNER_RULE))
def update_client(request: Request, client_id: ClientId, body: ClientUpdate,
                  principal: Principal = Depends(require_scope("clients:write"))):
    rt = _runtime(request)
    values: dict = {k: v for k, v in {"name": body.name, "grants": body.types, "scopes": body.scopes,
                                      "public": body.public, "redirect_uris": _redirect_uris(body),
                                      "token_endpoint_auth_method": body.token_endpoint_auth_method,
                                      "jwks": body.jwks, "jwks_uri": body.jwks_uri,
                                      "require_par": body.require_pushed_authorization_requests,
                                      "require_dpop": body.dpop_bound_access_tokens,
                                      "require_request_object": body.require_signed_request_object,
                                      "profile": body.profile}.items()
                    if v is not None}
    values |= {name: getattr(body, name) for name in LOGOUT_FIELDS if getattr(body, name) is not None}
    with rt.db.session() as s:
        return public_view(rt.clients.update(s, principal, client_id, values))


@router.post("/oauth/clients/{client_id}/secret", summary="Give a client a new secret (the old one stops working)",
             response_model=ClientWithSecret, responses=errors(401, 403, 404, 422),
             description=describe("clients:write", CREDENTIALS_RULE + OWNER_RULE))
def regenerate_secret(request: Request, client_id: ClientId,
                      principal: Principal = Depends(require_scope("clients:write"))):
    rt = _runtime(request)
    with rt.db.session() as s:
        client, secret = rt.clients.regenerate_secret(s, principal, client_id)
        return public_view(client) | {"secret": secret}


@router.post("/oauth/clients/{client_id}/disable", summary="Disable a client application; its tokens are revoked",
             response_model=ClientOut, responses=errors(401, 403, 404, 422),
             description=describe("clients:write", "`edit-auth_clients`" + OWNER_RULE) + " Every endpoint then refuses it "
                                                                           "(`invalid_client`); enabling it again "
                                                                           "does not bring its tokens back.")
def disable_client(request: Request, client_id: ClientId, principal: Principal = Depends(require_scope("clients:write"))):
    rt = _runtime(request)
    with rt.db.session() as s:
        return public_view(rt.clients.disable(s, principal, client_id))


@router.post("/oauth/clients/{client_id}/enable", summary="Enable a disabled client application",
             response_model=ClientOut, responses=errors(401, 403, 404, 422),
             description=describe("clients:write", "`edit-auth_clients`" + OWNER_RULE))
def enable_client(request: Request, client_id: ClientId, principal: Principal = Depends(require_scope("clients:write"))):
    rt = _runtime(request)
    with rt.db.session() as s:
        return public_view(rt.clients.enable(s, principal, client_id))


@router.delete("/oauth/clients/{client_id}", summary="Delete a client application; its tokens are revoked",
               status_code=204, response_class=Response, responses=errors(401, 403, 404, 422),
               description=describe("clients:write", "`delete-auth_clients`" + OWNER_RULE))
def delete_client(request: Request, client_id: ClientId, principal: Principal = Depends(require_scope("clients:write"))):
    rt = _runtime(request)
    with rt.db.session() as s:
        rt.clients.delete(s, client_id, actor=principal)
    return Response(status_code=204)
