"""Personal access tokens: long-lived opaque tokens a user makes for scripts, revocable at any time."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from authgate.security import secrets as gen
from authgate.security.secrets import SecretHasher
from authgate.services import scopes as scope_rules
from authgate.services.errors import Invalid, NotFound
from authgate.settings import Settings
from authgate.storage.models import PersonalAccessToken, User
from authgate.storage.types import utcnow


def public_view(token: PersonalAccessToken) -> dict:
    return {
        "id": token.id,
        "name": token.name,
        "scopes": list(token.scopes),
        "created_at": token.created_at.isoformat(),
        "expires_at": token.expires_at.isoformat() if token.expires_at else None,
        "last_used_at": token.last_used_at.isoformat() if token.last_used_at else None,
        "revoked": token.revoked_at is not None,
    }


class PersonalTokenService:
    def __init__(self, settings: Settings, hasher: SecretHasher):
        self.settings = settings
        self.hasher = hasher

    def create(
        self, s: Session, user: User, name: str, scopes: list[str] | None = None,
        expires_at: datetime | None = None,
    ) -> tuple[PersonalAccessToken, str]:
        """The new token's record and the token itself, shown this once."""
        name = (name or "").strip()
        if not name or len(name) > 255:
            raise Invalid("name must be 1 to 255 characters")
        scopes = list(dict.fromkeys(scopes or [scope_rules.ALL]))
        scope_rules.check_known(scopes)
        now = utcnow()
        expires_at = expires_at or now + timedelta(seconds=self.settings.personal_token_ttl)
        if expires_at <= now:
            raise Invalid("expiry must be in the future")
        token = gen.generate(gen.PERSONAL_TOKEN_PREFIX)
        row = PersonalAccessToken(
            token_hash=self.hasher.hash(token), user_id=user.id, name=name, scopes=scopes, expires_at=expires_at
        )
        s.add(row)
        s.flush()
        return row, token

    def list(self, s: Session, user: User) -> list[PersonalAccessToken]:
        return list(
            s.scalars(select(PersonalAccessToken).where(PersonalAccessToken.user_id == user.id).order_by(PersonalAccessToken.id))
        )

    def revoke(self, s: Session, token_id: int, user: User | None = None) -> None:
        """Revoke one token; with ``user``, only if it is theirs."""
        query = update(PersonalAccessToken).where(PersonalAccessToken.id == token_id)
        if user is not None:
            query = query.where(PersonalAccessToken.user_id == user.id)
        if s.execute(query.values(revoked_at=utcnow())).rowcount == 0:
            raise NotFound(f"no personal access token with id {token_id}")

    def touch(self, s: Session, token_id: int, when: datetime) -> None:
        s.execute(update(PersonalAccessToken).where(PersonalAccessToken.id == token_id).values(last_used_at=when))

    def find_live(self, s: Session, token: str) -> PersonalAccessToken | None:
        row = s.scalar(select(PersonalAccessToken).where(PersonalAccessToken.token_hash == self.hasher.hash(token)))
        if row is None or row.revoked_at is not None or (row.expires_at and row.expires_at <= utcnow()):
            return None
        return row
