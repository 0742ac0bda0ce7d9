"""Links mailed to users (password reset, address verification, invitation), by the keyed hash of their token."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from authgate.storage.models import AccountLink, User


class AccountLinkStore(Protocol):
    def add(self, s: Session, token_hash: str, user_id: int, purpose: str, email: str, now: datetime,
            expires_at: datetime) -> None: ...
    def open(self, s: Session, token_hash: str, purpose: str, now: datetime) -> tuple[AccountLink, User] | None:
        """The unused, unexpired link of this purpose with this hash, and its user (deleted or not)."""
    def spend(self, s: Session, link_id: int, now: datetime) -> bool:
        """Mark the link used; False when another request did first."""
    def spend_all(self, s: Session, user_id: int, purposes: tuple[str, ...], now: datetime) -> None:
        """Every unused link of these purposes of the user stops working."""


class SqlAccountLinkStore:
    def add(self, s: Session, token_hash: str, user_id: int, purpose: str, email: str, now: datetime,
            expires_at: datetime) -> None:
        s.execute(insert(AccountLink).values(token_hash=token_hash, user_id=user_id, purpose=purpose, email=email,
                                             created_at=now, expires_at=expires_at))

    def open(self, s: Session, token_hash: str, purpose: str, now: datetime) -> tuple[AccountLink, User] | None:
        row = s.execute(select(AccountLink, User).join(User, User.id == AccountLink.user_id).where(
            AccountLink.token_hash == token_hash, AccountLink.purpose == purpose, AccountLink.used_at.is_(None),
            AccountLink.expires_at > now)).first()
        return (row[0], row[1]) if row else None

    def spend(self, s: Session, link_id: int, now: datetime) -> bool:
        return s.execute(update(AccountLink).where(AccountLink.id == link_id, AccountLink.used_at.is_(None))
                         .values(used_at=now)).rowcount == 1

    def spend_all(self, s: Session, user_id: int, purposes: tuple[str, ...], now: datetime) -> None:
        s.execute(update(AccountLink).where(AccountLink.user_id == user_id, AccountLink.purpose.in_(purposes),
                                            AccountLink.used_at.is_(None)).values(used_at=now))
