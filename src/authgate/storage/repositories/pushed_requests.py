"""Pushed authorization requests (RFC 9126), found by the keyed hash of their ``request_uri``."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from authgate.storage.models import PushedAuthorizationRequest


class PushedRequestStore(Protocol):
    def add(self, s: Session, row: PushedAuthorizationRequest, now: datetime) -> None:
        """Store a pushed request; the expired ones are dropped on the way."""
    def live(self, s: Session, uri_hash: str, now: datetime) -> PushedAuthorizationRequest | None:
        """The unexpired pushed request with this hash, its row locked until the transaction ends (a request
        using the same ``request_uri`` at the same time waits, then finds it gone if this one ended it)."""
    def first_use(self, s: Session, row_id: int, now: datetime, expires_at: datetime) -> bool:
        """Mark the first use at the authorization endpoint and give it until ``expires_at``; False when used before."""
    def sign_in_asked(self, s: Session, row_id: int, parameters: list, when: datetime) -> None:
        """Its parameters become ``parameters`` and any sign-in must follow ``when`` (kept if set before)."""
    def remove(self, s: Session, row_id: int) -> bool:
        """Delete it; False when it was gone already."""


class SqlPushedRequestStore:
    def add(self, s: Session, row: PushedAuthorizationRequest, now: datetime) -> None:
        s.execute(delete(PushedAuthorizationRequest).where(PushedAuthorizationRequest.expires_at < now),
                  execution_options={"synchronize_session": False})
        s.add(row)
        s.flush()

    def live(self, s: Session, uri_hash: str, now: datetime) -> PushedAuthorizationRequest | None:
        return s.scalar(select(PushedAuthorizationRequest).where(
            PushedAuthorizationRequest.request_uri_hash == uri_hash, PushedAuthorizationRequest.expires_at > now)
            .with_for_update())

    def first_use(self, s: Session, row_id: int, now: datetime, expires_at: datetime) -> bool:
        return s.execute(
            update(PushedAuthorizationRequest)
            .where(PushedAuthorizationRequest.id == row_id, PushedAuthorizationRequest.first_used_at.is_(None))
            .values(first_used_at=now, expires_at=expires_at),
            execution_options={"synchronize_session": False},
        ).rowcount == 1

    def sign_in_asked(self, s: Session, row_id: int, parameters: list, when: datetime) -> None:
        row = s.get(PushedAuthorizationRequest, row_id)
        if row is not None:
            row.parameters = parameters
            row.sign_in_after = row.sign_in_after or when
            s.flush()

    def remove(self, s: Session, row_id: int) -> bool:
        return s.execute(delete(PushedAuthorizationRequest).where(PushedAuthorizationRequest.id == row_id),
                         execution_options={"synchronize_session": False}).rowcount == 1
