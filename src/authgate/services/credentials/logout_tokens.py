"""Logout Tokens (OpenID Back-Channel Logout 1.0 §2.4): a JWT signed like ID tokens, with header ``typ``
``logout+jwt`` (§2.4, so it cannot pass for an ID token), saying that the user ``sub`` — in the session ``sid``
when one is named, else in all their sessions — signed out. It carries ``iss``, ``aud`` (the client), ``iat``,
a short ``exp``, a ``jti`` and the ``events`` member, and never a ``nonce`` (§2.4)."""

from __future__ import annotations

import time

from joserfc import jwt

BACKCHANNEL_LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout"
TYPE = "logout+jwt"
LIFETIME = 120
"""Seconds a logout token is good for: it is posted at once, and a relying party may refuse it later."""


def logout_claims(issuer: str, client_id: str, sub: str, sid: str | None, jti: str) -> dict:
    now = int(time.time())
    claims = {"iss": issuer, "aud": client_id, "iat": now, "exp": now + LIFETIME, "jti": jti,
              "events": {BACKCHANNEL_LOGOUT_EVENT: {}}, "sub": sub}
    if sid:
        claims["sid"] = sid
    return claims


def sign_logout_token(key, claims: dict) -> str:
    """``key``: the ID token signing key (``KeyService.id_token_key``)."""
    return jwt.encode({"alg": key.alg, "kid": key.kid, "typ": TYPE}, claims, key, algorithms=[key.alg])
