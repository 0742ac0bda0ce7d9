"""Secrets shown once after a redirect (POST/redirect/GET): the POST that makes a token or a client secret
``keep``s what the page will show, and the page it redirects to ``take``s it back, once.

The server never holds the secret readable: the slot holds it sealed (AES-GCM) under a random key that is
handed to the browser alone (in an HttpOnly cookie, never in a URL), and the slot is bound to the sign-in
session, deleted on its first read, and dead after ``AUTHGATE_SHOWN_ONCE_SECONDS`` (then purged). A second GET, another session, or a copy
of the database finds nothing to show."""

from __future__ import annotations

import json
import secrets
from datetime import timedelta

from sqlalchemy.orm import Session

from authgate.security.sealing import seal, unseal
from authgate.security.secrets import SecretHasher
from authgate.storage.repositories.shown_once import ShownOnceStore
from authgate.storage.types import utcnow


class ShownOnce:
    def __init__(self, hasher: SecretHasher, store: ShownOnceStore, seconds: int):
        """``seconds``: how long a slot waits for its page."""
        self.hasher = hasher
        self.store = store
        self.seconds = seconds

    def keep(self, s: Session, session_id: str, view: dict) -> str:
        """Keep ``view`` (JSON-able) for the session's next page; returns the handle for the browser."""
        key = secrets.token_urlsafe(32)
        now = utcnow()
        slot = self.store.put(s, self._binding(session_id), seal(key, json.dumps(view).encode()),
                              now + timedelta(seconds=self.seconds), now)
        return f"{slot}.{key}"

    def take(self, s: Session, session_id: str, handle: str | None) -> dict | None:
        """What was kept under ``handle`` by this session, once; None ever after (or for anyone else)."""
        slot, _, key = (handle or "").partition(".")
        if not slot.isdigit() or len(slot) > 18 or not key:
            return None
        sealed = self.store.find(s, int(slot), self._binding(session_id), utcnow())
        opened = unseal(key, sealed) if sealed is not None else None
        if opened is None or not self.store.delete(s, int(slot)):
            return None
        return json.loads(opened)

    def _binding(self, session_id: str) -> str:
        return self.hasher.hash("shown-once:" + session_id)
