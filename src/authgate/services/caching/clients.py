"""Clients as the protocol core reads them (``ClientView``, already frozen) for ``CLIENT_TTL`` seconds at
most, while the bus is fresh; dropped at once when a client changes, is disabled or is deleted.

An event's subject is cut to ``SUBJECT_LENGTH`` characters, and a metadata document's ``client_id`` (a URL)
may be longer: a subject of that length drops every client whose id begins with it."""

from __future__ import annotations

import time

from authgate.services.caching.bounded import Bounded
from authgate.services.caching.bus import InvalidationBus
from authgate.services.caching.events import CLIENT, CLIENT_CHANGED
from authgate.storage.repositories.events import SUBJECT_LENGTH

CLIENT_TTL = 60.0


class ClientCache:
    def __init__(self, bus: InvalidationBus):
        self.bus = bus
        self._views = Bounded()
        bus.on(CLIENT, self._drop)
        bus.on(CLIENT_CHANGED, self._drop)

    def _drop(self, subject: str) -> None:
        self._views.drop(subject)
        if len(subject) >= SUBJECT_LENGTH:
            with self._views.lock:
                longer = [k for k in self._views if k.startswith(subject)]
            for client_id in longer:
                self._views.drop(client_id)

    def cached(self, client_id: str):
        entry = self._views.get(client_id)
        if entry is None or time.monotonic() - entry[1] > CLIENT_TTL or not self.bus.fresh():
            return None
        return entry[0]

    def generation(self) -> int:
        return self.bus.generation()

    def remember(self, client_id: str, view, generation: int) -> None:
        self.bus.remember(generation, lambda: self._views.put(client_id, (view, time.monotonic())))
