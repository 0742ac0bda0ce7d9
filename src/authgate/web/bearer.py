"""The bearer check for every API endpoint (RFC 6750): a FastAPI dependency naming the scope it needs,
and what it shares with the fast lane (``web/fast_lane.py``): reading the ``Authorization`` header
(``token_of``), the scope and user checks (``refusal``), and the check itself, once per request.

The check runs on the event loop when it needs no database (the usual case: see
``services/credentials/bearer.py``), and goes to the thread pool only when it must query. Whoever checks from
memory first keeps the answer in the ASGI scope (``CHECKED``): when the fast lane could not answer,
the route's dependency goes straight to the database (or to the refusal) without asking memory again.

``require_scope("users:read")`` also declares, for the OpenAPI document, the two ways in: an OAuth
access token (authorization code flow, so the docs page can sign in) or any bearer token (a PAT).
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from fastapi import Request, Security
from fastapi.security import HTTPBearer, OAuth2AuthorizationCodeBearer
from starlette.concurrency import run_in_threadpool

from authgate.oauth import dpop
from authgate.oauth.endpoints import protected_resource
from authgate.services.accounts.people.principal import Principal
from authgate.services.credentials import scopes as scope_rules
from authgate.services.credentials.bearer import BearerService, InvalidToken

REALM = 'realm="authgate"'
UNAUTHORIZED = "This action is unauthorized."
CHECKED = "authgate.bearer_checked"
"""ASGI scope key: ``(token, principal or None, InvalidToken or None)`` of this request's memory check."""

oauth2_scheme = OAuth2AuthorizationCodeBearer(
    authorizationUrl="/oauth/authorize",
    tokenUrl="/oauth/token",
    refreshUrl="/oauth/token",
    scopes=scope_rules.DESCRIPTIONS,
    scheme_name="oauth2",
    description="Sign in with the authorization code flow (PKCE). Register a client for the docs page first: see the README.",
    auto_error=False,
)
bearer_scheme = HTTPBearer(
    scheme_name="bearer",
    description="Any authgate bearer token: an access token or a personal access token (agp_...).",
    auto_error=False,
)


class BearerError(Exception):
    """Answered as JSON with ``WWW-Authenticate`` by the app's error handler."""

    def __init__(self, status: int, body: dict, challenge: str, headers: dict | None = None):
        self.status = status
        self.body = body
        self.challenge = challenge
        self.headers = headers or {}
        """More response headers (``DPoP-Nonce``)."""


def _quoted(text: str) -> str:
    return text.replace("\\", "").replace('"', "'")


def unauthenticated(description: str | None = None) -> BearerError:
    challenge = f"Bearer {REALM}"
    if description:
        challenge += f', error="invalid_token", error_description="{_quoted(description)}"'
    return BearerError(401, {"error": "Unauthenticated."}, challenge)


def token_of(header: str | None) -> str:
    """The token of an ``Authorization: Bearer`` header (RFC 6750 §2.1); ``BearerError`` without one."""
    if header is None:
        raise unauthenticated()
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise BearerError(
            400 if scheme.lower() == "bearer" else 401,
            {"error": "Unauthenticated."},
            f'Bearer {REALM}, error="invalid_request", error_description="Authorization header must be Bearer"',
        )
    return token


def presented(header: str | None) -> tuple[str, str]:
    """The scheme (``bearer`` or ``dpop``, RFC 9449 §7.1) and the token of an ``Authorization`` header."""
    scheme, _, token = (header or "").partition(" ")
    if scheme.lower() == "dpop" and token.strip():
        return "dpop", token.strip()
    return "bearer", token_of(header)


def dpop_refused(description: str, error: str = "invalid_token", nonce: str | None = None) -> BearerError:
    """A refusal of a DPoP request (RFC 9449 §7.1); ``use_dpop_nonce`` comes with the nonce to use (§9)."""
    return BearerError(401, {"error": "Unauthenticated."},
                       f'DPoP algs="{" ".join(dpop.ALGORITHMS)}", error="{error}", error_description="{_quoted(description)}"',
                       {"DPoP-Nonce": nonce} if nonce else None)


