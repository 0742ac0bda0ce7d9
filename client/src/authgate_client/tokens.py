"""``TokenSet``: what a token endpoint answered (RFC 6749 §5.1), with the moment it expires."""

from __future__ import annotations

import base64
import json
import time
from dataclasses import asdict, dataclass, field
from typing import Any

PERSONAL_ACCESS_TOKEN = "personal_access_token"


@dataclass
class TokenSet:
    access_token: str
    grant: str
    token_type: str = "Bearer"
    refresh_token: str | None = None
    expires_at: float | None = None
    obtained_at: float = field(default_factory=time.time)
    scope: str | None = None
    id_token: str | None = None
    dpop_jwk: dict[str, Any] | None = field(default=None, repr=False)
    """The DPoP key (private JWK) the tokens are bound to (``token_type`` DPoP, RFC 9449), kept with them."""

    @classmethod
    def from_response(cls, body: dict[str, Any], grant: str, previous: "TokenSet | None" = None) -> "TokenSet":
        now = time.time()
        expires_in = body.get("expires_in")
        refresh_token = body.get("refresh_token") or (previous.refresh_token if previous else None)
        return cls(
            access_token=str(body["access_token"]),
            grant=previous.grant if previous else grant,
            token_type=str(body.get("token_type") or "Bearer"),
            refresh_token=refresh_token,
            expires_at=now + float(expires_in) if isinstance(expires_in, (int, float)) else None,
            obtained_at=now,
            scope=body.get("scope") or (previous.scope if previous else None),
            id_token=body.get("id_token"),
            dpop_jwk=previous.dpop_jwk if previous else None,
        )

    @classmethod
    def personal(cls, token: str) -> "TokenSet":
        return cls(access_token=token, grant=PERSONAL_ACCESS_TOKEN)

    @property
    def lifetime(self) -> float | None:
        return None if self.expires_at is None else self.expires_at - self.obtained_at

    @property
    def dpop_bound(self) -> bool:
        return self.token_type.lower() == "dpop"

    def expires_within(self, seconds: float) -> bool:
        return self.expires_at is not None and self.expires_at - time.time() <= seconds

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "TokenSet":
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        return cls(**known)

    def claims(self) -> dict[str, Any]:
        """The access token's JWT claims, unverified: only to name the cache entry, never to trust."""
        return unverified_claims(self.access_token)

    def __repr__(self) -> str:
        return f"TokenSet(grant={self.grant!r}, scope={self.scope!r}, expires_at={self.expires_at!r})"


def unverified_claims(token: str) -> dict[str, Any]:
    parts = token.split(".")
    if len(parts) != 3:
        return {}
    try:
        payload = base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4))
        claims = json.loads(payload)
    except (ValueError, TypeError):
        return {}
    return claims if isinstance(claims, dict) else {}
