"""Browser sign-in sessions, kept on the server so that signing out really ends them, and CSRF tokens.

A session records what a person needs to recognise it later: the user agent and client address at sign-in
(from the request being served, ``audit.peer_ip`` / ``peer_user_agent``), its start, and when it was last seen
(noted by ``resume``, written by ``LastSeen`` in the background).

Every way a session ends (sign-out, "sign out one / the others", an administrator ending them, a password
change, deactivation, deletion) comes through ``end``, ``end_all`` or ``end_record`` here, which tell ``on_end``
once per ending: that is where the applications signed in through the session hear of it (Back-Channel Logout,
``services/applications/logout_deliveries.py``). A session's ``sid`` (OpenID Front-/Back-Channel Logout) is a
keyed hash of its record id: stable, opaque, and not the cookie's secret."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from authgate.security import secrets as gen
from authgate.security.secrets import SecretHasher
from authgate.services.accounts.people.principal import account_is_active
from authgate.services.accounts.sessions.last_seen import LastSeen
from authgate.services.accounts.sessions.user_agents import clean
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
    record_id: int | None = None
    """The ``web_sessions`` record (what ``sid`` is made from)."""


SessionsEnded = Callable[[Session, int, list[int], bool], None]
"""``(s, user_id, record_ids, everywhere)``: sessions of the user just ended; ``everywhere``: all of them."""


class SessionService:
    def __init__(self, settings: Settings, hasher: SecretHasher, csrf_key: bytes, store: SessionStore,
                 last_seen: LastSeen | None = None):
        self.settings = settings
        self.hasher = hasher
        self._csrf_key = csrf_key
        self.store = store
        self.last_seen = last_seen
        self.on_end: SessionsEnded | None = None

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
                        amr=tuple((row.amr or "").split()), record_id=row.id)

    def sid(self, record_id: int) -> str:
        """The session's ``sid`` claim (OpenID Back-Channel Logout 1.0 §2.1)."""
        return self.hasher.hash(f"sid:{record_id}")[:32]

    def end(self, s: Session, session_id: str | None) -> None:
        ended = self.store.end(s, self.hasher.hash(session_id), utcnow()) if session_id else None
        if ended:
            self._ended(s, ended[1], [ended[0]], everywhere=False)

    def end_all(self, s: Session, user_id: int, keep: str | None = None) -> list[int]:
        """End every session of ``user_id``; with ``keep``, all but that one (the session acting). The ids ended."""
        ended = self.store.end_all(s, user_id, utcnow(), self.hasher.hash(keep) if keep else None)
        self._ended(s, user_id, ended, everywhere=keep is None)
        return ended

    def end_record(self, s: Session, user_id: int, record_id: int) -> bool:
        """End the user's live session ``record_id``: whether this call ended it."""
        if not self.store.end_live(s, user_id, record_id, utcnow()):
            return False
        self._ended(s, user_id, [record_id], everywhere=False)
        return True

    def _ended(self, s: Session, user_id: int, record_ids: list[int], everywhere: bool) -> None:
        if self.on_end is not None and (record_ids or everywhere):
            self.on_end(s, user_id, record_ids, everywhere)

    def csrf_token(self, binding: str) -> str:
        """The CSRF token for a form, bound to the session id (or, before sign-in, to a cookie nonce)."""
        return hmac.new(self._csrf_key, binding.encode(), hashlib.sha256).hexdigest()

    def check_csrf(self, binding: str | None, token: str | None) -> bool:
        return bool(binding and token) and hmac.compare_digest(self.csrf_token(binding), token)
