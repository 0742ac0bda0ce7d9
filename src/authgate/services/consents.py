"""Remembered consent: which scopes a user has let a client have, so the consent page is shown once.

A request is covered when every scope it asks for was approved before for that client (asking for
less is covered too). ``prompt=consent`` still shows the page; revoking the application forgets it.
"""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from authgate.storage.models import Consent


class ConsentService:
    def covers(self, s: Session, user_id: int, client_pk: int, scopes: list[str]) -> bool:
        row = self._row(s, user_id, client_pk)
        return row is not None and set(scopes) <= set(row.scopes)

    def remember(self, s: Session, user_id: int, client_pk: int, scopes: list[str]) -> None:
        """Insert first (a first approval is the common case: one statement), widen an existing one otherwise."""
        try:
            with s.begin_nested():
                s.add(Consent(user_id=user_id, client_id=client_pk, scopes=list(dict.fromkeys(scopes))))
            return
        except IntegrityError:  # approved before (or a moment earlier in another tab)
            row = self._row(s, user_id, client_pk)
        if not set(scopes) <= set(row.scopes):
            row.scopes = list(dict.fromkeys([*row.scopes, *scopes]))
        s.flush()

    def forget(self, s: Session, user_id: int, client_pk: int) -> bool:
        """Forget the user's consent for the client; True when there was one."""
        return s.execute(delete(Consent).where(Consent.user_id == user_id, Consent.client_id == client_pk)).rowcount > 0

    @staticmethod
    def _row(s: Session, user_id: int, client_pk: int) -> Consent | None:
        return s.scalar(select(Consent).where(Consent.user_id == user_id, Consent.client_id == client_pk))
