"""Resource servers (RFC 8707): by id, by identifier, the built-in one, a page of them; deletion."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from authgate.storage.models import ResourceServer
from authgate.storage.repositories.listing import PageQuery, page_of


class ResourceStore(Protocol):
    def add(self, s: Session, row: ResourceServer) -> None: ...
    def by_id(self, s: Session, id: int) -> ResourceServer | None: ...
    def by_identifier(self, s: Session, identifier: str) -> ResourceServer | None: ...
    def by_identifiers(self, s: Session, identifiers: Sequence[str]) -> list[ResourceServer]:
        """Those of ``identifiers`` that are registered (one query), in no particular order."""
    def builtin(self, s: Session) -> ResourceServer | None:
        """authgate's own API."""
    def all(self, s: Session) -> list[ResourceServer]:
        """Every resource server, by id."""
    def delete(self, s: Session, id: int) -> bool: ...
    def page(self, s: Session, query: PageQuery) -> tuple[list[ResourceServer], int]: ...


class SqlResourceStore:
    def add(self, s: Session, row: ResourceServer) -> None:
        s.add(row)
        s.flush()

    def by_id(self, s: Session, id: int) -> ResourceServer | None:
        return s.get(ResourceServer, id)

    def by_identifier(self, s: Session, identifier: str) -> ResourceServer | None:
        return s.scalar(select(ResourceServer).where(ResourceServer.identifier == identifier))

    def by_identifiers(self, s: Session, identifiers: Sequence[str]) -> list[ResourceServer]:
        return list(s.scalars(select(ResourceServer).where(ResourceServer.identifier.in_(list(identifiers)))))

    def builtin(self, s: Session) -> ResourceServer | None:
        return s.scalar(select(ResourceServer).where(ResourceServer.builtin.is_(True)).order_by(ResourceServer.id))

    def all(self, s: Session) -> list[ResourceServer]:
        return list(s.scalars(select(ResourceServer).order_by(ResourceServer.id)))

    def delete(self, s: Session, id: int) -> bool:
        return bool(s.execute(delete(ResourceServer).where(ResourceServer.id == id)).rowcount)

    def page(self, s: Session, query: PageQuery) -> tuple[list[ResourceServer], int]:
        return page_of(s, select(ResourceServer), query, search=(ResourceServer.name, ResourceServer.identifier))
