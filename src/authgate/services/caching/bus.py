"""The invalidation bus: one per process, shared by every cache (issue 8, split out in issue 13).

Every change that a cache must hear of is an event (``events.py``) written to the event log
(``storage/repositories/events.py``) in the transaction that makes the change. The bus delivers each
event once to the listeners of its kind (``on(kind, callback)``), in whichever process it was recorded,
three ways:

- at start it loads the events of the last access-token lifetime (``load``); only listeners that asked
  for the history (``replay=True``: revoked ``jti``s, deleted clients) hear those, so an old ``unlock``
  is not replayed;
- ``sync`` (every ``AUTHGATE_REVOCATION_POLL_SECONDS`` on the background thread) reads the events of
  the last ``OVERLAP`` seconds: overlapping windows, de-duplicated by id, so a transaction that commits
  late is still seen;
- after a commit the events are applied in this process at once and, with ``AUTHGATE_REDIS_URL``,
  published on a Redis channel that every worker of every instance listens to (``listen``).

A changed user or client row is an event too, whatever code changed it (``before_flush``).

Caches answer only while the bus is ``fresh`` (a sync succeeded within ``STALE_AFTER`` seconds);
otherwise their callers ask the database, so a worker cut off from the database never accepts a
revoked token on old information. A cache that fills itself from the database takes ``generation()``
before the read and stores through ``remember``: an event that arrived in between (the value read
may be older than it) cancels the store.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy.orm import Session

from authgate.services.caching.events import CLIENT_CHANGED, QUEUED, USER
from authgate.storage.db import Database
from authgate.storage.models import Client, User
from authgate.storage.repositories.events import EventStore
from authgate.storage.types import utcnow

log = logging.getLogger("authgate.revocations")

OVERLAP = 30.0
STALE_AFTER = 3.0
COMMITTED = "authgate.events.committed"

Event = tuple[str, str]


class InvalidationBus:
    def __init__(self, db: Database, store: EventStore, access_token_ttl: int,
                 redis_url: str | None = None, redis_prefix: str = "authgate:"):
        self.db = db
        self.store = store
        self.horizon = float(access_token_ttl) + OVERLAP
        """How long an event stays relevant: an access token revoked longer ago has expired anyway."""
        self.channel = redis_prefix + "revocations"
        self._redis_url = redis_url
        self._redis = None
        self._lock = threading.Lock()
        self._seen: dict[int, float] = {}
        self._synced_at = 0.0
        self._generation = 0
        self._listeners: dict[str, list[tuple[Callable[[str], None], bool]]] = {}
        db.listen("before_flush", self._row_changes)
        db.listen("before_commit", self._write_queued)
        db.listen("after_commit", self._committed)
        db.listen("after_rollback", self._rolled_back)

    # -- for the caches ----------------------------------------------------------------------------

    def fresh(self) -> bool:
        return time.monotonic() - self._synced_at < STALE_AFTER

    def generation(self) -> int:
        """Take before reading what a cache will ``remember``."""
        return self._generation

    def remember(self, generation: int, store: Callable[[], None]) -> None:
        """Run ``store()`` unless an event arrived since ``generation`` was taken."""
        with self._lock:
            if generation == self._generation:
                store()

    def on(self, kind: str, callback: Callable[[str], None], replay: bool = False) -> None:
        """Call ``callback(subject)`` for every new event of ``kind``; ``replay``: also for those of the
        last access-token lifetime found at start."""
        self._listeners.setdefault(kind, []).append((callback, replay))

    def apply(self, events: list[Event], history: bool = False) -> None:
        with self._lock:
            self._generation += 1
        for kind, subject in events:
            for callback, replay in self._listeners.get(kind, ()):
                if replay or not history:
                    callback(subject)

    # -- the database's side: what a transaction recorded ----------------------------------------------

    @staticmethod
    def _row_changes(session: Session, _context, _instances) -> None:
        """A changed user (status, deletion, rights) or client (secret, grants, redirect URIs, scopes)
        is reloaded by every worker's cache."""
        for obj in session.dirty:
            if isinstance(obj, User) and obj.id is not None and session.is_modified(obj):
                event = (USER, str(obj.id))
            elif isinstance(obj, Client) and obj.client_id and session.is_modified(obj):
                event = (CLIENT_CHANGED, obj.client_id)
            else:
                continue
            session.info.setdefault(QUEUED, []).append(event)

    def _write_queued(self, session: Session) -> None:
        if session.in_nested_transaction():
            return  # a savepoint: the outer transaction writes them
        session.flush()
        events = session.info.pop(QUEUED, None)
        if events:
            self.store.record(session, events)
            session.info.setdefault(COMMITTED, []).extend(events)

    def _committed(self, session: Session) -> None:
        events = session.info.pop(COMMITTED, None)
        if events:
            self.apply(events)
            self._publish(events)

    @staticmethod
    def _rolled_back(session: Session) -> None:
        session.info.pop(QUEUED, None)
        session.info.pop(COMMITTED, None)

    # -- the event log -------------------------------------------------------------------------------

    def load(self) -> None:
        """Everything still relevant: the events of the last access-token lifetime."""
        self.sync(self.horizon)

    def sync(self, seconds: float = OVERLAP) -> None:
        started = time.monotonic()
        with self.db.session(write=False) as s:
            rows = self.store.since(s, utcnow() - timedelta(seconds=seconds))
        new = [(kind, subject) for id_, kind, subject in rows if id_ not in self._seen]
        with self._lock:
            for id_, _, _ in rows:
                self._seen[id_] = started + self.horizon
            if len(self._seen) > 1000 and next(iter(self._seen.values())) < started:
                for key in [k for k, until in self._seen.items() if until < started]:
                    del self._seen[key]
        if new:
            self.apply(new, history=not self._synced_at)
        self._synced_at = started

    # -- Redis pub/sub -----------------------------------------------------------------------------

    @property
    def uses_redis(self) -> bool:
        return bool(self._redis_url)

    def _client(self):
        if self._redis is None and self._redis_url:
            import redis

            self._redis = redis.Redis.from_url(self._redis_url, socket_timeout=1, socket_connect_timeout=1)
        return self._redis

    def _publish(self, events: list[Event]) -> None:
        client = self._client()
        if client is None:
            return
        try:
            client.publish(self.channel, json.dumps(events))
        except Exception as error:  # the poll delivers it within a second anyway
            log.warning("could not publish revocations to redis (%s)", type(error).__name__)

    def listen(self, stop: threading.Event) -> None:
        """Apply what other processes publish, until ``stop`` is set (a background loop)."""
        import redis

        while not stop.is_set():
            try:
                pubsub = redis.Redis.from_url(self._redis_url, socket_connect_timeout=1).pubsub(
                    ignore_subscribe_messages=True)
                pubsub.subscribe(self.channel)
                while not stop.is_set():
                    message = pubsub.get_message(timeout=1.0)
                    if message and message.get("type") == "message":
                        self.apply([tuple(e) for e in json.loads(message["data"])])
            except Exception as error:
                log.warning("redis revocation channel unavailable (%s); polling only", type(error).__name__)
                stop.wait(2.0)
