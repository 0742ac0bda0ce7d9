"""Remembered consent: one row per user and client with the scopes approved."""

from __future__ import annotations

from typing import Protocol

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from authgate.storage.models import Client, Consent


class ConsentStore(Protocol):
    def get(self, s: Session, user_id: int, client_pk: int) -> Consent | None: ...

    def insert(self, s: Session, user_id: int, client_pk: int, scopes: list[str]) -> bool:
        """Insert a first consent (in a savepoint); False when one exists already (or was made a moment earlier)."""

    def widen(self, s: Session, row: Consent, scopes: list[str]) -> None: ...

    def delete(self, s: Session, user_id: int, client_pk: int) -> bool:
        """True when there was one."""

    def delete_for_client(self, s: Session, client_pk: int) -> int:
        """Every user's consent for the client; how many there were."""

    def client_identity(self, s: Session, client_pk: int, lock: bool = False) -> tuple | None:
        """The client's name, redirect URIs and registration metadata as committed (with ``lock``, the row locked,
        shared, until the transaction ends); None when it is gone."""


class SqlConsentStore:
    def get(self, s: Session, user_id: int, client_pk: int) -> Consent | None:
        return s.scalar(select(Consent).where(Consent.user_id == user_id, Consent.client_id == client_pk))

    def insert(self, s: Session, user_id: int, client_pk: int, scopes: list[str]) -> bool:
        try:
            with s.begin_nested():
                s.add(Consent(user_id=user_id, client_id=client_pk, scopes=scopes))
            return True
        except IntegrityError:
            return False

    def widen(self, s: Session, row: Consent, scopes: list[str]) -> None:
        row.scopes = scopes
        s.flush()

    def delete(self, s: Session, user_id: int, client_pk: int) -> bool:
        return s.execute(delete(Consent).where(Consent.user_id == user_id, Consent.client_id == client_pk)).rowcount > 0

    def delete_for_client(self, s: Session, client_pk: int) -> int:
        return s.execute(delete(Consent).where(Consent.client_id == client_pk),
                         execution_options={"synchronize_session": False}).rowcount

    def client_identity(self, s: Session, client_pk: int, lock: bool = False) -> tuple | None:
        query = select(Client.name, Client.redirect_uris, Client.registration_metadata).where(Client.id == client_pk)
        row = s.execute(query.with_for_update(read=True) if lock else query).first()
        return tuple(row) if row is not None else None
