"""Second factors: a user's TOTP factor (enrolled or waiting for its first code), its recovery codes, and the
sign-ins waiting for their second step."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from authgate.storage.models import PendingSignIn, RecoveryCode, User, UserFactor


class FactorStore(Protocol):
    def factor(self, s: Session, user_id: int, kind: str) -> UserFactor | None:
        """The user's factor of this kind, confirmed or not."""
    def of_kind(self, s: Session, kind: str) -> list[UserFactor]:
        """Every user's factor of this kind (to re-encrypt their secrets)."""
    def has_confirmed(self, s: Session, user_id: int) -> bool:
        """Whether the user has a confirmed second factor."""
    def replace_unconfirmed(self, s: Session, user_id: int, kind: str, secret: str, now: datetime) -> None:
        """Start an enrolment: the user's unconfirmed factor of this kind is replaced by one with ``secret``."""
    def confirm(self, s: Session, factor_id: int, step: int, now: datetime) -> bool:
        """Mark the factor confirmed with ``step`` as its last step; False if it was confirmed meanwhile."""
    def accept_step(self, s: Session, factor_id: int, step: int) -> bool:
        """Record ``step`` as the last accepted, only if it is later than the last one (a code is good once)."""
    def remove(self, s: Session, user_id: int, kind: str) -> bool:
        """Delete the user's factor of this kind; whether there was one."""
    def replace_recovery_codes(self, s: Session, user_id: int, code_hashes: list[str], now: datetime) -> None:
        """The user's recovery codes become these (by hash), unused; the old ones are gone."""
    def spend_recovery_code(self, s: Session, user_id: int, code_hash: str, now: datetime) -> bool:
        """Mark the unused code with this hash used; whether it was there to spend."""
    def recovery_codes_left(self, s: Session, user_id: int) -> int: ...
    def delete_recovery_codes(self, s: Session, user_id: int) -> None: ...
    def add_pending(self, s: Session, pending_hash: str, user_id: int, expires_at: datetime, now: datetime,
                    first_amr: str | None = None) -> None:
        """A sign-in waiting for its second step, its first step made by ``first_amr`` (None: a password); those
        expired by ``now`` are dropped on the way."""
    def pending_user(self, s: Session, pending_hash: str, now: datetime) -> User | None:
        """The user of the unexpired pending sign-in with this hash."""
    def pending_first_amr(self, s: Session, pending_hash: str) -> str | None:
        """How the first step of the pending sign-in with this hash was made (None: a password)."""
    def end_pending(self, s: Session, pending_hash: str) -> bool:
        """Delete the pending sign-in; whether this call did (False: a concurrent request did first)."""
    def end_pending_of_user(self, s: Session, user_id: int) -> None:
        """Delete every pending sign-in of the user."""


class SqlFactorStore:
    def factor(self, s: Session, user_id: int, kind: str) -> UserFactor | None:
        return s.scalar(select(UserFactor).where(UserFactor.user_id == user_id, UserFactor.kind == kind))

    def of_kind(self, s: Session, kind: str) -> list[UserFactor]:
        return list(s.scalars(select(UserFactor).where(UserFactor.kind == kind).order_by(UserFactor.id)))

    def has_confirmed(self, s: Session, user_id: int) -> bool:
        return s.scalar(select(UserFactor.id).where(
            UserFactor.user_id == user_id, UserFactor.confirmed_at.is_not(None)).limit(1)) is not None

    def replace_unconfirmed(self, s: Session, user_id: int, kind: str, secret: str, now: datetime) -> None:
        s.execute(delete(UserFactor).where(UserFactor.user_id == user_id, UserFactor.kind == kind,
                                           UserFactor.confirmed_at.is_(None)))
        s.execute(insert(UserFactor).values(user_id=user_id, kind=kind, secret=secret, created_at=now))

    def confirm(self, s: Session, factor_id: int, step: int, now: datetime) -> bool:
        return s.execute(update(UserFactor).where(UserFactor.id == factor_id, UserFactor.confirmed_at.is_(None))
                         .values(confirmed_at=now, last_step=step)).rowcount == 1

    def accept_step(self, s: Session, factor_id: int, step: int) -> bool:
        return s.execute(update(UserFactor).where(
            UserFactor.id == factor_id, (UserFactor.last_step.is_(None)) | (UserFactor.last_step < step),
        ).values(last_step=step)).rowcount == 1

    def remove(self, s: Session, user_id: int, kind: str) -> bool:
        return s.execute(delete(UserFactor).where(UserFactor.user_id == user_id, UserFactor.kind == kind)).rowcount > 0

    def replace_recovery_codes(self, s: Session, user_id: int, code_hashes: list[str], now: datetime) -> None:
        self.delete_recovery_codes(s, user_id)
        s.execute(insert(RecoveryCode), [{"user_id": user_id, "code_hash": h, "created_at": now} for h in code_hashes])

    def spend_recovery_code(self, s: Session, user_id: int, code_hash: str, now: datetime) -> bool:
        return s.execute(update(RecoveryCode).where(
            RecoveryCode.user_id == user_id, RecoveryCode.code_hash == code_hash, RecoveryCode.used_at.is_(None),
        ).values(used_at=now)).rowcount == 1

    def recovery_codes_left(self, s: Session, user_id: int) -> int:
        return s.scalar(select(func.count(RecoveryCode.id)).where(
            RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_(None))) or 0

    def delete_recovery_codes(self, s: Session, user_id: int) -> None:
        s.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))

    def add_pending(self, s: Session, pending_hash: str, user_id: int, expires_at: datetime, now: datetime,
                    first_amr: str | None = None) -> None:
        s.execute(delete(PendingSignIn).where(PendingSignIn.expires_at <= now))
        s.execute(insert(PendingSignIn).values(pending_hash=pending_hash, user_id=user_id, expires_at=expires_at,
                                               first_amr=first_amr))

    def pending_first_amr(self, s: Session, pending_hash: str) -> str | None:
        return s.scalar(select(PendingSignIn.first_amr).where(PendingSignIn.pending_hash == pending_hash))

    def pending_user(self, s: Session, pending_hash: str, now: datetime) -> User | None:
        return s.scalar(select(User).join(PendingSignIn, PendingSignIn.user_id == User.id).where(
            PendingSignIn.pending_hash == pending_hash, PendingSignIn.expires_at > now))

    def end_pending(self, s: Session, pending_hash: str) -> bool:
        return s.execute(delete(PendingSignIn).where(PendingSignIn.pending_hash == pending_hash)).rowcount == 1

    def end_pending_of_user(self, s: Session, user_id: int) -> None:
        s.execute(delete(PendingSignIn).where(PendingSignIn.user_id == user_id))
