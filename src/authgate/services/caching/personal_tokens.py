"""Personal access tokens as the bearer check reads them: ``PersonalTokenView`` by the token's HMAC, for
``PAT_TTL`` seconds at most, dropped at once when a ``pat`` event says the token was revoked.

Uses are noted here too (``used``) and written to the database by the background thread (``flush``),
at most once a minute per token, never by the request.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from authgate.services.caching.bounded import Bounded
from authgate.services.caching.bus import InvalidationBus
from authgate.services.caching.events import PAT
from authgate.storage.db import Database
from authgate.storage.models import PersonalAccessToken
from authgate.storage.repositories.personal_tokens import PersonalTokenStore

PAT_TTL = 30.0
LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class PersonalTokenView:
    id: int
    token_hash: str
    user_id: int
    scopes: tuple[str, ...]
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None

    @classmethod
    def of(cls, row: PersonalAccessToken) -> "PersonalTokenView":
        return cls(row.id, row.token_hash, row.user_id, tuple(row.scopes or ()), row.expires_at, row.revoked_at,
                   row.last_used_at)


class PersonalTokenCache:
    def __init__(self, bus: InvalidationBus, db: Database, store: PersonalTokenStore):
        self.bus = bus
        self.db = db
        self.store = store
        self._tokens = Bounded()
        self._hash_of: dict[int, str] = {}
        self._last_used: dict[int, datetime] = {}
        self._unwritten: dict[int, datetime] = {}
        bus.on(PAT, self._revoked)

    def cached(self, token_hash: str) -> PersonalTokenView | None:
        """From memory only (the caller checks ``bus.fresh()``)."""
        entry = self._tokens.get(token_hash)
        if entry is None or time.monotonic() - entry[1] > PAT_TTL:
            return None
        return entry[0]

    def remember(self, token: PersonalTokenView, generation: int) -> None:
        def store() -> None:
            self._tokens.put(token.token_hash, (token, time.monotonic()))
            self._hash_of[token.id] = token.token_hash
        self.bus.remember(generation, store)

    def used(self, token: PersonalTokenView, when: datetime) -> None:
        """Note a use; stored by ``flush`` when the last one stored is older than ``LAST_USED_RESOLUTION``."""
        last = self._last_used.get(token.id, token.last_used_at)
        if last is None or when - last > LAST_USED_RESOLUTION:
            self._last_used[token.id] = when
            self._unwritten[token.id] = when

    def flush(self) -> None:
        """Write the uses noted since the last flush (the background thread, and once at stop)."""
        uses, self._unwritten = self._unwritten, {}
        if uses:
            with self.db.session() as s:
                self.store.record_last_used(s, uses)

    def _revoked(self, subject: str) -> None:
        if subject.isdigit():
            token_hash = self._hash_of.pop(int(subject), None)
            if token_hash:
                self._tokens.drop(token_hash)
