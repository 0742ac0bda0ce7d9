"""Signing keys: kept in the database, rotated on demand, published as a JWKS.

The newest active key signs. ``rotate`` retires the active key and adds a new one (RS256, ES256
or EdDSA). A retired key stays published — in the JWKS and for the bearer check — until every
token it signed has expired: ``retired_at`` + the longest JWT lifetime. Public keys are cached
in process by ``kid``; an unknown ``kid`` reloads them from the database (at most every few
seconds, so unknown ``kid``s cannot flood it), and issuing a token first checks which key is
active, so a rotation made by the CLI or another instance is followed at once.
"""

from __future__ import annotations

import secrets
import threading
import time
import warnings
from dataclasses import dataclass
from datetime import datetime, timedelta

from joserfc.jwk import ECKey, KeySet, OKPKey, RSAKey, import_key
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from authgate.services import audit
from authgate.services import revocations
from authgate.services.errors import Invalid
from authgate.storage.db import Database
from authgate.storage.models import SigningKey
from authgate.storage.types import utcnow

DEFAULT_ALG = "RS256"
GENERATORS = {
    "RS256": lambda params: RSAKey.generate_key(2048, parameters=params),
    "ES256": lambda params: ECKey.generate_key("P-256", parameters=params),
    "EdDSA": lambda params: OKPKey.generate_key("Ed25519", parameters=params),
}
ALGORITHMS = tuple(GENERATORS)
RELOAD_INTERVAL = 1.0

# RFC 9864 prefers the name "Ed25519" to "EdDSA"; most verifiers (PyJWT, OIDC clients) still know only "EdDSA".
warnings.filterwarnings("ignore", message="EdDSA is deprecated")


def new_key(alg: str = DEFAULT_ALG) -> SigningKey:
    if alg not in GENERATORS:
        raise Invalid(f"unknown key algorithm {alg!r}; choose from {', '.join(ALGORITHMS)}")
    kid = secrets.token_urlsafe(12)
    key = GENERATORS[alg]({"kid": kid, "alg": alg, "use": "sig"})
    return SigningKey(kid=kid, alg=alg, private_jwk=key.as_dict(private=True), public_jwk=key.as_dict(private=False))


@dataclass(frozen=True)
class KeyInfo:
    kid: str
    alg: str
    created_at: datetime
    retired_at: datetime | None
    published_until: datetime | None  # None while active

    @property
    def status(self) -> str:
        if self.retired_at is None:
            return "active"
        return "published" if self.published_until > utcnow() else "expired"

    def as_dict(self) -> dict:
        return {
            "kid": self.kid,
            "alg": self.alg,
            "status": self.status,
            "created_at": self.created_at.isoformat(),
            "retired_at": self.retired_at.isoformat() if self.retired_at else None,
            "published_until": self.published_until.isoformat() if self.published_until else None,
        }


class KeyService:
    def __init__(self, db: Database, max_token_lifetime: int):
        """``max_token_lifetime``: seconds the longest-lived JWT signed by a key may still be valid."""
        self._db = db
        self._lifetime = timedelta(seconds=max_token_lifetime)
        self._lock = threading.Lock()
        self._signing = None
        self._public: dict[str, tuple[object, datetime | None]] = {}
        self._loaded_at = 0.0
        self.trust_cache = lambda: False

    def ensure_signing_key(self, s: Session) -> None:
        if self._active_kid(s) is None:
            s.add(new_key())
            s.flush()

    def rotate(self, s: Session, alg: str = DEFAULT_ALG) -> KeyInfo:
        """Retire the active key and make a new one with ``alg`` the signing key."""
        row = new_key(alg)
        s.execute(update(SigningKey).where(SigningKey.retired_at.is_(None)).values(retired_at=utcnow()))
        s.add(row)
        s.flush()
        audit.record(s, "key.rotated", subject=row.kid, details={"alg": alg})
        revocations.record(s, revocations.KEYS, [row.kid])
        return self._info(row)

    def list(self, s: Session) -> list[KeyInfo]:
        return [self._info(r) for r in s.scalars(select(SigningKey).order_by(SigningKey.created_at))]

    def _info(self, row: SigningKey) -> KeyInfo:
        until = row.retired_at + self._lifetime if row.retired_at else None
        return KeyInfo(row.kid, row.alg, row.created_at, row.retired_at, until)

    @staticmethod
    def _active_kid(s: Session) -> str | None:
        return s.scalar(
            select(SigningKey.kid).where(SigningKey.retired_at.is_(None)).order_by(SigningKey.created_at.desc()).limit(1)
        )

    def _load(self, s: Session) -> None:
        rows = s.scalars(select(SigningKey).order_by(SigningKey.created_at)).all()
        active = [r for r in rows if r.retired_at is None]
        public = {}
        for row in rows:
            info = self._info(row)
            if info.status != "expired":
                public[row.kid] = (import_key(row.public_jwk), info.published_until)
        with self._lock:
            self._loaded_at = time.monotonic()
            self._public = public
            self._signing = import_key(active[-1].private_jwk) if active else None

    def signing_key(self, s: Session):
        """The active key; a key activated elsewhere (CLI, another instance) is picked up within one
        revocation poll (``AUTHGATE_REVOCATION_POLL_MS``, default 0.5 s), at once after a cache miss.

        While ``trust_cache()`` says the revocation events are in sync (they carry key rotations),
        the cached key is used without a query.
        """
        if self._signing is not None and self.trust_cache():
            return self._signing
        kid = self._active_kid(s)
        if self._signing is None or self._signing.kid != kid:
            self._load(s)
        if self._signing is None:
            raise RuntimeError("no active signing key: run `authgate db upgrade` or `authgate serve` once")
        return self._signing

    def forget(self) -> None:
        """A key was rotated (here or elsewhere): the next token signed, or unknown ``kid``, reloads the keys."""
        with self._lock:
            self._loaded_at = 0.0
            self._signing = None

    def public_key(self, kid: str, reload: bool = True):
        """The published public key named ``kid``, or None (unknown, or retired long enough ago).

        ``reload=False`` never touches the database (for the event loop): an unknown ``kid`` is None.
        """
        entry = self._public.get(kid)
        if entry is None and reload:
            if time.monotonic() - self._loaded_at > RELOAD_INTERVAL:
                with self._db.session(write=False) as s:
                    self._load(s)
            entry = self._public.get(kid)  # another thread's load may have brought it since the first look
        if entry is None or (entry[1] is not None and entry[1] <= utcnow()):
            return None
        return entry[0]

    def signing_algorithms(self, s: Session) -> list[str]:
        """What the server signs JWTs with now: the active key's algorithm."""
        return [self.signing_key(s).alg]

    def jwks(self, s: Session) -> dict:
        self._load(s)
        now = utcnow()
        return KeySet([key for key, until in self._public.values() if until is None or until > now]).as_dict(private=False)
