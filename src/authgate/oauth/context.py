"""The database session of the OAuth request being handled, for Authlib hooks that receive no request."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from sqlalchemy.orm import Session

_current_db: ContextVar[Session] = ContextVar("authgate_current_db")


@contextmanager
def bound(db: Session) -> Iterator[None]:
    token = _current_db.set(db)
    try:
        yield
    finally:
        _current_db.reset(token)


def current_db() -> Session:
    return _current_db.get()
