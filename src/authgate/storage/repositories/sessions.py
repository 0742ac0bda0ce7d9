"""Browser sign-in sessions, found by the keyed hash of the session id, and a user's live sessions by record id."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Protocol

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from authgate.storage.models import User, WebSession
from authgate.storage.repositories.listing import PageQuery, page_of

SORT_COLUMNS = {"started_at": "auth_time"}


class SessionStore(Protocol):
    def add(self, s: Session, session_hash: str, user_id: int, expires_at: datetime, amr: str | None = None,
            *, now: datetime, user_agent: str | None = None, ip: str | None = None) -> None:
        """A new session; ``amr``: how the user signed in (RFC 8176 names, space-separated); ``now``: its start,
        which is also when it was last seen."""

    def with_user(self, s: Session, session_hash: str) -> tuple[WebSession, User] | None:
        """The session and its user (one query), ended or not."""

    def end(self, s: Session, session_hash: str, now: datetime) -> tuple[int, int] | None:
        """End the session if still open: its record id and user id, or None (unknown or ended already)."""

    def end_all(self, s: Session, user_id: int, now: datetime, keep_hash: str | None = None) -> list[int]:
        """End every open session of the user but the one hashed ``keep_hash``; the record ids it ended."""

    def live_page(self, s: Session, user_id: int, now: datetime, query: PageQuery) -> tuple[list[WebSession], int]:
        """One page of the user's sessions neither ended nor expired at ``now`` (searched by user agent and
        address; ``started_at`` sorts by ``auth_time``)."""

    def end_live(self, s: Session, user_id: int, record_id: int, now: datetime) -> bool:
        """End the user's session ``record_id`` if it is still live: whether this call ended it (a second call, or
        another user's record id, ends nothing)."""

    def record_last_seen(self, s: Session, seen: Mapping[int, datetime]) -> None:
        """Move each session's ``last_seen_at`` forward to the time given (never back)."""


def _live(user_id: int, now: datetime):
    return (WebSession.user_id == user_id, WebSession.ended_at.is_(None), WebSession.expires_at > now)


class SqlSessionStore:
    def add(self, s: Session, session_hash: str, user_id: int, expires_at: datetime, amr: str | None = None,
            *, now: datetime, user_agent: str | None = None, ip: str | None = None) -> None:
        s.add(WebSession(session_hash=session_hash, user_id=user_id, expires_at=expires_at, amr=amr,
                         user_agent=user_agent, ip=ip, auth_time=now, last_seen_at=now))

    def with_user(self, s: Session, session_hash: str) -> tuple[WebSession, User] | None:
        found = s.execute(
            select(WebSession, User).join(User, User.id == WebSession.user_id).where(WebSession.session_hash == session_hash)
        ).first()
        return (found[0], found[1]) if found else None

    def end(self, s: Session, session_hash: str, now: datetime) -> tuple[int, int] | None:
        ended = s.execute(update(WebSession).where(WebSession.session_hash == session_hash,
                                                   WebSession.ended_at.is_(None))
                          .values(ended_at=now).returning(WebSession.id, WebSession.user_id)).first()
        return (ended[0], ended[1]) if ended else None

    def end_all(self, s: Session, user_id: int, now: datetime, keep_hash: str | None = None) -> list[int]:
        query = update(WebSession).where(WebSession.user_id == user_id, WebSession.ended_at.is_(None))
        if keep_hash:
            query = query.where(WebSession.session_hash != keep_hash)
        return list(s.scalars(query.values(ended_at=now).returning(WebSession.id)))

    def live_page(self, s: Session, user_id: int, now: datetime, query: PageQuery) -> tuple[list[WebSession], int]:
        return page_of(s, select(WebSession).where(*_live(user_id, now)), query,
                       search=(WebSession.user_agent, WebSession.ip), columns=SORT_COLUMNS)

    def end_live(self, s: Session, user_id: int, record_id: int, now: datetime) -> bool:
        ended = s.execute(update(WebSession).where(WebSession.id == record_id, *_live(user_id, now))
                          .values(ended_at=now).returning(WebSession.id)).first()
        return ended is not None

    def record_last_seen(self, s: Session, seen: Mapping[int, datetime]) -> None:
        for record_id, when in seen.items():
            s.execute(update(WebSession).where(
                WebSession.id == record_id, or_(WebSession.last_seen_at.is_(None), WebSession.last_seen_at < when))
                .values(last_seen_at=when))
