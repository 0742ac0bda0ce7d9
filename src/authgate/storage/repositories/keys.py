"""Signing keys: one row per key, its life in its timestamps (``created_at``, ``activates_at``, ``retired_at``)."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from authgate.storage.models import SigningKey


class KeyStore(Protocol):
    def all(self, s: Session) -> list[SigningKey]:
        """Every key, oldest first."""

    def get(self, s: Session, kid: str) -> SigningKey | None: ...

    def add(self, s: Session, row: SigningKey) -> None:
        """Insert ``row`` at once."""

    def newest_unretired(self, s: Session, alg: str, reserved_for: str | None = None) -> str | None:
        """The ``kid`` of the ``alg`` key (reserved for ``reserved_for``, or for nothing) that signs (or will)
        last and is not retired."""

    def hand_over(self, s: Session, keep: list[str], at: datetime, start: datetime) -> None:
        """Retire every key but those in ``keep`` for a key that signs from ``start``: one still waiting to
        sign is superseded at ``at`` (it never signs), the others retire at ``start``."""

    def delete(self, s: Session, kid: str) -> None: ...

    def private_jwks(self, s: Session) -> list[dict]:
        """The stored private JWKs, sealed or not."""

    def snapshot(self, s: Session) -> tuple:
        """(count, newest ``created_at``): changes whenever a key is added or removed."""


class SqlKeyStore:
    def all(self, s: Session) -> list[SigningKey]:
        return list(s.scalars(select(SigningKey).order_by(SigningKey.created_at)))

    def get(self, s: Session, kid: str) -> SigningKey | None:
        return s.get(SigningKey, kid)

    def add(self, s: Session, row: SigningKey) -> None:
        s.add(row)
        s.flush()

    def newest_unretired(self, s: Session, alg: str, reserved_for: str | None = None) -> str | None:
        reserved = SigningKey.reserved_for.is_(None) if reserved_for is None else SigningKey.reserved_for == reserved_for
        return s.scalar(select(SigningKey.kid).where(SigningKey.alg == alg, reserved, SigningKey.retired_at.is_(None))
                        .order_by(func.coalesce(SigningKey.activates_at, SigningKey.created_at).desc()).limit(1))

    def hand_over(self, s: Session, keep: list[str], at: datetime, start: datetime) -> None:
        replaced = (SigningKey.kid.not_in(keep), or_(SigningKey.retired_at.is_(None), SigningKey.retired_at > at))
        s.execute(update(SigningKey).where(*replaced, SigningKey.activates_at > at).values(retired_at=at))
        s.execute(update(SigningKey).where(*replaced, or_(SigningKey.retired_at.is_(None), SigningKey.retired_at > start))
                  .values(retired_at=start))

    def delete(self, s: Session, kid: str) -> None:
        s.execute(delete(SigningKey).where(SigningKey.kid == kid))

    def private_jwks(self, s: Session) -> list[dict]:
        return list(s.scalars(select(SigningKey.private_jwk)))

    def snapshot(self, s: Session) -> tuple:
        return tuple(s.execute(select(func.count(), func.max(SigningKey.created_at)).select_from(SigningKey)).one())
