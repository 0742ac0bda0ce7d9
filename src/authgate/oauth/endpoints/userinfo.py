"""Claims about the user (OpenID Connect Core 1.0 §5.1, §5.4): which scope releases which claim."""

from __future__ import annotations

from authgate.storage.models import User

ID_TOKEN_CLAIMS = ["iss", "sub", "aud", "exp", "iat", "auth_time", "acr", "amr", "nonce", "at_hash"]

SCOPE_CLAIMS = {
    "openid": ["sub"],
    "profile": ["name", "given_name", "family_name", "preferred_username", "updated_at"],
    "email": ["email", "email_verified"],
}


def email_claims(user) -> dict:
    """``email`` and ``email_verified`` (§5.1): true only once the address's owner opened its verification link."""
    return {"email": user.email, "email_verified": user.email_verified_at is not None}


def user_claims(user: User, scopes) -> dict:
    """The UserInfo response for a token with ``scopes``."""
    values = {
        "sub": str(user.id),
        "name": " ".join(part for part in (user.firstname, user.lastname) if part) or user.username,
        "given_name": user.firstname or None,
        "family_name": user.lastname or None,
        "preferred_username": user.username,
        "updated_at": int(user.updated_at.timestamp()),
        **email_claims(user),
    }
    released = [claim for scope in scopes for claim in SCOPE_CLAIMS.get(scope, ())]
    return {claim: values[claim] for claim in dict.fromkeys(["sub"] + released) if values[claim] is not None}
