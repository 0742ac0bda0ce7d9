"""The OpenID Connect relying party authgate is at an upstream provider: discovery, the authorization request
(code flow, PKCE S256, ``state``, ``nonce``), the callback's checks (RFC 9207 ``iss``), the token request and the
ID token's validation (OpenID Connect Core 1.0 §3.1.3.7).

Every request to the provider goes through the safe fetcher (``services/operations/safe_fetch.py``): https only, no
redirect followed, the resolved address checked and pinned, bodies and time capped. A provider an administrator
marked ``allow_private_network`` (a company IdP inside the network) is fetched by a fetcher that allows private and
loopback addresses; the others only where the server-wide ``AUTHGATE_FETCH_ALLOW_PRIVATE`` does.

The signature is checked by joserfc against the provider's JWKS (fetched again, at most every 30 s, for a ``kid``
it lacks), with asymmetric algorithms only; the claims by Authlib's ``CodeIDToken`` (``iss``, ``aud``, ``exp``,
``iat``, ``nonce``, ``azp``, ``at_hash``), with the issuer and client id given. The upstream's tokens live only in
this module's locals: they are neither stored nor logged, and nothing of them but the validated claims leaves it.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from urllib.parse import urlencode

from authgate.services.federation.providers import ProviderView
from authgate.services.operations.safe_fetch import FetchRefused, SafeFetcher

ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
LEEWAY = 60
KEYS_REFETCH_SECONDS = 30


class UpstreamRefused(Exception):
    """The provider's answer is not accepted; the message says why, for the person on the error page and the
    security log (it never holds a token)."""


@dataclass(frozen=True)
class Started:
    """An authorization request to send the browser to, and what its callback needs."""

    url: str
    state: str
    nonce: str
    verifier: str


@dataclass(frozen=True)
class Identity:
    """Who the provider says signed in: the validated ID token's claims, with UserInfo's where it lacks them."""

    subject: str
    email: str | None
    email_verified: bool
    preferred_username: str | None
    given_name: str
    family_name: str
    amr: tuple[str, ...]


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def challenge_of(verifier: str) -> str:
    """RFC 7636 §4.2: S256."""
    return _b64(hashlib.sha256(verifier.encode("ascii")).digest())


class Upstream:
    def __init__(self, fetcher: SafeFetcher, private_fetcher: SafeFetcher):
        self.fetcher = fetcher
        self.private_fetcher = private_fetcher

    def _fetcher_for(self, provider: ProviderView) -> SafeFetcher:
        return self.private_fetcher if provider.allow_private_network else self.fetcher

    def metadata(self, provider: ProviderView) -> dict:
        """The provider's discovery document (OpenID Connect Discovery 1.0 §4), whose ``issuer`` must be the one
        configured, exactly (§4.3)."""
        url = provider.issuer.rstrip("/") + "/.well-known/openid-configuration"
        try:
            document = self._fetcher_for(provider).json(url)
        except FetchRefused as why:
            raise UpstreamRefused(f"its discovery document could not be read: {why}") from None
        if document.get("issuer") != provider.issuer:
            raise UpstreamRefused(f"its discovery document names the issuer {str(document.get('issuer'))[:200]!r}, "
                                  f"not {provider.issuer!r}")
        for endpoint in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
            if not isinstance(document.get(endpoint), str) or not document[endpoint]:
                raise UpstreamRefused(f"its discovery document has no {endpoint}")
        return document

    def discovery_problem(self, provider: ProviderView) -> str | None:
        """Why ``metadata`` refuses the provider's discovery document, or None: the check before a change is saved."""
        try:
            self.metadata(provider)
        except UpstreamRefused as why:
            return str(why)
        return None

    def start(self, provider: ProviderView, redirect_uri: str) -> Started:
        """The authorization request (Core §3.1.2.1 with RFC 7636 S256)."""
        document = self.metadata(provider)
        state, nonce, verifier = secrets.token_urlsafe(32), secrets.token_urlsafe(32), secrets.token_urlsafe(48)
        query = urlencode({"response_type": "code", "client_id": provider.client_id, "redirect_uri": redirect_uri,
                           "scope": " ".join(provider.scopes), "state": state, "nonce": nonce,
                           "code_challenge": challenge_of(verifier), "code_challenge_method": "S256"})
        endpoint = document["authorization_endpoint"]
        return Started(endpoint + ("&" if "?" in endpoint else "?") + query, state, nonce, verifier)

    def finish(self, provider: ProviderView, redirect_uri: str, code: str, iss: str | None, nonce: str,
               verifier: str) -> Identity:
        """Check the callback's ``iss``, redeem ``code`` and validate the ID token; ``UpstreamRefused`` otherwise."""
        document = self.metadata(provider)
        if iss is not None and iss != provider.issuer:
            raise UpstreamRefused("the answer came from another issuer than the provider's (RFC 9207 iss mismatch)")
        if iss is None and document.get("authorization_response_iss_parameter_supported") is True:
            raise UpstreamRefused("the answer lacks the iss parameter its provider promises (RFC 9207)")
        tokens = self._redeem(provider, document, redirect_uri, code, verifier)
        claims = self._validated(provider, document, tokens["id_token"], nonce, tokens.get("access_token"))
        extra = {}
        if (not claims.get("email") or not claims.get("preferred_username")) and document.get("userinfo_endpoint") \
                and tokens.get("access_token"):
            extra = self._userinfo(provider, document["userinfo_endpoint"], tokens["access_token"], claims["sub"])
        merged = {**extra, **claims}
        merged["email_verified"] = (claims if "email" in claims else extra).get("email_verified")
        return _identity(merged)

    def _redeem(self, provider: ProviderView, document: dict, redirect_uri: str, code: str, verifier: str) -> dict:
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
                "code_verifier": verifier}
        headers = {}
        methods = document.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
        if "client_secret_basic" in methods:
            # RFC 6749 §2.3.1: each part form-urlencoded before Basic
            from urllib.parse import quote

            pair = f"{quote(provider.client_id, safe='')}:{quote(provider.client_secret, safe='')}"
            headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode("ascii")
        else:
            form.update(client_id=provider.client_id, client_secret=provider.client_secret)
        try:
            status, answer = self._fetcher_for(provider).exchange(document["token_endpoint"], form=form,
                                                                  headers=headers)
        except FetchRefused as why:
            raise UpstreamRefused(f"its token endpoint could not be reached: {why}") from None
        if status != 200:
            raise UpstreamRefused(f"its token endpoint refused the code: {_said(answer)}")
        if not isinstance(answer.get("id_token"), str):
            raise UpstreamRefused("its token endpoint answered without an ID token")
        return answer

    def _keys(self, provider: ProviderView, document: dict, newer_than: float | None = None):
        from joserfc.jwk import KeySet

        try:
            jwks = self._fetcher_for(provider).json(document["jwks_uri"], newer_than=newer_than)
            return KeySet.import_key_set({"keys": [k for k in jwks.get("keys", []) if isinstance(k, dict)
                                                   and "d" not in k and k.get("kty") != "oct"]})
        except FetchRefused as why:
            raise UpstreamRefused(f"its keys could not be read: {why}") from None
        except (ValueError, TypeError, KeyError) as why:
            raise UpstreamRefused(f"its keys are not a valid JWK Set ({type(why).__name__})") from None

    def _validated(self, provider: ProviderView, document: dict, id_token: str, nonce: str,
                   access_token: str | None) -> dict:
        from authlib.oidc.core import CodeIDToken
        from joserfc import jwt
        from joserfc.errors import JoseError
        from joserfc.jws import JWSRegistry

        offered = document.get("id_token_signing_alg_values_supported") or ["RS256"]
        algorithms = [a for a in ALGORITHMS if a in offered] or ["RS256"]
        registry = JWSRegistry(algorithms=algorithms)

        def decode(keys):
            return jwt.decode(id_token, keys, algorithms=algorithms, registry=registry)

        try:
            try:
                token = decode(self._keys(provider, document))
            except (JoseError, ValueError):
                token = decode(self._keys(provider, document, newer_than=KEYS_REFETCH_SECONDS))
        except (JoseError, ValueError) as why:
            raise UpstreamRefused(f"its ID token's signature does not verify with its published keys "
                                  f"({type(why).__name__})") from None
        claims = CodeIDToken(token.claims, token.header,
                             {"iss": {"essential": True, "value": provider.issuer},
                              "aud": {"essential": True, "value": provider.client_id},
                              "sub": {"essential": True}},
                             {"nonce": nonce, "client_id": provider.client_id, "access_token": access_token})
        try:
            claims.validate(leeway=LEEWAY)
        except JoseError as why:
            raise UpstreamRefused(f"its ID token was refused: {_claim_problem(why)}") from None
        audience = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        if len(audience) > 1 and claims.get("azp") != provider.client_id:
            raise UpstreamRefused("its ID token is for several audiences and not authorized for authgate (azp)")
        if not isinstance(claims["sub"], str) or not claims["sub"] or len(claims["sub"]) > 255:
            raise UpstreamRefused("its ID token's sub is not a string of 1 to 255 characters")
        return dict(claims)

    def _userinfo(self, provider: ProviderView, url: str, access_token: str, subject: str) -> dict:
        """UserInfo's claims, only if its ``sub`` is the ID token's (Core §5.3.4); nothing when it fails."""
        try:
            status, answer = self._fetcher_for(provider).exchange(
                url, headers={"Authorization": f"Bearer {access_token}"})
        except FetchRefused:
            return {}
        if status != 200 or answer.get("sub") != subject:
            return {}
        return answer


