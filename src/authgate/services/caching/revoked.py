"""Revoked access tokens (by ``jti``) and deleted clients, known in every worker for an access-token lifetime.

Both come from the history too (``replay``): a worker that starts knows what was revoked before it.
"""

from __future__ import annotations

import time

from authgate.services.caching.bus import InvalidationBus
from authgate.services.caching.events import CLIENT, JTI
from authgate.storage.repositories.events import SUBJECT_LENGTH

SWEEP_ABOVE = 1000


class RevokedCache:
    def __init__(self, bus: InvalidationBus):
        self.horizon = bus.horizon
        self._jtis: dict[str, float] = {}
        self._clients: dict[str, float] = {}
        bus.on(JTI, lambda jti: self._add(self._jtis, jti), replay=True)
        bus.on(CLIENT, lambda client_id: self._add(self._clients, client_id), replay=True)

    def jti_revoked(self, jti: str) -> bool:
        return jti in self._jtis

    def client_deleted(self, client_id: str) -> bool:
        """Also for a ``client_id`` longer than an event's subject (a metadata document's URL), which is cut."""
        return client_id[:SUBJECT_LENGTH] in self._clients

    def _add(self, table: dict[str, float], subject: str) -> None:
        now = time.monotonic()
        if len(table) > SWEEP_ABOVE and next(iter(table.values())) < now:
            for key in [k for k, until in list(table.items()) if until < now]:
                table.pop(key, None)
        table[subject] = now + self.horizon
