"""Housekeeping: delete what can never be used again, in small batches (``authgate tokens purge``).

Each batch is its own short transaction of at most ``batch_size`` rows (``storage/repositories/purge.py``
says what is dead, kind by kind), so traffic never waits long behind a purge.
"""

from __future__ import annotations

from datetime import timedelta

from authgate.services.caching.bus import OVERLAP
from authgate.settings import Settings
from authgate.storage.db import Database
from authgate.storage.repositories.purge import PurgeStore
from authgate.storage.types import utcnow

DEFAULT_BATCH = 1000


class Purge:
    def __init__(self, settings: Settings, db: Database, store: PurgeStore):
        self.settings = settings
        self.db = db
        self.store = store

    def run(self, batch_size: int = DEFAULT_BATCH) -> dict[str, int]:
        """Rows deleted per kind."""
        now = utcnow()
        events_before = now - timedelta(seconds=self.settings.access_token_ttl + 2 * OVERLAP)
        counts = {}
        for kind in self.store.kinds:
            counts[kind] = 0
            while True:
                with self.db.session() as s:
                    deleted = self.store.delete_batch(s, kind, batch_size, now, events_before)
                counts[kind] += deleted
                if deleted < batch_size:
                    break
        return counts
