"""Client registrations: by ``client_id``, by row id, by secret hash, all of them, a page of them; deletion; what a
disabled client was in the middle of (its codes, device codes and pushed requests) forgotten."""

from __future__ import annotations

from typing import Protocol

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from authgate.storage.models import AuthorizationCode, Client, DeviceCode, PushedAuthorizationRequest
from authgate.storage.repositories.listing import PageQuery, page_of


class ClientStore(Protocol):
    def add(self, s: Session, client: Client) -> None: ...
    def all(self, s: Session) -> list[Client]:
        """Every client, in registration order."""
    def by_id(self, s: Session, id: int) -> Client | None:
        """The client by its row id (what tokens and codes refer to)."""
    def by_client_id(self, s: Session, client_id: str) -> Client | None: ...
    def by_secret_hash(self, s: Session, secret_hash: str) -> Client | None: ...
    def delete_by_client_id(self, s: Session, client_id: str) -> bool:
        """Delete the client (its codes and tokens go with it); whether there was one."""
    def page(self, s: Session, query: PageQuery) -> tuple[list[Client], int]: ...
    def forget_pending(self, s: Session, client_pk: int) -> None:
        """Delete the client's authorization codes, device codes and pushed authorization requests."""


class SqlClientStore:
    def add(self, s: Session, client: Client) -> None:
        s.add(client)
        s.flush()

    def all(self, s: Session) -> list[Client]:
        return list(s.scalars(select(Client).order_by(Client.id)))

    def by_id(self, s: Session, id: int) -> Client | None:
        return s.get(Client, id)

    def by_client_id(self, s: Session, client_id: str) -> Client | None:
        return s.scalar(select(Client).where(Client.client_id == client_id))

    def by_secret_hash(self, s: Session, secret_hash: str) -> Client | None:
        return s.scalar(select(Client).where(Client.secret_hash == secret_hash))

    def delete_by_client_id(self, s: Session, client_id: str) -> bool:
        return bool(s.execute(delete(Client).where(Client.client_id == client_id)).rowcount)

    def forget_pending(self, s: Session, client_pk: int) -> None:
        for table in (AuthorizationCode, DeviceCode, PushedAuthorizationRequest):
            s.execute(delete(table).where(table.client_id == client_pk))

    def page(self, s: Session, query: PageQuery) -> tuple[list[Client], int]:
        return page_of(s, select(Client), query, search=(Client.name, Client.client_id))
