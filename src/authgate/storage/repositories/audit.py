"""The audit log's rows: appended one at a time, read a page at a time."""

from __future__ import annotations

from typing import Protocol

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from authgate.storage.models import AuditEvent
from authgate.storage.repositories.listing import PageQuery, page_of


class AuditStore(Protocol):
    def append(self, s: Session, row: dict) -> None:
        """Add one event; ``row`` holds the columns of ``audit_events`` but its id and time."""
    def page(self, s: Session, query: PageQuery) -> tuple[list[AuditEvent], int]: ...


class SqlAuditStore:
    def append(self, s: Session, row: dict) -> None:
        s.execute(insert(AuditEvent.__table__), row)

    def page(self, s: Session, query: PageQuery) -> tuple[list[AuditEvent], int]:
        return page_of(s, select(AuditEvent), query,
                       search=(AuditEvent.event, AuditEvent.subject, AuditEvent.ip, AuditEvent.client_id))