def check_binding(request: Request, scheme: str, token: str, principal: Principal) -> None:
    """A DPoP-bound token only with a proof by its key, for this request and this token (RFC 9449 §7.1); a
    token presented as DPoP must be bound. With ``AUTHGATE_DPOP_NONCES`` the proof must carry a current server
    nonce, else ``use_dpop_nonce`` and the nonce in ``DPoP-Nonce`` (§9)."""
    if principal.jkt is None:
        if scheme == "dpop":
            raise unauthenticated("The access token is not bound to a DPoP key: send it as a Bearer token.")
        return
    if scheme != "dpop":
        raise dpop_refused("The access token is bound to a DPoP key: send it as Authorization: DPoP, with a proof.")
    issuer = urlsplit(request.app.state.runtime.settings.issuer)
    url = urlunsplit((issuer.scheme, issuer.netloc, request.url.path, "", ""))
    checks = request.app.state.oauth.dpop
    try:
        checks.resource_checker.check(
            request.headers.getlist("dpop"), request.method, url, access_token=token, bound_to=principal.jkt)
    except dpop.DpopError as error:
        raise dpop_refused(error.description, error.error, checks.nonce_for(error)) from None


def refusal(principal: Principal, scopes: tuple[str, ...], user_required: bool = False) -> BearerError | None:
    """Why a working token may not be used here: it holds none of ``scopes`` (403, RFC 6750 §3.1
    ``insufficient_scope``), or it has no user where one is needed; None when it may."""
    if not any(scope_rules.grants(principal.scopes, scope) for scope in scopes):
        needed = " or ".join(scopes)
        return BearerError(
            403,
            {"message": UNAUTHORIZED, "error": "insufficient_scope", "reason": f"The token needs the scope {needed}."},
            f'Bearer {REALM}, error="insufficient_scope", scope="{" ".join(scopes)}"',
        )
    if user_required and principal.user is None:
        return BearerError(
            403,
            {"message": UNAUTHORIZED,
             "reason": "This endpoint is about the user behind the token, and a client credentials token has none."},
            f'Bearer {REALM}, error="insufficient_scope"',
        )
    return None


def check_scope(principal: Principal, *scopes: str) -> None:
    """Refuse (403, RFC 6750 §3.1 ``insufficient_scope``) a token holding none of ``scopes``."""
    refused = refusal(principal, scopes)
    if refused:
        raise refused


def keep_check(scope, token: str, principal: Principal | None, error: InvalidToken | None) -> None:
    """Keep what memory said about ``token`` for the rest of this request."""
    scope[CHECKED] = (token, principal, error)


def _from_memory(scope, bearer: BearerService, token: str) -> Principal | None:
    known = scope.get(CHECKED)
    if known is not None and known[0] == token:
        if known[2] is not None:
            raise known[2]
        return known[1]
    return bearer.from_memory(token)


def not_for_this_api() -> BearerError:
    """A working token asked for other resources (RFC 8707): refused as RFC 6750 §3.1 ``invalid_token``."""
    return unauthenticated("The access token is not for this API: its audience is another resource.")


def with_resource_metadata(error: BearerError, metadata_url: str) -> BearerError:
    """The API's challenges name its protected resource metadata (RFC 9728 §5.1)."""
    scheme, _, params = error.challenge.partition(" ")
    challenge = f'{scheme} {params}, resource_metadata="{metadata_url}"' if params else \
        f'{scheme} resource_metadata="{metadata_url}"'
    return BearerError(error.status, error.body, challenge, error.headers)


async def authenticate(request: Request, scopes: tuple[str, ...], user_required: bool = False,
                       token: str | None = None, for_api: bool = False) -> Principal:
    """The principal behind the request's bearer token, or behind ``token`` when the caller found it elsewhere;
    ``for_api``: only a token authgate's own API may take (``BearerService.for_own_api``)."""
    scheme, token = ("bearer", token) if token is not None else presented(request.headers.get("authorization"))
    bearer = request.app.state.runtime.bearer
    try:
        principal = _from_memory(request.scope, bearer, token)
        if principal is None:
            principal = await run_in_threadpool(bearer.from_database, token)
    except InvalidToken as error:
        raise unauthenticated(str(error)) from None
    check_binding(request, scheme, token, principal)
    if for_api and not bearer.for_own_api(principal):
        raise not_for_this_api()
    refused = refusal(principal, scopes, user_required)
    if refused:
        raise refused
    return principal


def require_scope(scope: str, *alternatives: str, user_required: bool = False):
    """``Depends(require_scope("users:read"))``: the principal behind a valid token holding that scope
    (or one of the ``alternatives``: the endpoint then checks which one it needs)."""
    scopes = (scope, *alternatives)

    async def dependency(
        request: Request,
        _oauth: str | None = Security(oauth2_scheme, scopes=list(scopes)),
        _bearer: object = Security(bearer_scheme),
    ) -> Principal:
        try:
            return await authenticate(request, scopes, user_required, for_api=True)
        except BearerError as error:
            own_api = request.app.state.runtime.resources.own_identifier
            raise with_resource_metadata(error, protected_resource.metadata_url(own_api)) from None

    return dependency
