"""Authorization codes (RFC 6749 §4.1.2), found by the keyed hash of the code and claimed once."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from authgate.storage.models import AuthorizationCode, User
from authgate.storage.prepared_statements import PreparedStatement

_codes = AuthorizationCode.__table__
# Built once, with bound parameters, so their compiled form is reused (the code exchange is a hot path).
CODE_WITH_USER = (select(AuthorizationCode, User).join(User, User.id == AuthorizationCode.user_id)
                  .where(AuthorizationCode.code_hash == bindparam("code_hash")))
CLAIM_CODE = PreparedStatement(update(_codes).where(_codes.c.id == bindparam("row_id"), _codes.c.used_at.is_(None))
                               .values(used_at=bindparam("now")))


class CodeStore(Protocol):
    def add(self, s: Session, row: AuthorizationCode) -> None: ...

    def with_user(self, s: Session, code_hash: str) -> tuple[AuthorizationCode, User] | None:
        """The code and its user (one query), used or not."""

    def claim(self, s: Session, row_id: int, now: datetime) -> bool:
        """Mark the code used; False when it was used already (compare-and-set)."""

    def nonce_used(self, s: Session, client_pk: int, nonce: str) -> bool:
        """Whether a code of this client already carried ``nonce``."""


class SqlCodeStore:
    def add(self, s: Session, row: AuthorizationCode) -> None:
        s.add(row)

    def with_user(self, s: Session, code_hash: str) -> tuple[AuthorizationCode, User] | None:
        found = s.execute(CODE_WITH_USER, {"code_hash": code_hash}).first()
        return (found[0], found[1]) if found else None

    def claim(self, s: Session, row_id: int, now: datetime) -> bool:
        return CLAIM_CODE.rowcount(s, row_id=row_id, now=now) == 1

    def nonce_used(self, s: Session, client_pk: int, nonce: str) -> bool:
        return s.scalar(
            select(AuthorizationCode.id)
            .where(AuthorizationCode.client_id == client_pk, AuthorizationCode.nonce == nonce)
            .limit(1)
        ) is not None
