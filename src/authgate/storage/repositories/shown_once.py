"""Slots for secrets shown once: put one, find it (only the session that put it), delete it."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from authgate.storage.models import ShownOnceSlot


class ShownOnceStore(Protocol):
    def put(self, s: Session, session_hash: str, sealed: str, expires_at: datetime, now: datetime) -> int:
        """A new slot's id; slots expired by ``now`` are dropped on the way."""

    def find(self, s: Session, slot_id: int, session_hash: str, now: datetime) -> str | None:
        """The sealed value of the session's slot; None when it is gone, expired or another session's."""

    def delete(self, s: Session, slot_id: int) -> bool:
        """Whether this call deleted the slot (False: a concurrent reader did first)."""


class SqlShownOnceStore:
    def put(self, s: Session, session_hash: str, sealed: str, expires_at: datetime, now: datetime) -> int:
        s.execute(delete(ShownOnceSlot).where(ShownOnceSlot.expires_at <= now))
        return s.execute(insert(ShownOnceSlot).values(session_hash=session_hash, sealed=sealed, expires_at=expires_at)
                         .returning(ShownOnceSlot.id)).scalar_one()

    def find(self, s: Session, slot_id: int, session_hash: str, now: datetime) -> str | None:
        return s.scalar(select(ShownOnceSlot.sealed).where(
            ShownOnceSlot.id == slot_id, ShownOnceSlot.session_hash == session_hash, ShownOnceSlot.expires_at > now))

    def delete(self, s: Session, slot_id: int) -> bool:
        return s.execute(delete(ShownOnceSlot).where(ShownOnceSlot.id == slot_id)).rowcount == 1
