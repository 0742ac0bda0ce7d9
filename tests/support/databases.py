"""The test databases: a SQLite file or a fresh PostgreSQL database per server, and a plain read of their tables."""

from __future__ import annotations

import os
import re
import secrets
import sqlite3
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit


def libpq_url(sqlalchemy_url: str) -> str:
    """postgresql+psycopg://... -> postgresql://... (what psycopg accepts)."""
    return re.sub(r"^postgresql\+\w+://", "postgresql://", sqlalchemy_url, count=1)


class SqliteDatabase:
    def __init__(self, directory: Path):
        self.path = directory / "authgate.db"
        self.url = f"sqlite:///{self.path}"  # absolute path -> four slashes

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

    def drop(self) -> None:
        pass  # lives in a pytest tmp dir


class PostgresDatabase:
    def __init__(self, server_url: str):
        import psycopg

        # the pytest-xdist worker in the name says whose database a leftover is; the random part keeps
        # two workers (or two suites on one PostgreSQL) apart
        worker = os.environ.get("PYTEST_XDIST_WORKER", "")
        self.name = f"authgate_t_{worker + '_' if worker else ''}{secrets.token_hex(6)}"
        admin = libpq_url(server_url)
        with psycopg.connect(admin, autocommit=True) as con:
            con.execute(f'CREATE DATABASE "{self.name}"')
        self._admin = admin
        self.url = urlunsplit(urlsplit(server_url)._replace(path="/" + self.name))
        self._libpq = libpq_url(self.url)

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

    def drop(self) -> None:
        import psycopg

        with psycopg.connect(self._admin, autocommit=True) as con:
            con.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


def _cell_text(value) -> str:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).decode("utf-8", errors="replace")
    return str(value)


def new_database(directory: Path):
    server_url = os.environ.get("AUTHGATE_TEST_DATABASE_URL")
    if server_url:
        return PostgresDatabase(server_url)
    return SqliteDatabase(directory)
