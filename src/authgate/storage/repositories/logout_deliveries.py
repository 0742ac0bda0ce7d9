"""The queue of Back-Channel Logout tokens to post, and which clients a user's sessions signed in to."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from authgate.storage.models import Client, LogoutDelivery, TokenFamily


class LogoutDeliveryStore(Protocol):
    def clients_of_sessions(self, s: Session, session_ids: list[int]) -> list[tuple[int, int]]:
        """``(client pk, session id)`` for each client with a ``backchannel_logout_uri``, not disabled, that got tokens
        through one of these sessions."""

    def clients_of_user(self, s: Session, user_id: int) -> list[tuple[int, bool]]:
        """``(client pk, backchannel_logout_session_required)`` for each client with a ``backchannel_logout_uri``,
        not disabled, that ever got tokens for the user."""

    def add(self, s: Session, rows: list[dict]) -> None:
        """Queue deliveries (``client_id``, ``user_id``, ``session_id``, ``jti``, ``next_attempt_at``)."""

    def claim_due(self, s: Session, now: datetime, lease_until: datetime,
                  limit: int) -> list[tuple[LogoutDelivery, Client]]:
        """Up to ``limit`` deliveries due at ``now`` with their clients, each taken by this caller alone (its next
        attempt moved to ``lease_until``, so another worker leaves it while this one posts it)."""

    def done(self, s: Session, delivery_id: int) -> None:
        """Delivered, or given up: gone from the queue."""

    def again_at(self, s: Session, delivery_id: int, attempts: int, when: datetime) -> None: ...


class SqlLogoutDeliveryStore:
    def clients_of_sessions(self, s: Session, session_ids: list[int]) -> list[tuple[int, int]]:
        if not session_ids:
            return []
        rows = s.execute(select(TokenFamily.client_id, TokenFamily.session_id).distinct()
                         .join(Client, Client.id == TokenFamily.client_id)
                         .where(TokenFamily.session_id.in_(session_ids), Client.backchannel_logout_uri.is_not(None),
                                Client.disabled_at.is_(None)))
        return [(client, session) for client, session in rows]

    def clients_of_user(self, s: Session, user_id: int) -> list[tuple[int, bool]]:
        rows = s.execute(select(Client.id, Client.backchannel_logout_session_required).distinct()
                         .join(TokenFamily, TokenFamily.client_id == Client.id)
                         .where(TokenFamily.user_id == user_id, Client.backchannel_logout_uri.is_not(None),
                                Client.disabled_at.is_(None)))
        return [(client, bool(required)) for client, required in rows]

    def add(self, s: Session, rows: list[dict]) -> None:
        s.add_all(LogoutDelivery(**row) for row in rows)

    def claim_due(self, s: Session, now: datetime, lease_until: datetime,
                  limit: int) -> list[tuple[LogoutDelivery, Client]]:
        due = s.execute(select(LogoutDelivery.id, LogoutDelivery.next_attempt_at)
                        .where(LogoutDelivery.next_attempt_at <= now)
                        .order_by(LogoutDelivery.next_attempt_at).limit(limit)).all()
        claimed = [row_id for row_id, when in due
                   if s.execute(update(LogoutDelivery).where(LogoutDelivery.id == row_id,
                                                             LogoutDelivery.next_attempt_at == when)
                                .values(next_attempt_at=lease_until)).rowcount == 1]
        if not claimed:
            return []
        found = s.execute(select(LogoutDelivery, Client).join(Client, Client.id == LogoutDelivery.client_id)
                          .where(LogoutDelivery.id.in_(claimed)).order_by(LogoutDelivery.id))
        return [(delivery, client) for delivery, client in found]

    def done(self, s: Session, delivery_id: int) -> None:
        s.execute(delete(LogoutDelivery).where(LogoutDelivery.id == delivery_id))

    def again_at(self, s: Session, delivery_id: int, attempts: int, when: datetime) -> None:
        s.execute(update(LogoutDelivery).where(LogoutDelivery.id == delivery_id)
                  .values(attempts=attempts, next_attempt_at=when))
