"""Group commit: the deferred inserts of requests that arrive while a commit is in progress share the next
transaction and its one COMMIT (``Database.write_deferred``, on PostgreSQL).

A request that finds no commit in progress leads at once: it takes every request waiting (at first, only
itself), writes them and commits, and only then are they answered. Whoever arrives meanwhile waits; when
the commit ends its leader hands the lead to the first of them, which writes all that gathered in one
transaction: each request's guards in order, then one ``executemany`` per table and set of columns. So a
lone request commits at once (no timer, no added latency), and under load one commit serves many. Each
thread leads at most once, for a batch it is part of.

When a batch fails (a guard refuses, an insert breaks a constraint, the database goes away), it is rolled
back and every request of it is written again alone, in its own transaction: each gets its own true
outcome, and no row is lost or reported written that was not.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import AbstractContextManager

from sqlalchemy.engine import Connection

from authgate.storage.prepared_inserts import Deferred

_PENDING = object()


class _Waiter:
    __slots__ = ("deferred", "woken", "outcome")

    def __init__(self, deferred: Deferred):
        self.deferred = deferred
        self.woken = threading.Event()
        self.outcome = _PENDING
        """``None`` once committed, the exception that refused it otherwise."""


class GroupCommit:
    def __init__(self, transaction: Callable[[], AbstractContextManager[Connection]]):
        """``transaction()``: a write transaction's connection, committed when the block ends."""
        self._transaction = transaction
        self._mutex = threading.Lock()
        self._waiting: list[_Waiter] = []
        self._busy = False

    def write(self, deferred: Deferred) -> None:
        """Write ``deferred`` and return once it is committed; raises what refused it."""
        me = _Waiter(deferred)
        with self._mutex:
            self._waiting.append(me)
            lead = not self._busy
            self._busy = True
        if not lead:
            me.woken.wait()
        if me.outcome is _PENDING:
            self._lead()
        if me.outcome is not None:
            raise me.outcome

    def _lead(self) -> None:
        with self._mutex:
            batch, self._waiting = self._waiting, []
        try:
            self._commit(batch)
        finally:
            with self._mutex:
                successor = self._waiting[0] if self._waiting else None
                self._busy = successor is not None
            for waiter in batch:
                if waiter.outcome is _PENDING:
                    waiter.outcome = RuntimeError("the group commit was interrupted; nothing written")
                waiter.woken.set()
            if successor is not None:
                successor.woken.set()

    def _commit(self, batch: list[_Waiter]) -> None:
        if len(batch) > 1:
            try:
                with self._transaction() as connection:
                    for waiter in batch:
                        for check in waiter.deferred.guards:
                            check(connection)
                    for prepared, rows in _merged(batch):
                        prepared.execute(connection, rows)
            except Exception:
                pass
            else:
                for waiter in batch:
                    waiter.outcome = None
                return
        for waiter in batch:
            waiter.outcome = self._alone(waiter.deferred)

    def _alone(self, deferred: Deferred) -> Exception | None:
        try:
            with self._transaction() as connection:
                deferred.execute(connection)
        except Exception as error:
            return error
        return None


def _merged(batch: list[_Waiter]) -> list[tuple]:
    """The batch's rows, one list per table and set of columns, in the order each first appears."""
    merged: dict[tuple, tuple] = {}
    for waiter in batch:
        for prepared, rows in waiter.deferred:
            key = (id(prepared), frozenset(rows[0]))
            if key in merged:
                merged[key][1].extend(rows)
            else:
                merged[key] = (prepared, list(rows))
    return list(merged.values())
