"""Remembered consent: which scopes a user has let a client have, so the consent page is shown once.

A request is covered when every scope it asks for was approved before for that client (asking for
less is covered too). ``prompt=consent`` still shows the page; revoking the application forgets it.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from authgate.services.operations import audit
from authgate.storage.repositories.consents import ConsentStore


class ConsentService:
    def __init__(self, store: ConsentStore):
        self.store = store

    def covers(self, s: Session, user_id: int, client_pk: int, scopes: list[str]) -> bool:
        row = self.store.get(s, user_id, client_pk)
        return row is not None and set(scopes) <= set(row.scopes)

    def remember(self, s: Session, user_id: int, client_pk: int, scopes: list[str]) -> None:
        """Insert first (a first approval is the common case: one statement), widen an existing one otherwise
        (approved before, or a moment earlier in another tab)."""
        if self.store.insert(s, user_id, client_pk, list(dict.fromkeys(scopes))):
            return
        row = self.store.get(s, user_id, client_pk)
        if not set(scopes) <= set(row.scopes):
            self.store.widen(s, row, list(dict.fromkeys([*row.scopes, *scopes])))

    def record_answer(self, s: Session, user_id: int, client_id: str, approved: bool, scope: str | None) -> None:
        """Audit the user's answer to an authorization request (given, or by remembered consent)."""
        audit.record(s, "consent.granted" if approved else "consent.denied", user_id=user_id, client_id=client_id,
                     details={"scope": scope})

    def forget(self, s: Session, user_id: int, client_pk: int) -> bool:
        """Forget the user's consent for the client; True when there was one."""
        return self.store.delete(s, user_id, client_pk)
