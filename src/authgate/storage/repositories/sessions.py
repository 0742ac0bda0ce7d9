"""Browser sign-in sessions, found by the keyed hash of the session id."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from authgate.storage.models import User, WebSession


class SessionStore(Protocol):
    def add(self, s: Session, session_hash: str, user_id: int, expires_at: datetime, amr: str | None = None) -> None:
        """A new session; ``amr``: how the user signed in (RFC 8176 names, space-separated)."""

    def with_user(self, s: Session, session_hash: str) -> tuple[WebSession, User] | None:
        """The session and its user (one query), ended or not."""

    def end(self, s: Session, session_hash: str, now: datetime) -> None: ...

    def end_all(self, s: Session, user_id: int, now: datetime, keep_hash: str | None = None) -> None:
        """End every open session of the user but the one hashed ``keep_hash``."""


class SqlSessionStore:
    def add(self, s: Session, session_hash: str, user_id: int, expires_at: datetime, amr: str | None = None) -> None:
        s.add(WebSession(session_hash=session_hash, user_id=user_id, expires_at=expires_at, amr=amr))

    def with_user(self, s: Session, session_hash: str) -> tuple[WebSession, User] | None:
        found = s.execute(
            select(WebSession, User).join(User, User.id == WebSession.user_id).where(WebSession.session_hash == session_hash)
        ).first()
        return (found[0], found[1]) if found else None

    def end(self, s: Session, session_hash: str, now: datetime) -> None:
        s.execute(update(WebSession).where(WebSession.session_hash == session_hash).values(ended_at=now))

    def end_all(self, s: Session, user_id: int, now: datetime, keep_hash: str | None = None) -> None:
        query = update(WebSession).where(WebSession.user_id == user_id, WebSession.ended_at.is_(None))
        if keep_hash:
            query = query.where(WebSession.session_hash != keep_hash)
        s.execute(query.values(ended_at=now))
