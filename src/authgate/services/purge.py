"""Housekeeping: delete what can never be used again, in small batches (``authgate tokens purge``).

Each batch is its own short transaction of at most ``batch_size`` rows, chosen by an indexed
condition, so traffic never waits long behind a purge. Kept on purpose: rotated refresh tokens
until they expire (a reuse must still be recognised and revoke its family), and personal access
tokens (their owners list them, expired or not).
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import and_, delete, exists, or_, select

from authgate.services.revocations import OVERLAP
from authgate.settings import Settings
from authgate.storage.db import Database
from authgate.storage.models import (
    AccessToken, AuthorizationCode, DeviceCode, RefreshToken, RevocationEvent, TokenFamily, WebSession,
)
from authgate.storage.types import utcnow

DEFAULT_BATCH = 1000
FAMILY_GRACE = timedelta(hours=1)


class Purge:
    def __init__(self, settings: Settings, db: Database):
        self.settings = settings
        self.db = db

    def _targets(self):
        now = utcnow()
        live_refresh = exists().where(RefreshToken.family_id == TokenFamily.id)
        live_access = exists().where(AccessToken.family_id == TokenFamily.id)
        events_until = now - timedelta(seconds=self.settings.access_token_ttl + 2 * OVERLAP)
        return {
            "authorization_codes": (AuthorizationCode.id, AuthorizationCode.expires_at < now),
            "access_tokens": (AccessToken.jti, AccessToken.expires_at < now),
            "refresh_tokens": (RefreshToken.id, RefreshToken.expires_at < now),
            "token_families": (TokenFamily.id, and_(TokenFamily.created_at < now - FAMILY_GRACE,
                                                    ~live_refresh, ~live_access)),
            "device_codes": (DeviceCode.id, DeviceCode.expires_at < now),
            "sessions": (WebSession.id, or_(WebSession.ended_at.is_not(None), WebSession.expires_at < now)),
            "revocation_events": (RevocationEvent.id, RevocationEvent.created_at < events_until),
        }

    def run(self, batch_size: int = DEFAULT_BATCH) -> dict[str, int]:
        """Rows deleted per kind."""
        counts = {}
        for name, (key, condition) in self._targets().items():
            counts[name] = 0
            while True:
                with self.db.session() as s:
                    ids = s.scalars(select(key).where(condition).limit(batch_size)).all()
                    if ids:
                        s.execute(delete(key.class_).where(key.in_(ids)), execution_options={"synchronize_session": False})
                counts[name] += len(ids)
                if len(ids) < batch_size:
                    break
        return counts
