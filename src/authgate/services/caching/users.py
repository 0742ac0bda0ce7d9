"""Users as the bearer check and the refresh grant read them: ``UserView`` in memory, for ``USER_TTL``
seconds at most, dropped at once when a ``user`` event says the user changed."""

from __future__ import annotations

import time

from sqlalchemy.orm import Session

from authgate.services.accounts.people.principal import UserView
from authgate.services.caching.bounded import Bounded
from authgate.services.caching.bus import InvalidationBus
from authgate.services.caching.events import USER
from authgate.storage.repositories.users import UserStore

USER_TTL = 60.0


class UserCache:
    def __init__(self, bus: InvalidationBus, store: UserStore):
        self.bus = bus
        self.store = store
        self._users = Bounded()
        bus.on(USER, self._changed)

    def cached(self, user_id: int) -> UserView | None:
        """From memory only (the caller checks ``bus.fresh()``)."""
        entry = self._users.get(user_id)
        if entry is None or time.monotonic() - entry[1] > USER_TTL:
            return None
        return entry[0]

    def remember(self, user: UserView, generation: int) -> None:
        self.bus.remember(generation, lambda: self._users.put(user.id, (user, time.monotonic())))

    def read(self, s: Session, user_id: int) -> UserView | None:
        """The user as ``s`` reads it now, remembered for the next request (unless an event raced the read)."""
        generation = self.bus.generation()
        row = self.store.by_id(s, user_id)
        if row is None:
            return None
        user = UserView.of(row)
        self.remember(user, generation)
        return user

    def get(self, s: Session, user_id: int) -> UserView | None:
        """From memory while the bus is fresh; otherwise read through ``s``."""
        cached = self.cached(user_id) if self.bus.fresh() else None
        return cached if cached is not None else self.read(s, user_id)

    def _changed(self, subject: str) -> None:
        if subject.isdigit():
            self._users.drop(int(subject))
