"""The event log (``revocation_events``): what was revoked or changed, for the caches of every worker.

Rows are written in the transaction that makes the change and read back by time; the invalidation
bus (``services/caching/bus.py``) decides what they mean.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from authgate.storage.models import RevocationEvent
from authgate.storage.types import utcnow

SUBJECT_LENGTH = 128
"""A longer subject (a metadata document's URL as ``client_id``) is cut to this; its listeners match the prefix."""


class EventStore(Protocol):
    def record(self, s: Session, events: list[tuple[str, str]]) -> None:
        """Write ``(kind, subject)`` rows in ``s``'s transaction, stamped now, each subject cut to ``SUBJECT_LENGTH``."""

    def since(self, s: Session, when: datetime) -> list[tuple[int, str, str]]:
        """``(id, kind, subject)`` of every row written after ``when``."""


class SqlEventStore:
    def record(self, s: Session, events: list[tuple[str, str]]) -> None:
        now = utcnow()
        s.execute(insert(RevocationEvent), [{"kind": kind, "subject": subject[:SUBJECT_LENGTH], "created_at": now}
                                            for kind, subject in events])

    def since(self, s: Session, when: datetime) -> list[tuple[int, str, str]]:
        return [tuple(row) for row in s.execute(
            select(RevocationEvent.id, RevocationEvent.kind, RevocationEvent.subject)
            .where(RevocationEvent.created_at > when)
        )]
