"""Server-wide secrets kept in the database (the HMAC and CSRF keys), by name, sealed or in clear."""

from __future__ import annotations

from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from authgate.storage.models import ServerSecret


class ServerSecretStore(Protocol):
    def value_of(self, s: Session, name: str) -> str | None:
        """The stored value (sealed, or hex in clear) of the secret ``name``."""
    def add(self, s: Session, name: str, value: str) -> None: ...
    def all(self, s: Session) -> list[ServerSecret]: ...
    def values(self, s: Session) -> list[str]: ...


class SqlServerSecretStore:
    def value_of(self, s: Session, name: str) -> str | None:
        return s.scalar(select(ServerSecret.value).where(ServerSecret.name == name))

    def add(self, s: Session, name: str, value: str) -> None:
        s.add(ServerSecret(name=name, value=value))
        s.flush()

    def all(self, s: Session) -> list[ServerSecret]:
        return list(s.scalars(select(ServerSecret)))

    def values(self, s: Session) -> list[str]:
        return list(s.scalars(select(ServerSecret.value)))
