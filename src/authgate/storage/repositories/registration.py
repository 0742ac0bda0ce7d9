"""Dynamic client registration: the operator's initial access tokens (RFC 7591 §3) and the clients found by
their registration access token (RFC 7592)."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from sqlalchemy import or_, update
from sqlalchemy.orm import Session

from authgate.storage.models import InitialAccessToken


class RegistrationStore(Protocol):
    def add_initial_token(self, s: Session, token: InitialAccessToken) -> None: ...
    def spend_initial_token(self, s: Session, token_hash: str, now: datetime) -> bool:
        """Count one use of the unexpired token with this hash that has uses left; whether there was one."""


class SqlRegistrationStore:
    def add_initial_token(self, s: Session, token: InitialAccessToken) -> None:
        s.add(token)
        s.flush()

    def spend_initial_token(self, s: Session, token_hash: str, now: datetime) -> bool:
        spent = s.execute(
            update(InitialAccessToken)
            .where(InitialAccessToken.token_hash == token_hash,
                   or_(InitialAccessToken.expires_at.is_(None), InitialAccessToken.expires_at > now),
                   or_(InitialAccessToken.uses_allowed.is_(None),
                       InitialAccessToken.uses < InitialAccessToken.uses_allowed))
            .values(uses=InitialAccessToken.uses + 1)
        )
        return bool(spent.rowcount)
