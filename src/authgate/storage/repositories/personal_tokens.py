"""Personal access tokens: made, listed, found by id or by the hash of the token, revoked, touched."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Protocol

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from authgate.storage.models import PersonalAccessToken, User
from authgate.storage.repositories.listing import PageQuery, page_of
from authgate.storage.types import utcnow


class PersonalTokenStore(Protocol):
    def add(self, s: Session, token: PersonalAccessToken) -> None: ...
    def by_id(self, s: Session, token_id: int) -> PersonalAccessToken | None: ...
    def by_hash(self, s: Session, token_hash: str) -> PersonalAccessToken | None: ...
    def with_owner_by_hash(self, s: Session, token_hash: str) -> tuple[PersonalAccessToken, User] | None:
        """The token and its user, in one read (the bearer check)."""
    def of_user(self, s: Session, user_id: int) -> list[PersonalAccessToken]:
        """Every token of the user, revoked ones too, in creation order."""
    def live_page(self, s: Session, user_id: int, query: PageQuery) -> tuple[list[PersonalAccessToken], int]:
        """One page of the user's tokens that are not revoked (expired ones included)."""
    def revoke(self, s: Session, token_id: int, owner_id: int | None = None, *, only_live: bool = False) -> bool:
        """Mark the token revoked now (only if ``owner_id``'s, when given; only if not yet revoked, with
        ``only_live``); whether one was."""
    def revoke_all_of(self, s: Session, user_id: int) -> list[int]:
        """Revoke the user's tokens not yet revoked; their ids."""
    def record_last_used(self, s: Session, used: Mapping[int, datetime]) -> None:
        """Store when each token was last used."""


class SqlPersonalTokenStore:
    def add(self, s: Session, token: PersonalAccessToken) -> None:
        s.add(token)
        s.flush()

    def by_id(self, s: Session, token_id: int) -> PersonalAccessToken | None:
        return s.get(PersonalAccessToken, token_id)

    def by_hash(self, s: Session, token_hash: str) -> PersonalAccessToken | None:
        return s.scalar(select(PersonalAccessToken).where(PersonalAccessToken.token_hash == token_hash))

    def with_owner_by_hash(self, s: Session, token_hash: str) -> tuple[PersonalAccessToken, User] | None:
        found = s.execute(
            select(PersonalAccessToken, User).join(User, User.id == PersonalAccessToken.user_id)
            .where(PersonalAccessToken.token_hash == token_hash)
        ).first()
        return tuple(found) if found is not None else None

    def of_user(self, s: Session, user_id: int) -> list[PersonalAccessToken]:
        return list(s.scalars(
            select(PersonalAccessToken).where(PersonalAccessToken.user_id == user_id).order_by(PersonalAccessToken.id)))

    def live_page(self, s: Session, user_id: int, query: PageQuery) -> tuple[list[PersonalAccessToken], int]:
        stmt = select(PersonalAccessToken).where(
            PersonalAccessToken.user_id == user_id, PersonalAccessToken.revoked_at.is_(None))
        return page_of(s, stmt, query, search=(PersonalAccessToken.name,))

    def revoke(self, s: Session, token_id: int, owner_id: int | None = None, *, only_live: bool = False) -> bool:
        query = update(PersonalAccessToken).where(PersonalAccessToken.id == token_id)
        if owner_id is not None:
            query = query.where(PersonalAccessToken.user_id == owner_id)
        if only_live:
            query = query.where(PersonalAccessToken.revoked_at.is_(None))
        return bool(s.scalars(query.values(revoked_at=utcnow()).returning(PersonalAccessToken.id)).all())

    def revoke_all_of(self, s: Session, user_id: int) -> list[int]:
        return list(s.scalars(
            update(PersonalAccessToken)
            .where(PersonalAccessToken.user_id == user_id, PersonalAccessToken.revoked_at.is_(None))
            .values(revoked_at=utcnow())
            .returning(PersonalAccessToken.id)
        ).all())

    def record_last_used(self, s: Session, used: Mapping[int, datetime]) -> None:
        for token_id, when in used.items():
            s.execute(update(PersonalAccessToken).where(PersonalAccessToken.id == token_id).values(last_used_at=when))
