"""The engine and the unit of work: one transaction per ``Database.session()`` block.

SQLite allows one writer at a time, and a transaction that read before it writes fails at once
(not after the busy timeout) if another writer committed in between. So on SQLite a transaction
that will write starts with ``BEGIN IMMEDIATE`` and waits its turn; reads start a plain ``BEGIN``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

SQLITE_BUSY_TIMEOUT_S = 30


def _sqlite_engine(url: str, begin: str) -> Engine:
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_S})

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection) -> None:
        connection.exec_driver_sql(begin)

    return engine


class Database:
    def __init__(self, url: str):
        self.url = url
        if url.startswith("sqlite"):
            path = url.split("///", 1)[-1]
            if path and path != ":memory:":
                os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
            self.engine = _sqlite_engine(url, "BEGIN")
            self._write_engine = _sqlite_engine(url, "BEGIN IMMEDIATE")
        else:
            self.engine = self._write_engine = create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)
        self._read = sessionmaker(self.engine, expire_on_commit=False)
        self._write = sessionmaker(self._write_engine, expire_on_commit=False)

    @contextmanager
    def session(self, write: bool = True) -> Iterator[Session]:
        """A transaction, committed when the block ends and rolled back if it raises.

        ``write=False`` for blocks that only read (on SQLite they then do not queue for the lock).
        """
        with (self._write if write else self._read)() as session, session.begin():
            yield session

    def listen(self, name: str, fn) -> None:
        """A session event (``after_commit``, ``before_flush``, ...) on every session this database makes."""
        for maker in (self._read, self._write):
            event.listen(maker, name, fn)

    def dispose(self) -> None:
        self.engine.dispose()
        self._write_engine.dispose()
