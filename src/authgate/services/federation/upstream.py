"""The OpenID Connect relying party authgate is at an upstream provider: discovery, the authorization request
(code flow, PKCE S256, ``state``, ``nonce``), the callback's checks (RFC 9207 ``iss``), the token request and the
ID token's validation (OpenID Connect Core 1.0 §3.1.3.7). A plain OAuth 2.0 provider (kind ``oauth2``) gets the same
code flow with PKCE and ``state`` (RFC 6749 §4.1, RFC 7636) at its configured endpoints, without discovery, ``nonce``
or ID token: who signed in is what its userinfo URL answers to the upstream access token.

Which claim fills each part of the ``Identity`` is the provider's claim mapping (``ProviderView.claim``): a name,
or a dotted path into nested objects (``realm_access.roles``) when no claim has the name itself.

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

from authgate.services.federation.providers import OAUTH2, ProviderView
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
    groups: tuple[str, ...] | None = None
    """The upstream's groups (the mapped groups claim), None when its answer had no such claim."""


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
        """The authorization request (Core §3.1.2.1 with RFC 7636 S256; RFC 6749 §4.1.1 for a plain OAuth 2.0
        provider, without ``nonce``)."""
        if provider.kind == OAUTH2:
            state, verifier = secrets.token_urlsafe(32), secrets.token_urlsafe(48)
            params = {"response_type": "code", "client_id": provider.client_id, "redirect_uri": redirect_uri,
                      "state": state, "code_challenge": challenge_of(verifier), "code_challenge_method": "S256"}
            if provider.scopes:
                params["scope"] = " ".join(provider.scopes)
            endpoint = provider.authorization_url or ""
            return Started(endpoint + ("&" if "?" in endpoint else "?") + urlencode(params), state, "", verifier)
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
        if provider.kind == OAUTH2:
            return self._finish_oauth2(provider, redirect_uri, code, iss, verifier)
        document = self.metadata(provider)
        if iss is not None and iss != provider.issuer:
            raise UpstreamRefused("the answer came from another issuer than the provider's (RFC 9207 iss mismatch)")
        if iss is None and document.get("authorization_response_iss_parameter_supported") is True:
            raise UpstreamRefused("the answer lacks the iss parameter its provider promises (RFC 9207)")
        tokens = self._redeem(provider, document, redirect_uri, code, verifier)
        claims = self._validated(provider, document, tokens["id_token"], nonce, tokens.get("access_token"))
        extra = {}
        wanted = [provider.claim("email"), provider.claim("username")] + (
            [provider.claim("groups")] if "groups" in provider.claims else [])
        if any(_claim(claims, name) in (None, "") for name in wanted) and document.get("userinfo_endpoint") \
                and tokens.get("access_token"):
            extra = self._userinfo(provider, document["userinfo_endpoint"], tokens["access_token"], claims["sub"])
        merged = {**extra, **claims}
        verified_by = claims if _claim(claims, provider.claim("email")) is not None else extra
        subject = _claim(merged, provider.claim("subject")) if "subject" in provider.claims else claims["sub"]
        return _identity(provider, merged, verified_by, subject, claims.get("amr"))

    def _finish_oauth2(self, provider: ProviderView, redirect_uri: str, code: str, iss: str | None,
                       verifier: str) -> Identity:
        """RFC 6749 §4.1.3 at the configured token URL (client_secret_post, as GitHub-style providers document it),
        then the userinfo URL with the access token, which goes no further than this method."""
        if iss is not None and provider.issuer and iss != provider.issuer:
            raise UpstreamRefused("the answer came from another issuer than the provider's (RFC 9207 iss mismatch)")
        document = {"token_endpoint": provider.token_url, "token_endpoint_auth_methods_supported":
                    ["client_secret_post"]}
        tokens = self._redeem(provider, document, redirect_uri, code, verifier, id_token=False)
        try:
            status, answer = self._fetcher_for(provider).exchange(
                provider.userinfo_url or "", headers={"Authorization": f"Bearer {tokens['access_token']}"})
        except FetchRefused as why:
            raise UpstreamRefused(f"its userinfo URL could not be read: {why}") from None
        if status != 200:
            raise UpstreamRefused(f"its userinfo URL refused the access token (HTTP {status})")
        return _identity(provider, answer, answer, _claim(answer, provider.claim("subject")), None)

    def _redeem(self, provider: ProviderView, document: dict, redirect_uri: str, code: str, verifier: str,
                id_token: bool = True) -> dict:
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
        if status != 200 or answer.get("error"):
            raise UpstreamRefused(f"its token endpoint refused the code: {_said(answer)}")
        if id_token and not isinstance(answer.get("id_token"), str):
            raise UpstreamRefused("its token endpoint answered without an ID token")
        if not id_token and (not isinstance(answer.get("access_token"), str) or not answer["access_token"]):
            raise UpstreamRefused("its token endpoint answered without an access token")
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


MAX_GROUPS = 500


def _claim(claims: dict, name: str):
    """The claim ``name``, else the value at the dotted path ``name`` through nested objects; None if absent."""
    if name in claims:
        return claims[name]
    value = claims
    for part in name.split(".") if "." in name else ():
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value if value is not claims else None


def _groups(value) -> tuple[str, ...] | None:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        return None
    return tuple(dict.fromkeys(g.strip() for g in value[:MAX_GROUPS] if isinstance(g, str) and g.strip()))


def _identity(provider: ProviderView, claims: dict, verified_by: dict, subject, amr) -> Identity:
    """The identity the mapped claims give; ``UpstreamRefused`` without a usable subject. ``amr``: the validated ID
    token's only (Core §2: the provider's statement about the authentication); a UserInfo or plain OAuth 2.0 profile
    answer says nothing of how the person signed in, so its ``amr`` never counts (an ``mfa`` there would skip the
    second step here)."""
    if isinstance(subject, int) and not isinstance(subject, bool):
        subject = str(subject)
    if not isinstance(subject, str) or not subject or len(subject) > 255:
        raise UpstreamRefused(f"its answer has no subject of 1 to 255 characters (claim {provider.claim('subject')})")
    methods = tuple(dict.fromkeys(m for m in amr if isinstance(m, str) and m in AMR_VALUES)) \
        if isinstance(amr, list) else ()
    email = _text(_claim(claims, provider.claim("email"))) or None
    given, family = _text(_claim(claims, provider.claim("given_name"))), _text(
        _claim(claims, provider.claim("family_name")))
    if not given and not family:
        given, _, family = _text(_claim(claims, provider.claim("name"))).partition(" ")
        family = family.strip()
    return Identity(subject=subject, email=email,
                    email_verified=_claim(verified_by, provider.claim("email_verified")) is True,
                    preferred_username=_text(_claim(claims, provider.claim("username"))) or None,
                    given_name=given, family_name=family, amr=methods,
                    groups=_groups(_claim(claims, provider.claim("groups"))))
