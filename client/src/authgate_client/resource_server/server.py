"""``ResourceServer``: one protected resource (an identifier, RFC 8707 §2) and the authorization server
that issues its tokens.

A JWT access token (RFC 9068) is verified here, without a call to authgate: ``typ`` ``at+jwt``, an
asymmetric ``alg``, the signature by a key of the issuer's JWKS, ``iss`` exactly the issuer, ``aud``
naming this resource, ``exp``/``nbf`` within ``leeway``. A token that is no JWT (a personal access token),
or every token when ``introspect_always`` is set (to see revocations at once), is asked of the issuer's
introspection endpoint (RFC 7662) with the resource's own client credentials, and must be active and for
this resource too. Scopes are checked by ``check_scopes`` / ``requires``.

A token bound to a DPoP key (``cnf.jkt``, RFC 9449 §6) is taken only as ``Authorization: DPoP`` with a proof for
the request (``resource_server/dpop.py``); sent as a Bearer token it is refused. ``dpop_required`` refuses
unbound tokens too; ``dpop_required`` or ``dpop_algorithms`` put the DPoP members in the RFC 9728 metadata
(``dpop_signing_alg_values_supported``, ``dpop_bound_access_tokens_required``)."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterable
from urllib.parse import urlsplit, urlunsplit

import httpx
from joserfc import jwt
from joserfc.errors import JoseError

from authgate_client.metadata import ServerMetadata, discover
from authgate_client.resource_server import dpop, refusals
from authgate_client.resource_server.jwks import Jwks
from authgate_client.resource_server.tokens import AccessToken

ALGORITHMS = ("RS256", "PS256", "ES256", "EdDSA")
AT_JWT = ("at+jwt", "application/at+jwt")


class ResourceServer:
    def __init__(self, issuer: str, resource: str, *, scopes_supported: Iterable[str] = (),
                 resource_name: str | None = None, introspection_auth: tuple[str, str] | None = None,
                 introspect_always: bool = False, leeway: int = 30, http: httpx.Client | None = None,
                 dpop_required: bool = False, dpop_algorithms: Iterable[str] | None = None,
                 dpop_proof_seconds: int = 120):
        self.issuer = issuer
        self.resource = resource
        self.scopes_supported = list(scopes_supported)
        self.resource_name = resource_name
        self.introspection_auth = introspection_auth
        self.introspect_always = introspect_always
        self.leeway = leeway
        self.http = http or httpx.Client(timeout=10)
        self._metadata: ServerMetadata | None = None
        self.jwks = Jwks(self.http, lambda: self.server_metadata.endpoint("jwks_uri"))
        self.dpop_required = dpop_required
        self.dpop_advertised = dpop_required or dpop_algorithms is not None
        self.proofs = dpop.ProofVerifier(tuple(dpop_algorithms) if dpop_algorithms else dpop.ALGORITHMS,
                                         max_age=dpop_proof_seconds)

    # -- RFC 9728 ----------------------------------------------------------------------------------

    @property
    def metadata_path(self) -> str:
        """Where the resource's metadata lives (RFC 9728 §3.1: the well-known segment before its path)."""
        return "/.well-known/oauth-protected-resource" + urlsplit(self.resource).path.rstrip("/")

    @property
    def metadata_url(self) -> str:
        parts = urlsplit(self.resource)
        return urlunsplit((parts.scheme, parts.netloc, self.metadata_path, "", ""))

    def metadata(self) -> dict:
        """The protected resource metadata document (RFC 9728 §2)."""
        document = {"resource": self.resource, "authorization_servers": [self.issuer],
                    "bearer_methods_supported": ["header"]}
        if self.scopes_supported:
            document["scopes_supported"] = self.scopes_supported
        if self.resource_name:
            document["resource_name"] = self.resource_name
        if self.dpop_advertised:
            document["dpop_signing_alg_values_supported"] = list(self.proofs.algorithms)
            document["dpop_bound_access_tokens_required"] = self.dpop_required
        return document

    # -- verification ------------------------------------------------------------------------------

    @property
    def server_metadata(self) -> ServerMetadata:
        if self._metadata is None or not self._metadata.discovered:
            self._metadata = discover(self.http, self.issuer)
        return self._metadata

    def verify(self, token: str | None, *, scheme: str = "bearer", proofs: Iterable[str] = (), method: str = "GET",
               url: str | None = None) -> AccessToken:
        """The token's claims, or ``TokenRefused`` (401) saying why not. ``scheme`` is how it came (``bearer`` or
        ``dpop``); with ``dpop``, ``proofs`` are the request's ``DPoP`` headers and ``method`` and ``url`` the
        request's (RFC 9449 §7.1)."""
        try:
            if not token:
                raise refusals.missing()
            header = _jwt_header(token)
            verified = self._introspect(token) if header is None or self.introspect_always else \
                self._verify_jwt(token, header)
            self._check_binding(verified, token, scheme, list(proofs), method, url)
            return verified
        except refusals.TokenRefused as refused:
            if self.dpop_required and refused.scheme == "Bearer" and refused.error != "insufficient_scope":
                refused.scheme = "DPoP"
            refused.algs = self.proofs.algorithms
            raise

    def _check_binding(self, token: AccessToken, raw: str, scheme: str, proofs: list[str], method: str,
                       url: str | None) -> None:
        """RFC 9449 §7.1: a bound token only with a proof by its key; a DPoP request only with a bound token."""
        if token.jkt is None:
            if scheme == "dpop":
                raise refusals.unbound_dpop("The access token is not bound to a DPoP key: send it as a Bearer token.")
            if self.dpop_required:
                raise refusals.unbound_dpop("This resource takes only DPoP-bound access tokens (RFC 9449).")
            return
        if scheme != "dpop":
            raise refusals.unbound_dpop("The access token is bound to a DPoP key: send it as Authorization: DPoP, "
                                        "with a proof.")
        self.proofs.verify(proofs, method, url or self.resource, raw, token.jkt)

    def check_scopes(self, token: AccessToken, scopes: Iterable[str]) -> None:
        """``TokenRefused`` (403 ``insufficient_scope``, RFC 6750 §3.1) unless the token has every scope."""
        needed = list(scopes)
        if not token.has(*needed):
            raise refusals.insufficient(needed)

    def _verify_jwt(self, token: str, header: dict) -> AccessToken:
        if str(header.get("typ", "")).lower() not in AT_JWT:
            raise refusals.invalid("The token is not an access token (RFC 9068 §2.1: typ at+jwt).")
        if header.get("alg") not in ALGORITHMS:
            raise refusals.invalid("The token is signed with an algorithm this resource does not accept.")
        try:
            decoded = jwt.decode(token, self.jwks.key_set(header.get("kid")), algorithms=list(ALGORITHMS))
        except (JoseError, ValueError):
            raise refusals.invalid("The token's signature does not verify against the issuer's keys.")
        claims = decoded.claims
        if claims.get("iss") != self.issuer:
            raise refusals.invalid("The token was issued by another authorization server.")
        self._check_lifetime(claims)
        return self._for_this_resource(claims)

    def _introspect(self, token: str) -> AccessToken:
        if self.introspection_auth is None:
            raise refusals.invalid("This resource accepts only JWT access tokens (no introspection credentials).")
        url = self.server_metadata.endpoint("introspection_endpoint")
        try:
            response = self.http.post(url, data={"token": token}, auth=self.introspection_auth,
                                      headers={"Accept": "application/json"})
            answer = response.json() if response.status_code == 200 else None
        except (httpx.HTTPError, ValueError):
            answer = None
        if not isinstance(answer, dict):
            raise refusals.TokenRefused("invalid_token", "The authorization server could not be asked about the token.",
                                        status=503)
        if answer.get("active") is not True:
            raise refusals.invalid("The token is not active (expired, revoked or unknown).")
        if answer.get("iss", self.issuer) != self.issuer:
            raise refusals.invalid("The token was issued by another authorization server.")
        self._check_lifetime(answer)
        return self._for_this_resource(answer)

    def _check_lifetime(self, claims: dict) -> None:
        now = time.time()
        exp, nbf = claims.get("exp"), claims.get("nbf")
        if not isinstance(exp, (int, float)) or exp + self.leeway < now:
            raise refusals.invalid("The token has expired.")
        if isinstance(nbf, (int, float)) and nbf - self.leeway > now:
            raise refusals.invalid("The token is not valid yet.")

    def _for_this_resource(self, claims: dict) -> AccessToken:
        token = AccessToken.of(claims)
        if self.resource not in token.audience:
            raise refusals.invalid(f"The token is not for this resource ({self.resource}): RFC 8707 audience.")
        return token

    # -- adapters ----------------------------------------------------------------------------------

    def protect(self, app, *, required_scopes: Iterable[str] = (), public_paths: Iterable[str] = ()):
        """``app`` behind ``BearerMiddleware``: every request needs a token for this resource."""
        from authgate_client.resource_server.asgi import BearerMiddleware

        return BearerMiddleware(app, self, required_scopes=required_scopes, public_paths=public_paths)

    def requires(self, *scopes: str):
        """A FastAPI dependency giving the request's ``AccessToken``; 401/403 with ``WWW-Authenticate``."""
        from authgate_client.resource_server.fastapi_dependency import dependency

        return dependency(self, scopes)


def _jwt_header(token: str) -> dict | None:
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        header = json.loads(base64.urlsafe_b64decode(parts[0] + "=" * (-len(parts[0]) % 4)))
    except (ValueError, UnicodeDecodeError):
        return None
    return header if isinstance(header, dict) else None
