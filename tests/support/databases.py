"""The test databases: a SQLite file or a fresh PostgreSQL database per server, and a plain read of their tables.

A server's database starts as a copy of one the test process migrated once (``template``): running
the migrations is half of an `authgate serve` start (~1 s quiet, 15 s on a loaded machine), paid once per
worker instead of once per server. The copy holds the schema and nothing else, exactly what the
migrations make; the first start (signing key, administrator) is still the server's own. ``fresh=True``
leaves the database empty for serve's own migrations (the session's main server does, so every run
still migrates an empty database through `authgate serve`).
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import sqlite3
import tempfile
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit


def libpq_url(sqlalchemy_url: str) -> str:
    """postgresql+psycopg://... -> postgresql://... (what psycopg accepts)."""
    return re.sub(r"^postgresql\+\w+://", "postgresql://", sqlalchemy_url, count=1)


def _migrate(url: str) -> None:
    from authgate.storage import migrate
    from authgate.storage.db import Database

    db = Database(url, 1)
    try:
        migrate.upgrade(db.engine)
    finally:
        db.dispose()


class SqliteDatabase:
    _template: Path | None = None

    def __init__(self, directory: Path, fresh: bool = False):
        self.path = directory / "authgate.db"
        self.url = f"sqlite:///{self.path}"  # absolute path -> four slashes
        if not fresh:
            source, copy = sqlite3.connect(self.template()), sqlite3.connect(self.path)
            try:
                source.backup(copy)
            finally:
                source.close()
                copy.close()

    @classmethod
    def template(cls) -> Path:
        if cls._template is None:
            path = Path(tempfile.mkdtemp(prefix="authgate-template-")) / "template.db"
            _migrate(f"sqlite:///{path}")
            cls._template = path
        return cls._template

    @classmethod
    def drop_template(cls) -> None:
        if cls._template is not None:
            shutil.rmtree(cls._template.parent, ignore_errors=True)
            cls._template = None

    def dump_text(self) -> str:
        parts: list[str] = []
        con = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)
        try:
            tables = [
                r[0]
                for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            ]
            assert tables, "the database has no tables at all"
            for table in tables:
                parts.append(f"== {table}")
                for row in con.execute(f'SELECT * FROM "{table}"'):
                    parts.append(" | ".join(_cell_text(v) for v in row))
        finally:
            con.close()
        return "\n".join(parts)

    def rows(self, sql: str) -> list[tuple]:
        """The rows of one read-only query (no parameters: the caller writes only numbers into ``sql``)."""
        con = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)
        try:
            return [tuple(row) for row in con.execute(sql)]
        finally:
            con.close()

    def drop(self) -> None:
        pass  # lives in a pytest tmp dir


def _database_name() -> str:
    # the pytest-xdist worker in the name says whose database a leftover is; the random part keeps
    # two workers (or two suites on one PostgreSQL) apart
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    return f"authgate_t_{worker + '_' if worker else ''}{secrets.token_hex(6)}"


class PostgresDatabase:
    _template: str | None = None  # this process's migrated database, copied by CREATE DATABASE ... TEMPLATE
    _template_server = ""

    def __init__(self, server_url: str, fresh: bool = False):
        import psycopg

        self.name = _database_name()
        admin = libpq_url(server_url)
        template = "" if fresh else f' TEMPLATE "{self.template(server_url)}"'
        with psycopg.connect(admin, autocommit=True) as con:
            con.execute(f'CREATE DATABASE "{self.name}"{template}')
        self._admin = admin
        self.url = urlunsplit(urlsplit(server_url)._replace(path="/" + self.name))
        self._libpq = libpq_url(self.url)

    @classmethod
    def template(cls, server_url: str) -> str:
        if cls._template is None:
            import psycopg

            name = _database_name() + "_template"
            with psycopg.connect(libpq_url(server_url), autocommit=True) as con:
                con.execute(f'CREATE DATABASE "{name}"')
            cls._template, cls._template_server = name, server_url
            _migrate(urlunsplit(urlsplit(server_url)._replace(path="/" + name)))
        return cls._template

    @classmethod
    def drop_template(cls) -> None:
        import psycopg

        if cls._template is not None:
            with psycopg.connect(libpq_url(cls._template_server), autocommit=True) as con:
                con.execute(f'DROP DATABASE IF EXISTS "{cls._template}" WITH (FORCE)')
            cls._template = None

    def dump_text(self) -> str:
        import psycopg

        parts: list[str] = []
        with psycopg.connect(self._libpq, autocommit=True) as con:
            tables = con.execute(
                "SELECT table_schema, table_name FROM information_schema.tables"
                " WHERE table_type = 'BASE TABLE'"
                " AND table_schema NOT IN ('pg_catalog', 'information_schema')"
            ).fetchall()
            assert tables, "the database has no tables at all"
            for schema, table in tables:
                parts.append(f"== {schema}.{table}")
                for (row,) in con.execute(f'SELECT t::text FROM "{schema}"."{table}" AS t'):
                    parts.append(row)
        return "\n".join(parts)

    def rows(self, sql: str) -> list[tuple]:
        """The rows of one read-only query (no parameters: the caller writes only numbers into ``sql``)."""
        import psycopg

        with psycopg.connect(self._libpq, autocommit=True) as con:
            return [tuple(row) for row in con.execute(sql).fetchall()]

    def drop(self) -> None:
        import psycopg

        with psycopg.connect(self._admin, autocommit=True) as con:
            con.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


def _cell_text(value) -> str:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).decode("utf-8", errors="replace")
    return str(value)


def new_database(directory: Path, fresh: bool = False):
    """A database for one server: a copy of the migrated template, or with ``fresh`` an empty one."""
    server_url = os.environ.get("AUTHGATE_TEST_DATABASE_URL")
    if server_url:
        return PostgresDatabase(server_url, fresh)
    return SqliteDatabase(directory, fresh)


def drop_templates() -> None:
    SqliteDatabase.drop_template()
    PostgresDatabase.drop_template()
