"""What a verified access token says: who (``subject``), for which client, with which scopes, until when."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class AccessToken:
    subject: str
    client_id: str | None
    scopes: frozenset[str]
    expires_at: int | None
    audience: tuple[str, ...]
    claims: dict[str, Any] = field(default_factory=dict, compare=False)
    """Every claim of the JWT, or every member of the introspection answer."""

    @property
    def jkt(self) -> str | None:
        """The thumbprint of the DPoP key the token is bound to (``cnf.jkt``, RFC 9449 §6), or None."""
        cnf = self.claims.get("cnf")
        jkt = cnf.get("jkt") if isinstance(cnf, dict) else None
        return jkt if isinstance(jkt, str) and jkt else None

    def has(self, *scopes: str) -> bool:
        return set(scopes) <= self.scopes

    @classmethod
    def of(cls, claims: dict[str, Any]) -> "AccessToken":
        audience = claims.get("aud")
        audience = (audience,) if isinstance(audience, str) else tuple(audience or ())
        exp = claims.get("exp")
        return cls(subject=str(claims.get("sub", "")), client_id=claims.get("client_id"),
                   scopes=frozenset(str(claims.get("scope") or "").split()),
                   expires_at=int(exp) if isinstance(exp, (int, float)) else None, audience=audience,
                   claims=dict(claims))
