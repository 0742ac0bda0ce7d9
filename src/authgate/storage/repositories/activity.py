"""What happened, for the administrators' pages: last sign-ins, the server's counts, and the security log read
by user, client, event and time; and for a user, their own latest events. Reads only."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Protocol

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from authgate.storage.models import AccessToken, AuditEvent, Client, PersonalAccessToken, User
from authgate.storage.repositories.listing import PageQuery, page_of


class ActivityStore(Protocol):
    def last_events(self, s: Session, event: str, user_ids: Iterable[int]) -> dict[int, datetime]:
        """When ``event`` last happened to each of ``user_ids`` (absent: never)."""

    def counts(self, s: Session, now: datetime) -> dict[str, int]:
        """Users (not deleted), clients, live access tokens and live personal access tokens at ``now``."""

    def events_since(self, s: Session, events: Iterable[str], since: datetime) -> int:
        """How many of ``events`` happened from ``since`` on."""

    def latest(self, s: Session, limit: int) -> list[AuditEvent]:
        """The newest events, newest first."""

    def log_page(self, s: Session, query: PageQuery, *, user_id: int | None, username: str | None,
                 client_id: str | None, event: str | None, since: datetime | None,
                 before: datetime | None) -> tuple[list[AuditEvent], int]:
        """A page of the security log; a client matches as the actor or as the event's subject."""

    def usernames(self, s: Session, user_ids: Iterable[int]) -> dict[int, str]:
        """The usernames of ``user_ids``, deleted users included."""

    def latest_of_user(self, s: Session, user_id: int, leaving_out: Iterable[str], limit: int) -> list[AuditEvent]:
        """The user's newest events but those named in ``leaving_out``, newest first."""


SORT_COLUMNS = {"occurred_at": "id"}


class SqlActivityStore:
    def last_events(self, s: Session, event: str, user_ids: Iterable[int]) -> dict[int, datetime]:
        ids = list(user_ids)
        if not ids:
            return {}
        return dict(s.execute(select(AuditEvent.user_id, func.max(AuditEvent.occurred_at))
                              .where(AuditEvent.event == event, AuditEvent.user_id.in_(ids))
                              .group_by(AuditEvent.user_id)).all())

    def counts(self, s: Session, now: datetime) -> dict[str, int]:
        def count(stmt) -> int:
            return s.scalar(stmt) or 0

        return {
            "users": count(select(func.count(User.id)).where(User.deleted_at.is_(None))),
            "clients": count(select(func.count(Client.id))),
            "access_tokens": count(select(func.count(AccessToken.jti))
                                   .where(AccessToken.revoked_at.is_(None), AccessToken.expires_at > now)),
            "personal_tokens": count(select(func.count(PersonalAccessToken.id)).where(
                PersonalAccessToken.revoked_at.is_(None),
                or_(PersonalAccessToken.expires_at.is_(None), PersonalAccessToken.expires_at > now))),
        }

    def events_since(self, s: Session, events: Iterable[str], since: datetime) -> int:
        return s.scalar(select(func.count(AuditEvent.id))
                        .where(AuditEvent.occurred_at >= since, AuditEvent.event.in_(list(events)))) or 0

    def latest(self, s: Session, limit: int) -> list[AuditEvent]:
        return list(s.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)))

    def log_page(self, s: Session, query: PageQuery, *, user_id: int | None, username: str | None,
                 client_id: str | None, event: str | None, since: datetime | None,
                 before: datetime | None) -> tuple[list[AuditEvent], int]:
        stmt = select(AuditEvent)
        if user_id is not None:
            stmt = stmt.where(AuditEvent.user_id == user_id)
        if username is not None:
            stmt = stmt.where(AuditEvent.user_id.in_(select(User.id).where(User.username == username)))
        if client_id is not None:
            stmt = stmt.where(or_(AuditEvent.client_id == client_id, AuditEvent.subject == client_id))
        if event is not None:
            stmt = stmt.where(AuditEvent.event == event)
        if since is not None:
            stmt = stmt.where(AuditEvent.occurred_at >= since)
        if before is not None:
            stmt = stmt.where(AuditEvent.occurred_at < before)
        return page_of(s, stmt, query, search=(), columns=SORT_COLUMNS)

    def usernames(self, s: Session, user_ids: Iterable[int]) -> dict[int, str]:
        ids = list(user_ids)
        if not ids:
            return {}
        return dict(s.execute(select(User.id, User.username).where(User.id.in_(ids))).all())

    def latest_of_user(self, s: Session, user_id: int, leaving_out: Iterable[str], limit: int) -> list[AuditEvent]:
        return list(s.scalars(select(AuditEvent).where(AuditEvent.user_id == user_id,
                                                       AuditEvent.event.not_in(list(leaving_out)))
                              .order_by(AuditEvent.id.desc()).limit(limit)))
