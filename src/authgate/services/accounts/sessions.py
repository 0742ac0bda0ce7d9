"""Browser sign-in sessions, kept on the server so that signing out really ends them, and CSRF tokens.

A session records what a person needs to recognise it later: the user agent and client address at sign-in
(from the request being served, ``audit.peer_ip`` / ``peer_user_agent``), its start, and when it was last seen
(noted by ``resume``, written by ``LastSeen`` in the background)."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from authgate.security import secrets as gen
from authgate.security.secrets import SecretHasher
from authgate.services.accounts.last_seen import LastSeen
from authgate.services.accounts.principal import account_is_active
from authgate.services.accounts.user_agents import clean
from authgate.services.operations import audit
from authgate.settings import Settings
from authgate.storage.models import User
from authgate.storage.repositories.sessions import SessionStore
from authgate.storage.types import utcnow


@dataclass(frozen=True)
class SignedIn:
    user: User
    session_id: str
    auth_time: datetime
    amr: tuple[str, ...] = ()
    """How the user signed in (RFC 8176 method names), for ID tokens."""


class SessionService:
    def __init__(self, settings: Settings, hasher: SecretHasher, csrf_key: bytes, store: SessionStore,
                 last_seen: LastSeen | None = None):
        self.settings = settings
        self.hasher = hasher
        self._csrf_key = csrf_key
        self.store = store
        self.last_seen = last_seen

    def start(self, s: Session, user: User, replacing: str | None = None, amr: tuple[str, ...] = ("pwd",)) -> str:
        """A new session for ``user``; returns the session id to put in the cookie.

        ``replacing`` is the session id the browser already held: it ends here, so a signed-in id
        planted or seen before the sign-in is worth nothing after it (session fixation, ASVS 3.2.1)."""
        self.end(s, replacing)
        session_id = gen.generate()
        now = utcnow()
        self.store.add(s, self.hasher.hash(session_id), user.id, now + timedelta(seconds=self.settings.session_ttl),
                       " ".join(amr), now=now, user_agent=clean(audit.peer_user_agent()), ip=audit.peer_ip())
        return session_id

    def resume(self, s: Session, session_id: str | None) -> SignedIn | None:
        if not session_id or len(session_id) > 128:
            return None
        found = self.store.with_user(s, self.hasher.hash(session_id))
        if found is None:
            return None
        row, user = found
        now = utcnow()
        if row.ended_at is not None or row.expires_at <= now:
            return None
        if not account_is_active(user):
            return None
        if self.last_seen is not None:
            self.last_seen.seen(row.id, row.last_seen_at, now)
        return SignedIn(user=user, session_id=session_id, auth_time=row.auth_time,
                        amr=tuple((row.amr or "").split()))

    def end(self, s: Session, session_id: str | None) -> None:
        if session_id:
            self.store.end(s, self.hasher.hash(session_id), utcnow())

    def end_all(self, s: Session, user_id: int, keep: str | None = None) -> None:
        """End every session of ``user_id``; with ``keep``, all but that one (the session acting)."""
        self.store.end_all(s, user_id, utcnow(), self.hasher.hash(keep) if keep else None)

    def csrf_token(self, binding: str) -> str:
        """The CSRF token for a form, bound to the session id (or, before sign-in, to a cookie nonce)."""
        return hmac.new(self._csrf_key, binding.encode(), hashlib.sha256).hexdigest()

    def check_csrf(self, binding: str | None, token: str | None) -> bool:
        return bool(binding and token) and hmac.compare_digest(self.csrf_token(binding), token)
