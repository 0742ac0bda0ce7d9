"""``private_key_jwt`` client authentication (RFC 7523 §2.2 and §3, OpenID Connect Core §9): the client
sends ``client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer`` and a
``client_assertion``, a JWT signed by one of its keys (``services/applications/client_keys.py``).

Checked: ``iss`` = ``sub`` = the client's id (and = ``client_id`` when the body has one); ``aud`` names the
issuer or the endpoint's URL (the token endpoint's, or the one the request went to); ``exp`` present, not
past, and at most ``MAX_LIFETIME`` seconds ahead; ``iat``/``nbf`` not in the future; ``jti`` present and
never seen before (kept until ``exp``); the signature by one of the client's keys with an algorithm of
``client_keys.ALGORITHMS``. Every refusal is ``invalid_client`` (401)."""

from __future__ import annotations

import json
import math
import time

from authlib.oauth2.rfc6749 import InvalidClientError
from joserfc import jws, jwt
from joserfc.errors import JoseError

from authgate.services.applications import client_keys
from authgate.services.applications.profiles import FAPI2_ALGORITHMS
from authgate.services.errors import Invalid
from authgate.services.operations.safe_fetch import FetchRefused

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
MAX_LIFETIME = 3600
"""An hour: Authlib's client signs assertions for that long by default; each is usable once (its ``jti``) anyway."""
LEEWAY = 30
MAX_ASSERTION_BYTES = 8192


def _numeric_date(value) -> bool:
    """A JWT NumericDate (RFC 7519 section 2): a finite number, not a boolean, nor JSON's NaN or Infinity."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _refuse(description: str):
    raise InvalidClientError(status_code=401, description=description)


def _unverified_claims(assertion: str) -> dict:
    try:
        claims = json.loads(jws.extract_compact(assertion.encode("ascii")).payload)
    except (JoseError, ValueError, UnicodeError):
        _refuse("client_assertion is not a signed JWT.")
    if not isinstance(claims, dict):
        _refuse("client_assertion's claims are not a JSON object.")
    return claims


class PrivateKeyJwt:
    """The ``private_key_jwt`` method for Authlib's client-authentication registry."""

    def __init__(self, issuer: str, token_endpoint: str, memory, fetcher, strict=lambda row: False):
        """``strict(row)``: whether the client is held to FAPI 2.0, whose assertions are signed with PS256, ES256
        or EdDSA (§5.4.1) and name exactly the issuer, as a string, in ``aud`` (§5.3.2.1 item 8)."""
        self.issuer = issuer
        self.audiences = {issuer, token_endpoint}
        self.strict = strict
        self.memory = memory
        self.fetcher = fetcher

    @staticmethod
    def assertion_client_id(form) -> str | None:
        """The client an assertion names, unverified: what to look the client up by."""
        assertion = form.get("client_assertion")
        if form.get("client_assertion_type") != ASSERTION_TYPE or not assertion:
            return None
        try:
            claims = json.loads(jws.extract_compact(assertion.encode("ascii")).payload)
        except (JoseError, ValueError, UnicodeError):
            return None
        return claims.get("iss") if isinstance(claims, dict) and isinstance(claims.get("iss"), str) else None

    def __call__(self, query_client, request):
        form = request.form
        kind, assertion = form.get("client_assertion_type"), form.get("client_assertion")
        if kind is None and assertion is None:
            return None
        if kind != ASSERTION_TYPE or not assertion:
            _refuse(f"client_assertion_type must be {ASSERTION_TYPE} with a client_assertion (RFC 7523 section 2.2).")
        if len(assertion) > MAX_ASSERTION_BYTES:
            _refuse("client_assertion is too large.")
        claims = _unverified_claims(assertion)
        client_id = claims.get("iss")
        if not isinstance(client_id, str) or not client_id or claims.get("sub") != client_id:
            _refuse("client_assertion must have iss and sub both equal to the client's id (RFC 7523 section 3).")
        if form.get("client_id") not in (None, client_id):
            _refuse("client_id differs from the client_assertion's issuer.")
        client = query_client(client_id)
        if client is None or client.row.auth_method != client_keys.PRIVATE_KEY_JWT:
            _refuse("The client does not exist or does not authenticate with private_key_jwt.")
        strict = self.strict(client.row)
        verified = self._verified(assertion, client.row, FAPI2_ALGORITHMS if strict else client_keys.ALGORITHMS)
        if strict and verified.get("aud") != self.issuer:
            _refuse("A FAPI 2.0 client's client_assertion must have aud = the issuer, as a string.")
        self._check_claims(verified, request.uri)
        if not self.memory.first_use(client_id, verified["jti"], int(verified["exp"] - time.time()) + LEEWAY):
            _refuse("client_assertion was used before: its jti is spent (RFC 7523 section 3).")
        return client

    def _keys(self, row, kid: str | None):
        """The client's keys (``client_keys.keys_of``)."""
        try:
            return client_keys.keys_of(row, self.fetcher, kid)
        except (FetchRefused, Invalid) as error:
            _refuse(f"The client's keys cannot be read: {error}")

    def _verified(self, assertion: str, row, algorithms) -> dict:
        try:
            kid = jws.extract_compact(assertion.encode("ascii")).protected.get("kid")
        except (JoseError, ValueError, UnicodeError):
            kid = None
        keys = self._keys(row, kid if isinstance(kid, str) else None)
        try:
            token = jwt.decode(assertion, keys, algorithms=list(algorithms))
        except (JoseError, ValueError) as error:
            _refuse(f"client_assertion's signature is not by one of the client's keys with an allowed "
                    f"algorithm ({', '.join(algorithms)}): {type(error).__name__}.")
        return token.claims

    def _check_claims(self, claims: dict, endpoint_uri: str) -> None:
        audience = claims.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if not (self.audiences | {endpoint_uri}) & {a for a in audiences if isinstance(a, str)}:
            _refuse("client_assertion's aud must name this issuer or its token endpoint (RFC 7523 section 3).")
        now = time.time()
        exp = claims.get("exp")
        if not _numeric_date(exp):
            _refuse("client_assertion must have an exp (RFC 7523 section 3).")
        if exp <= now - LEEWAY:
            _refuse("client_assertion has expired.")
        if exp > now + MAX_LIFETIME + LEEWAY:
            _refuse(f"client_assertion must expire within {MAX_LIFETIME} seconds.")
        for name in ("iat", "nbf"):
            value = claims.get(name)
            if value is not None and (not _numeric_date(value) or value > now + LEEWAY):
                _refuse(f"client_assertion's {name} is in the future.")
        jti = claims.get("jti")
        if not isinstance(jti, str) or not jti or len(jti) > 256:
            _refuse("client_assertion must have a jti (RFC 7523 section 3).")