def _said(answer: dict) -> str:
    error = str(answer.get("error") or "no error code")[:100]
    description = answer.get("error_description")
    return error + (f" ({str(description)[:300]})" if description else "")


def _claim_problem(error) -> str:
    name = getattr(error, "claim", None) or ""
    kind = type(error).__name__
    if kind == "ExpiredTokenError":
        return "it has expired (exp)"
    if kind == "MissingClaimError":
        return f"it lacks the {error.description.split()[-1] if not name else name} claim"
    return f"{error.description}" if getattr(error, "description", None) else kind


AMR_VALUES = frozenset({"face", "fpt", "geo", "hwk", "iris", "kba", "mca", "mfa", "otp", "pin", "pop", "pwd", "rba",
                        "retina", "sc", "sms", "swk", "tel", "user", "vbm", "wia"})
"""RFC 8176 §2's registered method names: the only ones taken from an upstream's ``amr``."""


def _text(value, limit: int = 255) -> str:
    return value.strip()[:limit] if isinstance(value, str) else ""


def _identity(claims: dict) -> Identity:
    amr = claims.get("amr")
    methods = tuple(dict.fromkeys(m for m in amr if m in AMR_VALUES)) if isinstance(amr, list) else ()
    email = _text(claims.get("email")) or None
    return Identity(subject=claims["sub"], email=email, email_verified=claims.get("email_verified") is True,
                    preferred_username=_text(claims.get("preferred_username")) or None,
                    given_name=_text(claims.get("given_name")), family_name=_text(claims.get("family_name")),
                    amr=methods)
