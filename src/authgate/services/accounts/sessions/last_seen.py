"""When each browser session was last seen, kept cheap: a page request only notes the time in memory, at most
once a minute per session, and the background thread writes what was noted in one transaction (``flush``).

A page request therefore never writes for this (on SQLite every write queues on one lock); what is lost when a
process dies is a minute of "last seen" at most. Each worker notes its own; the store only moves a time forward.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

from authgate.storage.db import Database
from authgate.storage.repositories.sessions import SessionStore

RESOLUTION = timedelta(minutes=1)


class LastSeen:
    def __init__(self, db: Database, store: SessionStore):
        self.db = db
        self.store = store
        self._lock = threading.Lock()
        self._noted: dict[int, datetime] = {}
        self._unwritten: dict[int, datetime] = {}

    def seen(self, record_id: int, stored: datetime | None, now: datetime) -> None:
        """Note a request of session ``record_id`` (``stored``: its ``last_seen_at`` as read), if the time last
        noted or stored is older than ``RESOLUTION``."""
        with self._lock:
            last = max(filter(None, (self._noted.get(record_id), stored)), default=None)
            if last is None or now - last >= RESOLUTION:
                self._noted[record_id] = now
                self._unwritten[record_id] = now

    def flush(self) -> None:
        """Write the times noted since the last flush (the background thread, and once at stop)."""
        with self._lock:
            noted, self._unwritten = self._unwritten, {}
            if len(self._noted) > 10_000:
                self._noted = dict(noted)
        if noted:
            with self.db.session() as s:
                self.store.record_last_seen(s, noted)
