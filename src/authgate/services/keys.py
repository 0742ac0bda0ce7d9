"""Signing keys: generated on first start, kept in the database, published as a JWKS.

Public keys are cached in process by ``kid``; an unknown ``kid`` reloads them from the database,
so a key added by another instance is picked up on first sight.
"""

from __future__ import annotations

import secrets
import threading
import time

from joserfc.jwk import KeySet, RSAKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from authgate.storage.db import Database
from authgate.storage.models import SigningKey

DEFAULT_ALG = "RS256"
RELOAD_INTERVAL = 5.0


def _new_rsa_key() -> SigningKey:
    kid = secrets.token_urlsafe(12)
    key = RSAKey.generate_key(2048, parameters={"kid": kid, "alg": DEFAULT_ALG, "use": "sig"})
    return SigningKey(
        kid=kid,
        alg=DEFAULT_ALG,
        private_jwk=key.as_dict(private=True),
        public_jwk=key.as_dict(private=False),
    )


class KeyService:
    def __init__(self, db: Database):
        self._db = db
        self._lock = threading.Lock()
        self._signing: RSAKey | None = None
        self._public: dict[str, RSAKey] = {}
        self._loaded_at = 0.0

    def ensure_signing_key(self, s: Session) -> None:
        if s.scalar(select(SigningKey.kid).where(SigningKey.retired_at.is_(None)).limit(1)) is None:
            s.add(_new_rsa_key())
            s.flush()

    def _load(self, s: Session) -> None:
        rows = s.scalars(select(SigningKey).order_by(SigningKey.created_at)).all()
        active = [r for r in rows if r.retired_at is None]
        with self._lock:
            self._loaded_at = time.monotonic()
            self._public = {r.kid: RSAKey.import_key(r.public_jwk) for r in rows}
            self._signing = RSAKey.import_key(active[-1].private_jwk) if active else None

    def signing_key(self, s: Session) -> RSAKey:
        if self._signing is None:
            self._load(s)
        if self._signing is None:
            raise RuntimeError("no active signing key: run `authgate db upgrade` or `authgate serve` once")
        return self._signing

    def public_key(self, kid: str) -> RSAKey | None:
        """The public key named ``kid``; the database is read only when the cache misses, at most
        once every few seconds, so unknown ``kid``s cannot flood it."""
        key = self._public.get(kid)
        if key is None and time.monotonic() - self._loaded_at > RELOAD_INTERVAL:
            with self._db.session(write=False) as s:
                self._load(s)
            key = self._public.get(kid)
        return key

    def jwks(self, s: Session) -> dict:
        self._load(s)
        return KeySet(list(self._public.values())).as_dict(private=False)
