"""The engine and the unit of work: one transaction per ``Database.session()`` block.

SQLite allows one writer at a time, and a transaction that read before it writes fails at once
(not after the busy timeout) if another writer committed in between. So on SQLite a transaction
that will write starts with ``BEGIN IMMEDIATE`` and waits its turn; reads start a plain ``BEGIN``.
Within one process the writers also queue on a lock before ``BEGIN IMMEDIATE``: SQLite's own busy
handler waits by sleeping (1 ms, then longer, up to 100 ms a try), which under load left the lock
free while dozens of threads slept, and put the token endpoint's p99 near a second. Between
processes (``serve --workers N``) the busy timeout still arbitrates.

On PostgreSQL, where each commit is a round trip and a WAL flush, the deferred inserts of concurrent token
requests share one transaction and one commit (``storage/group_commit.py``).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from authgate.storage.group_commit import GroupCommit
from authgate.storage.prepared_inserts import Deferred, defer

SQLITE_BUSY_TIMEOUT_S = 30
SQLITE_READERS = 40
"""As many connections as the thread pool has threads (anyio's default), so no request waits for one."""


def _sqlite_engine(url: str, begin: str, pool_size: int) -> Engine:
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_S},
                           pool_size=pool_size, max_overflow=SQLITE_READERS)

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    def _begin(dbapi_connection) -> None:
        """The dialect's own begin, on the driver's connection: SQLAlchemy wraps what it raises, and no
        execution context is built for a statement that has no result (the ``begin`` event's recipe builds one)."""
        dbapi_connection.execute(begin)

    engine.dialect.do_begin = _begin
    return engine


BURST_CONNECTIONS = 20


LOST_TO_A_CONCURRENT_WRITE = ("40P01", "40001")
"""PostgreSQL's ``deadlock_detected`` and ``serialization_failure``: the transaction was rolled back whole, so
running it again is safe and is what the database asks for."""


def lost_to_a_concurrent_write(error: Exception) -> bool:
    """Whether ``error`` (a SQLAlchemy ``OperationalError``) ended a transaction that may simply be run again."""
    return getattr(getattr(error, "orig", None), "sqlstate", None) in LOST_TO_A_CONCURRENT_WRITE


class Database:
    def __init__(self, url: str, pool_size: int = 10):
        """``pool_size``: PostgreSQL connections kept open per process; up to ``BURST_CONNECTIONS`` more
        are opened for bursts and closed after use."""
        self.url = url
        if url.startswith("sqlite"):
            path = url.split("///", 1)[-1]
            if path and path != ":memory:":
                os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
            self.engine = _sqlite_engine(url, "BEGIN", pool_size=SQLITE_READERS)
            self._write_engine = _sqlite_engine(url, "BEGIN IMMEDIATE", pool_size=2)
            self._writer_turn = threading.Lock()
            self._group = None
        else:
            self.engine = self._write_engine = create_engine(url, pool_pre_ping=True, pool_size=pool_size,
                                                                  max_overflow=BURST_CONNECTIONS)
            self._writer_turn = nullcontext()
            self._group = GroupCommit(self._write_transaction)
        self._read = sessionmaker(self.engine, expire_on_commit=False)
        self._write = sessionmaker(self._write_engine, expire_on_commit=False)

    @contextmanager
    def session(self, write: bool = True) -> Iterator[Session]:
        """A transaction, committed when the block ends and rolled back if it raises.

        ``write=False`` for blocks that only read (on SQLite they then do not queue for the lock).
        """
        if not write:
            with self._read() as session, session.begin():
                yield session
            return
        with self._writer_turn, self._write() as session, session.begin():
            yield session

    @staticmethod
    def defer_inserts(s: Session) -> Deferred:
        """Hold back the prepared inserts made through ``s`` from now on (``prepared_inserts.defer``)."""
        return defer(s)

    def write_deferred(self, deferred: Deferred) -> None:
        """Write the inserts a session held back, on a plain connection (no ORM session to set up for rows
        that are only appended). On PostgreSQL the transaction is shared with those of the requests that
        arrived while the previous one committed (``storage/group_commit.py``); on SQLite, whose commit
        is no round trip, each has its own (group commit measured no gain there: ``docs/performance.md``).
        Committed when it returns; raises what refused these rows (a guard's exception, a driver error),
        whatever happened to the others."""
        if not deferred:
            return
        if self._group is not None:
            self._group.write(deferred)
            return
        with self._write_transaction() as connection:
            deferred.execute(connection)

    @contextmanager
    def _write_transaction(self) -> Iterator:
        with self._writer_turn, self._write_engine.begin() as connection:
            yield connection

    def listen(self, name: str, fn) -> None:
        """A session event (``after_commit``, ``before_flush``, ...) on every session this database makes."""
        for maker in (self._read, self._write):
            event.listen(maker, name, fn)

    def ping(self) -> None:
        """One round trip to the database (readiness); raises when it cannot be reached."""
        with self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    def dispose(self) -> None:
        self.engine.dispose()
        self._write_engine.dispose()
