"""Selects and updates on the token endpoint's hot path, compiled once and sent straight to the driver.

The counterpart of ``prepared_inserts.py`` for the statements that find and spend a credential (the refresh
token and its family, the compare-and-set of a rotation or of a code): ``PreparedStatement`` compiles a Core
statement once per dialect, applies its bound parameters' processors and its columns' result processors (the
UTC timestamps, JSON) exactly as SQLAlchemy would, and runs it on the DBAPI cursor of the session's connection,
in the same transaction (a session's, or a plain connection's). ``rows`` gives plain dicts, which the repositories turn into detached model objects
(read their fields only); ``rowcount`` gives an update's count, for a compare-and-set.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session
from sqlalchemy.sql import Executable

from authgate.storage.prepared_inserts import send


@dataclass(frozen=True)
class _Compiled:
    sql: str
    names: tuple[str, ...]
    positional: bool
    processors: tuple
    columns: tuple[str, ...]
    results: tuple

    def parameters(self, given: dict):
        processed = [process(given[name]) if process else given[name]
                     for name, process in zip(self.names, self.processors)]
        return tuple(processed) if self.positional else dict(zip(self.names, processed))


class PreparedStatement:
    def __init__(self, statement: Executable):
        self.statement = statement
        self._compiled: dict[str, _Compiled] = {}

    def _compile(self, dialect) -> _Compiled:
        compiled = self.statement.compile(dialect=dialect)
        names = tuple(compiled.positiontup) if compiled.positional else tuple(compiled.binds)
        processors = tuple(compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names)
        selected = self.statement.selected_columns if self.statement.is_select else None
        columns = tuple(c.key for c in selected) if selected is not None else ()
        results = tuple(c.type.dialect_impl(dialect).result_processor(dialect, None) for c in selected) \
            if selected is not None else ()
        return _Compiled(compiled.string, names, bool(compiled.positional), processors, columns, results)

    def _run(self, s: Session | Connection, given: dict, fetch: bool):
        connection = s.connection() if isinstance(s, Session) else s
        dialect = connection.dialect
        compiled = self._compiled.get(dialect.name)
        if compiled is None:
            compiled = self._compiled[dialect.name] = self._compile(dialect)
        return compiled, send(connection, compiled.sql, compiled.parameters(given), False,
                              (lambda cursor: cursor.fetchall()) if fetch else (lambda cursor: cursor.rowcount))

    def rowcount(self, s: Session | Connection, **given) -> int:
        return self._run(s, given, fetch=False)[1]

    def rows(self, s: Session | Connection, **given) -> list[dict]:
        compiled, fetched = self._run(s, given, fetch=True)
        return [dict(zip(compiled.columns, self._values(compiled, row))) for row in fetched]

    def values(self, s: Session | Connection, **given) -> list[list]:
        """The rows as lists of values, in the order of the selected columns."""
        compiled, fetched = self._run(s, given, fetch=True)
        return [self._values(compiled, row) for row in fetched]

    @staticmethod
    def _values(compiled: _Compiled, row) -> list:
        return [process(value) if process else value for process, value in zip(compiled.results, row)]
