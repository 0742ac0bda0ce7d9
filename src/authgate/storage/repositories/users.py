"""Users: found by id, by username or by a sign-in identifier; paged lists; the password rehash."""

from __future__ import annotations

from typing import Protocol

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from authgate.storage.models import User
from authgate.storage.repositories.listing import PageQuery, page_of
from authgate.storage.types import utcnow


class UserStore(Protocol):
    def add(self, s: Session, user: User) -> None: ...
    def count(self, s: Session) -> int: ...
    def by_id(self, s: Session, user_id: int) -> User | None:
        """The user, deleted or not."""
    def by_username(self, s: Session, username: str) -> User | None:
        """The user (not deleted) with exactly this username."""
    def find_by_login_key(self, s: Session, key: str, limit: int) -> list[User]:
        """Users (not deleted) whose username or email has ``key`` as its identifier key, by id."""
    def find_for_sign_in(self, s: Session, login: str, key: str) -> User | None:
        """The user (not deleted) signing in as ``login``: with that exact username first, else the
        one whose email key is ``key``."""
    def identifier_taken(self, s: Session, key: str, except_id: int | None) -> bool:
        """Whether a user (deleted ones too) other than ``except_id`` has ``key`` as a username or email key.
        A writer asks this before it claims the key: until its transaction ends, every other writer asking
        waits (on PostgreSQL an advisory lock; SQLite writers already take turns), so two cannot both see a
        name free and both take it."""
    def replace_password_hash(self, s: Session, user_id: int, verified_hash: str, new_hash: str) -> bool:
        """Store ``new_hash`` if the user's hash is still ``verified_hash``; whether it was stored."""
    def page(self, s: Session, query: PageQuery, *, deleted: bool, status: str | None = None) -> tuple[list[User], int]:
        """Deleted users, or those not deleted, filtered by name or email (and ``status``, when given)."""


SEARCHED = (User.username, User.email, User.firstname, User.lastname)
IDENTIFIER_LOCK = 0x61757468676174  # "authgat": one PostgreSQL advisory lock for every claim of a name or email


class SqlUserStore:
    def add(self, s: Session, user: User) -> None:
        s.add(user)
        s.flush()

    def count(self, s: Session) -> int:
        return s.scalar(select(func.count(User.id))) or 0

    def by_id(self, s: Session, user_id: int) -> User | None:
        return s.get(User, user_id)

    def by_username(self, s: Session, username: str) -> User | None:
        return s.scalar(select(User).where(User.username == username, User.deleted_at.is_(None)))

    def find_by_login_key(self, s: Session, key: str, limit: int) -> list[User]:
        return list(s.scalars(select(User).where(
            or_(User.username_key == key, User.email_key == key), User.deleted_at.is_(None),
        ).order_by(User.id).limit(limit)))

    def find_for_sign_in(self, s: Session, login: str, key: str) -> User | None:
        return s.scalar(select(User).where(
            or_(User.username == login, User.email_key == key), User.deleted_at.is_(None),
        ).order_by((User.username == login).desc()).limit(1))

    def identifier_taken(self, s: Session, key: str, except_id: int | None) -> bool:
        if s.get_bind().dialect.name == "postgresql":
            s.execute(select(func.pg_advisory_xact_lock(IDENTIFIER_LOCK)))
        taken = select(User.id).where(or_(User.username_key == key, User.email_key == key))
        if except_id is not None:
            taken = taken.where(User.id != except_id)
        return s.scalar(taken.limit(1)) is not None

    def replace_password_hash(self, s: Session, user_id: int, verified_hash: str, new_hash: str) -> bool:
        stored = s.execute(update(User).where(User.id == user_id, User.password_hash == verified_hash)
                           .values(password_hash=new_hash, updated_at=utcnow()))
        return bool(stored.rowcount)

    def page(self, s: Session, query: PageQuery, *, deleted: bool, status: str | None = None) -> tuple[list[User], int]:
        stmt = select(User).where(User.deleted_at.is_not(None) if deleted else User.deleted_at.is_(None))
        if status is not None:
            stmt = stmt.where(User.status == status)
        return page_of(s, stmt, query, search=SEARCHED)
