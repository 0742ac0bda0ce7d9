"""Clients as the protocol core reads them (``ClientView``, already frozen) for ``CLIENT_TTL`` seconds at
most, while the bus is fresh; dropped at once when a client changes or is deleted."""

from __future__ import annotations

import time

from authgate.services.caching.bounded import Bounded
from authgate.services.caching.bus import InvalidationBus
from authgate.services.caching.events import CLIENT, CLIENT_CHANGED

CLIENT_TTL = 60.0


class ClientCache:
    def __init__(self, bus: InvalidationBus):
        self.bus = bus
        self._views = Bounded()
        bus.on(CLIENT, self._views.drop)
        bus.on(CLIENT_CHANGED, self._views.drop)

    def cached(self, client_id: str):
        entry = self._views.get(client_id)
        if entry is None or time.monotonic() - entry[1] > CLIENT_TTL or not self.bus.fresh():
            return None
        return entry[0]

    def generation(self) -> int:
        return self.bus.generation()

    def remember(self, client_id: str, view, generation: int) -> None:
        self.bus.remember(generation, lambda: self._views.put(client_id, (view, time.monotonic())))
