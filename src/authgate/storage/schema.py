"""Where a database stands against authgate's migrations, read without Alembic.

The commands other than ``serve`` and ``db upgrade`` only check: they never make a database or change
its schema, so a command run with the wrong settings says so instead of writing a new, empty database
the server never sees. Alembic's own bookkeeping (the ``alembic_version`` table and the ``revision`` /
``down_revision`` lines of ``migrations/versions``) is read directly, which keeps Alembic out of the
commands' start-up.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

VERSIONS = Path(__file__).with_name("migrations") / "versions"
_REVISION_LINE = re.compile(r"""^(down_)?revision\s*(?::[^=]*)?=\s*["']([^"']+)["']""", re.MULTILINE)


class DatabaseNotReady(Exception):
    """The database is missing or its schema is not the one this authgate expects."""


def migrations() -> tuple[str, frozenset[str]]:
    """The newest migration (the one no other follows) and every migration there is."""
    revisions, followed = set(), set()
    for path in VERSIONS.glob("*.py"):
        for down, value in _REVISION_LINE.findall(path.read_text(encoding="utf-8")):
            (followed if down else revisions).add(value)
    heads = revisions - followed
    if len(heads) != 1:
        raise RuntimeError(f"the migrations have {len(heads)} heads: {', '.join(sorted(heads))}")
    return heads.pop(), frozenset(revisions)


def display_url(url: str) -> str:
    """The database URL with any password hidden."""
    return make_url(url).render_as_string(hide_password=True)


def sqlite_path(url: str) -> str | None:
    """The file of a SQLite URL (None for other databases and in-memory SQLite)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return os.path.abspath(parsed.database)


@dataclass(frozen=True)
class SchemaState:
    exists: bool
    """The database exists and holds an authgate schema."""
    revision: str | None
    head: str
    known: frozenset[str]

    @property
    def current(self) -> bool:
        return self.exists and self.revision == self.head

    def describe(self) -> str:
        if not self.exists:
            return "none yet (`authgate serve` or `authgate db upgrade` makes the schema)"
        if self.current:
            return f"current ({self.revision})"
        if self.revision not in self.known:
            return f"at {self.revision}, newer than this authgate (which knows up to {self.head}): upgrade authgate"
        return f"behind: at {self.revision}, this authgate needs {self.head} (run `authgate db upgrade`)"


def state(url: str) -> SchemaState:
    """Where the database at ``url`` stands; a SQLite file that does not exist is not created."""
    head, known = migrations()
    path = sqlite_path(url)
    if path is not None and not os.path.exists(path):
        return SchemaState(False, None, head, known)
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            revision = None
            if inspect(connection).has_table("alembic_version"):
                revision = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    finally:
        engine.dispose()
    return SchemaState(revision is not None, revision, head, known)


def require_current(url: str, home: str) -> SchemaState:
    """The state of a database a command is about to use; ``DatabaseNotReady`` says what to do otherwise."""
    found = state(url)
    if not found.exists:
        raise DatabaseNotReady(
            f"no authgate database at {display_url(url)}: start `authgate serve` once (or run `authgate db "
            f"upgrade`) to make it, or point AUTHGATE_DATABASE_URL (or AUTHGATE_HOME, now {home}) at the "
            "server's database")
    if not found.current:
        raise DatabaseNotReady(f"the database at {display_url(url)} is {found.describe()}")
    return found
