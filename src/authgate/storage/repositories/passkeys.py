"""Passkeys: users' WebAuthn credentials, and the challenges of the ceremonies under way (each spent once)."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from authgate.storage.models import Passkey, WebAuthnChallenge


class PasskeyStore(Protocol):
    def of_user(self, s: Session, user_id: int) -> list[Passkey]:
        """The user's passkeys, oldest first."""
    def count_of_user(self, s: Session, user_id: int) -> int: ...
    def by_credential_id(self, s: Session, credential_id: str) -> Passkey | None: ...
    def get(self, s: Session, user_id: int, passkey_id: int) -> Passkey | None:
        """The user's passkey with this id (None when it is someone else's)."""
    def add(self, s: Session, **values) -> Passkey: ...
    def record_use(self, s: Session, passkey_id: int, old_count: int, new_count: int, now: datetime) -> bool:
        """Store the new signature count, only if the stored one is still ``old_count``: two requests with the
        same counter cannot both pass."""
    def remove(self, s: Session, user_id: int, passkey_id: int) -> bool: ...
    def remove_all(self, s: Session, user_id: int) -> int:
        """Delete the user's passkeys; how many there were."""
    def add_challenge(self, s: Session, challenge_hash: str, purpose: str, user_id: int | None,
                      expires_at: datetime, now: datetime) -> None:
        """A challenge for a ceremony; those expired by ``now`` are dropped on the way."""
    def spend_challenge(self, s: Session, challenge_hash: str, purpose: str, now: datetime
                        ) -> tuple[bool, int | None]:
        """Delete the unexpired challenge with this hash and purpose: (whether this call did, its user id)."""


class SqlPasskeyStore:
    def of_user(self, s: Session, user_id: int) -> list[Passkey]:
        return list(s.scalars(select(Passkey).where(Passkey.user_id == user_id).order_by(Passkey.id)))

    def count_of_user(self, s: Session, user_id: int) -> int:
        return s.scalar(select(func.count(Passkey.id)).where(Passkey.user_id == user_id)) or 0

    def by_credential_id(self, s: Session, credential_id: str) -> Passkey | None:
        return s.scalar(select(Passkey).where(Passkey.credential_id == credential_id))

    def get(self, s: Session, user_id: int, passkey_id: int) -> Passkey | None:
        return s.scalar(select(Passkey).where(Passkey.id == passkey_id, Passkey.user_id == user_id))

    def add(self, s: Session, **values) -> Passkey:
        row = Passkey(**values)
        s.add(row)
        s.flush()
        return row

    def record_use(self, s: Session, passkey_id: int, old_count: int, new_count: int, now: datetime) -> bool:
        return s.execute(update(Passkey).where(Passkey.id == passkey_id, Passkey.sign_count == old_count)
                         .values(sign_count=new_count, last_used_at=now)).rowcount == 1

    def remove(self, s: Session, user_id: int, passkey_id: int) -> bool:
        return s.execute(delete(Passkey).where(Passkey.id == passkey_id, Passkey.user_id == user_id)).rowcount == 1

    def remove_all(self, s: Session, user_id: int) -> int:
        return s.execute(delete(Passkey).where(Passkey.user_id == user_id)).rowcount

    def add_challenge(self, s: Session, challenge_hash: str, purpose: str, user_id: int | None,
                      expires_at: datetime, now: datetime) -> None:
        s.execute(delete(WebAuthnChallenge).where(WebAuthnChallenge.expires_at <= now))
        s.execute(insert(WebAuthnChallenge).values(challenge_hash=challenge_hash, purpose=purpose, user_id=user_id,
                                                   expires_at=expires_at))

    def spend_challenge(self, s: Session, challenge_hash: str, purpose: str, now: datetime
                        ) -> tuple[bool, int | None]:
        row = s.execute(select(WebAuthnChallenge.id, WebAuthnChallenge.user_id).where(
            WebAuthnChallenge.challenge_hash == challenge_hash, WebAuthnChallenge.purpose == purpose,
            WebAuthnChallenge.expires_at > now)).first()
        if row is None:
            return False, None
        spent = s.execute(delete(WebAuthnChallenge).where(WebAuthnChallenge.id == row.id)).rowcount == 1
        return spent, row.user_id
