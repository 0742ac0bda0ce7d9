"""Authorization codes (RFC 6749 §4.1.2): short-lived, single use, bound to client, redirect URI and PKCE."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from authgate.security.secrets import SecretHasher
from authgate.services import audit
from authgate.services.tokens import TokenService
from authgate.settings import Settings
from authgate.storage.models import AuthorizationCode, Client, User
from authgate.storage.types import utcnow


_codes = AuthorizationCode.__table__
# Built once, with bound parameters, so their compiled form is reused (the code exchange is a hot path).
CODE_WITH_USER = (select(AuthorizationCode, User).join(User, User.id == AuthorizationCode.user_id)
                  .where(AuthorizationCode.code_hash == bindparam("code_hash")))
CLAIM_CODE = (update(_codes).where(_codes.c.id == bindparam("row_id"), _codes.c.used_at.is_(None))
              .values(used_at=bindparam("now")))


class CodeService:
    def __init__(self, settings: Settings, hasher: SecretHasher, tokens: TokenService):
        self.settings = settings
        self.hasher = hasher
        self.tokens = tokens

    def create(
        self, s: Session, code: str, *, client: Client, user: User, redirect_uri: str, scope: str,
        code_challenge: str | None, code_challenge_method: str | None, nonce: str | None,
        auth_time: datetime | None = None,
    ) -> None:
        s.add(
            AuthorizationCode(
                code_hash=self.hasher.hash(code),
                client_id=client.id,
                user_id=user.id,
                redirect_uri=redirect_uri,
                scope=scope,
                code_challenge=code_challenge,
                code_challenge_method=code_challenge_method,
                nonce=nonce,
                auth_time=auth_time or utcnow(),
                expires_at=utcnow() + timedelta(seconds=self.settings.auth_code_ttl),
            )
        )

    def redeem(self, s: Session, code: str, client: Client) -> tuple[AuthorizationCode, User] | None:
        """The code's record, now marked used, and its user (one query for both); None if unknown,
        foreign, expired or already used.

        A second use revokes every token issued from the code (RFC 6749 §4.1.2, §10.5); the caller
        commits the transaction even though the request fails, so the revocation holds.
        """
        found = s.execute(CODE_WITH_USER, {"code_hash": self.hasher.hash(code)}).first()
        row = found[0] if found else None
        if row is None or row.client_id != client.id:
            return None
        claimed = s.execute(CLAIM_CODE, {"row_id": row.id, "now": utcnow()}).rowcount == 1
        if not claimed:
            self.tokens.revoke_families_of_code(s, row.id)
            audit.record(s, "code.replayed", user_id=row.user_id, client_id=client.client_id)
            return None
        if row.expires_at <= utcnow():
            return None
        return row, found[1]
