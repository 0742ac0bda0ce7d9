"""Inserts on the token endpoint's hot path, compiled once and sent straight to the driver.

A Core ``Session.execute(insert(...), row)`` costs several times more in SQLAlchemy's Python (execution
context, compiled-cache lookup, result set-up) than the insert itself costs SQLite or PostgreSQL
(``docs/performance.md``). ``PreparedInsert`` compiles one INSERT per table, dialect and set of columns
the first time it sees them, fills the columns' Python defaults and applies their own bind processors (the
UTC timestamps, JSON) exactly as SQLAlchemy would, and runs it on the DBAPI cursor of the session's
connection: the same transaction, the same rows, the same exceptions (a driver error is raised as
SQLAlchemy's, so the web layer still answers 503 or 409). Listeners of ``before_cursor_execute`` and
``after_cursor_execute`` still hear every statement (``tests/test_sql_statement_budget.py`` counts them).
PostgreSQL's driver (psycopg 3) prepares a statement it has run a few times on the server, so the same
SQL text each time is also what makes it prepared there.

A session may also hold its inserts back (``defer``): a request that only reads and then only inserts
(the client credentials grant) runs in a read transaction, and its rows are written after it by
``Database.write_deferred`` in one short write transaction without an ORM session (on PostgreSQL shared with
the rows of the requests that arrived meanwhile: ``storage/group_commit.py``); the token is answered only
after that commit.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Table, bindparam, exc, insert
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

DEFERRED = "authgate_deferred_inserts"


@dataclass(frozen=True)
class _Compiled:
    sql: str
    names: tuple[str, ...]
    positional: bool
    processors: tuple
    defaults: tuple
    """``(name, default)`` for the columns of this insert the row may leave out."""

    def parameters(self, row: dict):
        values = dict(row)
        for name, default in self.defaults:
            values[name] = default.arg(None) if default.is_callable else default.arg
        processed = [process(values.get(name)) if process else values.get(name)
                     for name, process in zip(self.names, self.processors)]
        return tuple(processed) if self.positional else dict(zip(self.names, processed))


class PreparedInsert:
    def __init__(self, table: Table):
        self.table = table
        self._compiled: dict[tuple, _Compiled] = {}

    def _compile(self, dialect, keys: frozenset) -> _Compiled:
        table = self.table
        columns = [c for c in table.columns
                   if c.key in keys or (c.default is not None and not c.default.is_sequence
                                        and c is not table.autoincrement_column)]
        compiled = insert(table).values({c.key: bindparam(c.key) for c in columns}).compile(dialect=dialect)
        names = tuple(compiled.positiontup) if compiled.positional else tuple(c.key for c in columns)
        by_key = {c.key: c for c in columns}
        processors = tuple(by_key[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names)
        defaults = tuple((c.key, c.default) for c in columns if c.default is not None and c.key not in keys)
        return _Compiled(compiled.string, names, bool(compiled.positional), processors, defaults)

    def run(self, s: Session, rows: list[dict]) -> None:
        """Insert ``rows`` (all with the same keys) in the session's transaction, or hold them back if the
        session defers its inserts (``defer``)."""
        if not rows:
            return
        deferred = s.info.get(DEFERRED)
        if deferred is not None:
            deferred.append((self, rows))
            return
        self.execute(s.connection(), rows)

    def execute(self, connection: Connection, rows: list[dict]) -> None:
        dialect = connection.dialect
        keys = frozenset(rows[0])
        compiled = self._compiled.get((dialect.name, keys))
        if compiled is None:
            compiled = self._compiled[(dialect.name, keys)] = self._compile(dialect, keys)
        many = len(rows) > 1
        parameters = [compiled.parameters(row) for row in rows] if many else compiled.parameters(rows[0])
        send(connection, compiled.sql, parameters, many)


def send(connection: Connection, sql: str, parameters, many: bool, result=None):
    """Run ``sql`` on a DBAPI cursor of ``connection``, heard by its ``before/after_cursor_execute`` listeners and
    with a driver error raised as SQLAlchemy's; ``result(cursor)`` is returned, read before the cursor closes."""
    dialect = connection.dialect
    raw = connection.connection
    cursor = raw.cursor()
    dispatch = connection.dispatch
    try:
        if dispatch.before_cursor_execute:
            dispatch.before_cursor_execute(connection, cursor, sql, parameters, None, many)
        if many:
            cursor.executemany(sql, parameters)
        else:
            cursor.execute(sql, parameters)
        if dispatch.after_cursor_execute:
            dispatch.after_cursor_execute(connection, cursor, sql, parameters, None, many)
        return result(cursor) if result else None
    except dialect.loaded_dbapi.Error as error:
        lost = dialect.is_disconnect(error, raw, cursor)
        if lost:
            connection.invalidate(error)
        raise exc.DBAPIError.instance(sql, parameters, error, dialect.loaded_dbapi.Error,
                                      connection_invalidated=lost, dialect=dialect) from error
    finally:
        cursor.close()


class Deferred(list):
    """The inserts a session held back, in order: ``(PreparedInsert, rows)``; and ``guards``, each called with the
    write transaction's connection before them (one that raises writes nothing)."""

    def __init__(self):
        super().__init__()
        self.guards: list = []

    def __bool__(self) -> bool:
        return bool(len(self) or self.guards)

    def execute(self, connection: Connection) -> None:
        for guard in self.guards:
            guard(connection)
        for prepared, rows in self:
            prepared.execute(connection, rows)


def guard(s: Session, check) -> None:
    """Run ``check(connection)`` in the transaction that writes ``s``'s inserts: now, or, when ``s`` defers them,
    first in the write transaction that does (``Deferred.execute``)."""
    deferred = s.info.get(DEFERRED)
    if deferred is not None:
        deferred.guards.append(check)
    else:
        check(s.connection())


def defer(s: Session) -> Deferred:
    """From now on ``s`` holds its prepared inserts back; they are returned, to be written by
    ``Database.write_deferred`` (after ``s`` ended)."""
    deferred = s.info[DEFERRED] = Deferred()
    return deferred
