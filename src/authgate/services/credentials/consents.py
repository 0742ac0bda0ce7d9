"""Remembered consent: which scopes a user has let a client have, so the consent page is shown once.

A request is covered when every scope it asks for was approved before for that client (asking for
less is covered too). ``prompt=consent`` still shows the page; revoking the application forgets it. A client
whose redirect URIs, name or displayed URLs (``identity``: what users approved it as) change — by itself (RFC 7592
registration, a Client ID Metadata Document) or by an administrator — is forgotten by everyone (``client_changed``):
a consent given to one client must not carry codes to new addresses or vouch for a new face (RFC 9700 4.1, 4.7).

The consent page carries the ``fingerprint`` of the identity it showed, and an approval counts only while the
client still is what the page showed (``still_as_shown``, under a lock on the client row until the answer is
committed): a client that changes while the page is open, or while the answer is being written, is shown again
rather than approved, so no consent given to the old face outlives ``client_changed``.
"""

from __future__ import annotations

import hashlib
import json

from sqlalchemy.orm import Session

from authgate.services.operations import audit
from authgate.storage.models import Client
from authgate.storage.repositories.consents import ConsentStore

SHOWN_METADATA = ("client_uri", "logo_uri", "tos_uri", "policy_uri")


def identity(client: Client) -> tuple:
    """What a user approved the client as: where its codes go, and the name and URLs it shows."""
    return _identity(client.name, client.redirect_uris, client.registration_metadata)


def _identity(name, redirect_uris, metadata) -> tuple:
    shown = metadata or {}
    return (name, tuple(sorted(redirect_uris or ())), tuple((key, shown.get(key)) for key in SHOWN_METADATA))


def _fingerprint(shown: tuple) -> str:
    return hashlib.sha256(json.dumps(shown, default=str).encode()).hexdigest()[:32]


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

    def fingerprint(self, s: Session, client_pk: int) -> str:
        """The client's ``identity`` as committed, as a short text for the consent page to send back with the
        user's answer."""
        current = self.store.client_identity(s, client_pk)
        return _fingerprint(_identity(*current)) if current is not None else ""

    def still_as_shown(self, s: Session, client_pk: int, shown: str | None) -> bool:
        """Whether the client is still what the consent page showed (``shown``: its ``fingerprint``), read from the
        row locked until this transaction ends, so a change of the client waits for the answer (and then forgets
        it), or the answer sees the change."""
        current = self.store.client_identity(s, client_pk, lock=True)
        return current is not None and bool(shown) and _fingerprint(_identity(*current)) == shown

    def record_answer(self, s: Session, user_id: int, client_id: str, approved: bool, scope: str | None) -> None:
        """Audit the user's answer to an authorization request (given, or by remembered consent)."""
        audit.record(s, "consent.granted" if approved else "consent.denied", user_id=user_id, client_id=client_id,
                     details={"scope": scope})

    def forget(self, s: Session, user_id: int, client_pk: int) -> bool:
        """Forget the user's consent for the client; True when there was one."""
        return self.store.delete(s, user_id, client_pk)

    def client_changed(self, s: Session, client: Client, before: tuple) -> int:
        """After a client changed (itself, by RFC 7592 or its metadata document, or by an administrator): when its
        ``identity`` is no longer ``before``, forget every user's consent for it (recorded in the audit log); how
        many were forgotten."""
        if identity(client) == before:
            return 0
        forgotten = self.store.delete_for_client(s, client.id)
        if forgotten:
            audit.record(s, "consent.forgotten", client_id=client.client_id, subject=client.client_id,
                         details={"consents": forgotten, "reason": "client identity changed"})
        return forgotten
