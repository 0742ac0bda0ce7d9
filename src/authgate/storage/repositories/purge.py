"""What can never be used again, per kind of row, deleted in batches chosen by an indexed condition.

Kept on purpose: rotated refresh tokens until they expire (a reuse must still be recognised and
revoke its family), families while a token of theirs is left, or a live personal access token made with
one (and an hour more), and personal access tokens (their owners list them, expired or not).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import and_, delete, exists, or_, select
from sqlalchemy.orm import Session

from authgate.storage.models import (
    AccessToken, AccountLink, AuthorizationCode, DeviceCode, FederatedSignIn, InitialAccessToken, PendingSignIn,
    PersonalAccessToken, PushedAuthorizationRequest, RefreshToken, RevocationEvent, ShownOnceSlot, TokenFamily,
    WebAuthnChallenge, WebSession,
)

FAMILY_GRACE = timedelta(hours=1)


def _family_unused(now: datetime, events_before: datetime):
    no_refresh = ~exists().where(RefreshToken.family_id == TokenFamily.id)
    no_access = ~exists().where(AccessToken.family_id == TokenFamily.id)
    no_personal = ~exists().where(PersonalAccessToken.family_id == TokenFamily.id,
                                  PersonalAccessToken.revoked_at.is_(None))
    return TokenFamily.id, and_(TokenFamily.created_at < now - FAMILY_GRACE, no_refresh, no_access, no_personal)


# kind -> (now, events_before) -> (the key column, the condition of a dead row); tokens before families
_TARGETS = {
    "authorization_codes": lambda now, _: (AuthorizationCode.id, AuthorizationCode.expires_at < now),
    "access_tokens": lambda now, _: (AccessToken.jti, AccessToken.expires_at < now),
    "refresh_tokens": lambda now, _: (RefreshToken.id, RefreshToken.expires_at < now),
    "token_families": _family_unused,
    "device_codes": lambda now, _: (DeviceCode.id, DeviceCode.expires_at < now),
    "sessions": lambda now, _: (WebSession.id, or_(WebSession.ended_at.is_not(None), WebSession.expires_at < now)),
    "account_links": lambda now, _: (AccountLink.id, or_(AccountLink.used_at.is_not(None), AccountLink.expires_at < now)),
    "shown_once_slots": lambda now, _: (ShownOnceSlot.id, ShownOnceSlot.expires_at < now),
    "pending_sign_ins": lambda now, _: (PendingSignIn.id, PendingSignIn.expires_at < now),
    "federated_sign_ins": lambda now, _: (FederatedSignIn.id, FederatedSignIn.expires_at < now),
    "initial_access_tokens": lambda now, _: (InitialAccessToken.id, or_(
        InitialAccessToken.expires_at < now,
        and_(InitialAccessToken.uses_allowed.is_not(None), InitialAccessToken.uses >= InitialAccessToken.uses_allowed))),
    "pushed_requests": lambda now, _: (PushedAuthorizationRequest.id, PushedAuthorizationRequest.expires_at < now),
    "webauthn_challenges": lambda now, _: (WebAuthnChallenge.id, WebAuthnChallenge.expires_at < now),
    "revocation_events": lambda _, events_before: (RevocationEvent.id, RevocationEvent.created_at < events_before),
}


class PurgeStore(Protocol):
    kinds: tuple[str, ...]
    """Every kind, in the order they are purged (tokens before the families they keep alive)."""

    def delete_batch(self, s: Session, kind: str, limit: int, now: datetime, events_before: datetime) -> int:
        """Delete at most ``limit`` dead rows of ``kind``; how many. Revocation events count as dead
        before ``events_before``."""


class SqlPurgeStore:
    kinds = tuple(_TARGETS)

    def delete_batch(self, s: Session, kind: str, limit: int, now: datetime, events_before: datetime) -> int:
        key, condition = _TARGETS[kind](now, events_before)
        ids = s.scalars(select(key).where(condition).limit(limit)).all()
        if ids:
            s.execute(delete(key.class_).where(key.in_(ids)), execution_options={"synchronize_session": False})
        return len(ids)
