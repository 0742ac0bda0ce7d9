"""What was revoked, known in every worker without a database trip per request (issue 8).

Every revocation writes a row to ``revocation_events`` in the same transaction as the revocation
itself (``record``). Each worker keeps an in-process view of those events, kept coherent three ways:

- at start it loads the events of the last access-token lifetime (revoked ``jti``s, deleted clients);
- a background thread polls the events of the last ``OVERLAP`` seconds every
  ``AUTHGATE_REVOCATION_POLL_SECONDS`` (one indexed query; overlapping windows, de-duplicated by id,
  so a transaction that commits late is still seen);
- after a commit, the events are applied in this process at once and, with ``AUTHGATE_REDIS_URL``,
  published on a Redis channel that every worker of every instance listens to.

Other in-process state that a command must reach uses the same log: ``on(kind, callback)`` calls
back for each new event of that kind (``unlock``: the login guard's counters of an account).

The bearer check trusts the cache only while it is fresh (a poll succeeded within ``STALE_AFTER``
seconds); otherwise it asks the database, so a worker cut off from the database never accepts a
revoked token on old information. The caches of users, personal access tokens and clients (as the
token endpoint reads them) live here too: they are invalidated by the same events.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import OrderedDict
from datetime import timedelta

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from authgate.storage.db import Database
from authgate.storage.models import Client, PersonalAccessToken, RevocationEvent, User
from authgate.storage.types import utcnow

log = logging.getLogger("authgate.revocations")

JTI, CLIENT, USER, PAT, KEYS = "jti", "client", "user", "pat", "keys"
UNLOCK = "unlock"
CLIENT_CHANGED = "client.changed"
PENDING = "authgate.revocations"
OVERLAP = 30.0
STALE_AFTER = 3.0
USER_TTL = 60.0
PAT_TTL = 30.0
CLIENT_TTL = 60.0
CACHE_SIZE = 50_000
BACKGROUND_THREAD = "authgate-background"


def record(s: Session, kind: str, subjects) -> None:
    """Log revocations of ``kind`` in the caller's transaction; applied everywhere once it commits."""
    rows = [{"kind": kind, "subject": str(subject)[:128], "created_at": utcnow()} for subject in subjects]
    if not rows:
        return
    s.execute(insert(RevocationEvent), rows)
    s.info.setdefault(PENDING, []).extend((kind, row["subject"]) for row in rows)


class _Bounded(OrderedDict):
    """A dict that forgets its oldest entries beyond ``size``."""

    def __init__(self, size: int):
        super().__init__()
        self.size = size
        self.lock = threading.Lock()

    def put(self, key, value) -> None:
        with self.lock:
            self[key] = value
            if len(self) > self.size:
                self.popitem(last=False)


