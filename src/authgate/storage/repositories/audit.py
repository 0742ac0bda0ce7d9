"""The audit log's rows: appended one at a time, read a page at a time."""

from __future__ import annotations

from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from authgate.storage.models import AuditEvent
from authgate.storage.repositories.listing import PageQuery, page_of
from authgate.storage.prepared_inserts import PreparedInsert

NEW_EVENT = PreparedInsert(AuditEvent.__table__)


class AuditStore(Protocol):
    def append(self, s: Session, row: dict) -> None:
        """Add one event; ``row`` holds the columns of ``audit_events`` but its id and time."""
    def page(self, s: Session, query: PageQuery) -> tuple[list[AuditEvent], int]: ...


class SqlAuditStore:
    def append(self, s: Session, row: dict) -> None:
        NEW_EVENT.run(s, [row])

    def page(self, s: Session, query: PageQuery) -> tuple[list[AuditEvent], int]:
        return page_of(s, select(AuditEvent), query,
                       search=(AuditEvent.event, AuditEvent.subject, AuditEvent.ip, AuditEvent.client_id))