class Revocations:
    def __init__(self, db: Database, keys, access_token_ttl: int, poll_seconds: float,
                 redis_url: str | None = None, redis_prefix: str = "authgate:"):
        self.db = db
        self.keys = keys
        self.horizon = float(access_token_ttl) + OVERLAP
        self.poll_seconds = poll_seconds
        self.channel = redis_prefix + "revocations"
        self._redis_url = redis_url
        self._redis = None
        self._lock = threading.Lock()
        self._jtis: dict[str, float] = {}
        self._clients: dict[str, float] = {}
        self._seen: dict[int, float] = {}
        self._users: _Bounded = _Bounded(CACHE_SIZE)
        self._pats: _Bounded = _Bounded(CACHE_SIZE)
        self._pat_hash: dict[int, str] = {}
        self._client_views: _Bounded = _Bounded(CACHE_SIZE)
        self._touches: dict[int, object] = {}
        self._synced_at = 0.0
        self._generation = 0
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._tasks: list[tuple[float, float, object]] = []
        self._listeners: dict[str, list] = {}
        keys.trust_cache = self.fresh
        db.listen("after_commit", self._committed)
        db.listen("after_rollback", lambda session: session.info.pop(PENDING, None))
        db.listen("before_flush", self._row_changes)

    # -- the hot path: plain dictionary reads ---------------------------------------------------------

    def fresh(self) -> bool:
        return time.monotonic() - self._synced_at < STALE_AFTER

    def jti_revoked(self, jti: str) -> bool:
        return jti in self._jtis

    def client_deleted(self, client_id: str) -> bool:
        return client_id in self._clients

    def cached_user(self, user_id: int) -> User | None:
        entry = self._users.get(user_id)
        if entry is None or time.monotonic() - entry[1] > USER_TTL:
            return None
        return entry[0]

    def generation(self) -> int:
        """Take before reading a user or PAT from the database, and pass to ``remember_*``."""
        return self._generation

    def remember_user(self, user: User, generation: int) -> None:
        """Cache ``user`` unless an event arrived since it was read (it might be out of date)."""
        with self._lock:
            if generation == self._generation:
                self._users.put(user.id, (user, time.monotonic()))

    def read_user(self, s: Session, user_id: int) -> User | None:
        """The user as ``s`` reads it now, remembered for the next request (unless an event raced the read)."""
        generation = self._generation
        user = s.get(User, user_id)
        if user is not None:
            self.remember_user(user, generation)
        return user

    def user(self, s: Session, user_id: int) -> User | None:
        """The user from memory while the cache is in sync; otherwise read through ``s`` (``read_user``)."""
        cached = self.cached_user(user_id) if self.fresh() else None
        return cached if cached is not None else self.read_user(s, user_id)

    def cached_pat(self, token_hash: str) -> PersonalAccessToken | None:
        entry = self._pats.get(token_hash)
        if entry is None or time.monotonic() - entry[1] > PAT_TTL:
            return None
        return entry[0]

    def remember_pat(self, row: PersonalAccessToken, generation: int) -> None:
        with self._lock:
            if generation == self._generation:
                self._pats.put(row.token_hash, (row, time.monotonic()))
                self._pat_hash[row.id] = row.token_hash

    def cached_client(self, client_id: str):
        entry = self._client_views.get(client_id)
        if entry is None or time.monotonic() - entry[1] > CLIENT_TTL or not self.fresh():
            return None
        return entry[0]

    def remember_client(self, client_id: str, view, generation: int) -> None:
        with self._lock:
            if generation == self._generation:
                self._client_views.put(client_id, (view, time.monotonic()))

    def touch_pat(self, token_id: int, when) -> None:
        """Note a use of a personal access token; written by the background thread, not by the request."""
        self._touches[token_id] = when

    # -- applying events ---------------------------------------------------------------------------

    def on(self, kind: str, callback) -> None:
        """Call ``callback(subject)`` for every new event of ``kind``, in whichever process it was recorded."""
        self._listeners.setdefault(kind, []).append(callback)

    def apply(self, events) -> None:
        reload_keys = False
        heard = [(kind, subject) for kind, subject in events if kind in self._listeners]
        now = time.monotonic()
        with self._lock:
            self._generation += 1
            for kind, subject in events:
                if kind == JTI:
                    self._jtis[subject] = now + self.horizon
                elif kind == CLIENT:
                    self._clients[subject] = now + self.horizon
                    self._client_views.pop(subject, None)
                elif kind == CLIENT_CHANGED:
                    self._client_views.pop(subject, None)
                elif kind == USER:
                    self._users.pop(int(subject), None) if subject.isdigit() else None
                elif kind == PAT and subject.isdigit():
                    token_hash = self._pat_hash.pop(int(subject), None)
                    if token_hash:
                        self._pats.pop(token_hash, None)
                elif kind == KEYS:
                    reload_keys = True
        if reload_keys:
            self.keys.forget()
        for kind, subject in heard:
            for callback in self._listeners[kind]:
                callback(subject)

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
            session.add(RevocationEvent(kind=event[0], subject=event[1], created_at=utcnow()))
            session.info.setdefault(PENDING, []).append(event)

    def _committed(self, session: Session) -> None:
        events = session.info.pop(PENDING, None)
        if events:
            self.apply(events)
            self._publish(events)

    def _rows_since(self, seconds: float) -> list[tuple[int, str, str]]:
        since = utcnow() - timedelta(seconds=seconds)
        with self.db.session(write=False) as s:
            return list(s.execute(
                select(RevocationEvent.id, RevocationEvent.kind, RevocationEvent.subject)
                .where(RevocationEvent.created_at > since)
            ))

    def load(self) -> None:
        """Everything still relevant: revocations of the last access-token lifetime."""
        self.sync(self.horizon)

    def sync(self, seconds: float = OVERLAP) -> None:
        started = time.monotonic()
        rows = self._rows_since(seconds)
        new = [(kind, subject) for id_, kind, subject in rows if id_ not in self._seen]
        with self._lock:
            for id_, _, _ in rows:
                self._seen[id_] = started + self.horizon
            for table in (self._jtis, self._clients, self._seen):
                if len(table) > 1000 and next(iter(table.values())) < started:
                    for key in [k for k, until in table.items() if until < started]:
                        del table[key]
        if new and self._synced_at:
            self.apply(new)
        elif new:
            self.apply([e for e in new if e[0] in (JTI, CLIENT)])
        self._synced_at = started

    # -- Redis pub/sub -----------------------------------------------------------------------------

    def _client(self):
        if self._redis is None and self._redis_url:
            import redis

            self._redis = redis.Redis.from_url(self._redis_url, socket_timeout=1, socket_connect_timeout=1)
        return self._redis

    def _publish(self, events) -> None:
        client = self._client()
        if client is None:
            return
        try:
            client.publish(self.channel, json.dumps(events))
        except Exception as error:  # the poll delivers it within a second anyway
            log.warning("could not publish revocations to redis (%s)", type(error).__name__)

    def _listen(self) -> None:
        import redis

        while not self._stop.is_set():
            try:
                pubsub = redis.Redis.from_url(self._redis_url, socket_connect_timeout=1).pubsub(
                    ignore_subscribe_messages=True)
                pubsub.subscribe(self.channel)
                while not self._stop.is_set():
                    message = pubsub.get_message(timeout=1.0)
                    if message and message.get("type") == "message":
                        self.apply([tuple(e) for e in json.loads(message["data"])])
            except Exception as error:
                log.warning("redis revocation channel unavailable (%s); polling only", type(error).__name__)
                self._stop.wait(2.0)

    # -- the background thread ---------------------------------------------------------------------

    def every(self, seconds: float, task, first_after: float | None = None) -> None:
        """Run ``task()`` every ``seconds`` on the background thread (after ``start``), the first time
        after ``first_after`` seconds (default: ``seconds``)."""
        self._tasks.append([seconds, time.monotonic() + (seconds if first_after is None else first_after), task])

    def _flush_touches(self) -> None:
        touches, self._touches = self._touches, {}
        if touches:
            with self.db.session() as s:
                for token_id, when in touches.items():
                    s.execute(update(PersonalAccessToken).where(PersonalAccessToken.id == token_id)
                              .values(last_used_at=when))

    def _run(self) -> None:
        while not self._stop.wait(self.poll_seconds):
            for step in (self.sync, self._flush_touches):
                try:
                    step()
                except Exception as error:
                    log.warning("revocation sync failed (%s); the bearer check asks the database meanwhile",
                                type(error).__name__)
            now = time.monotonic()
            for task in self._tasks:
                if now >= task[1]:
                    task[1] = now + task[0]
                    try:
                        task[2]()
                    except Exception as error:
                        log.warning("periodic task failed (%s)", type(error).__name__)

    def start(self) -> None:
        if self._threads:
            return
        try:
            self.load()
        except Exception as error:
            log.warning("revocations not loaded at start (%s); retrying in the background", type(error).__name__)
        targets = [self._run] + ([self._listen] if self._redis_url else [])
        for n, target in enumerate(targets):
            thread = threading.Thread(target=target, name=f"{BACKGROUND_THREAD}-{n}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads = []
        try:
            self._flush_touches()
        except Exception:
            pass
