"""A user's browser sessions as people manage them: list the live ones, end one, end all (or all others).

Who may: the user, for their own; for anyone else's, ``edit-users`` (ending a session is an edit of the
account, and the list shows where they sign in from) and the rule of acting on another account
(``PermissionService.require_over``: an administrator's only by an administrator, anyone else's only holding
every permission they hold), the rule of their second factors, password and status too. The permission is checked before the user is looked up, so a refusal says
nothing about whether the user exists. A session is named by its record id, never by the cookie's secret,
and is found only among the live sessions of the user named in the request: another user's session id, an
ended one or one ended twice is ``NotFound``. Ending takes effect at the browser's next request, since
every request reads its session. Every ending is audited (``session.ended``, ``sessions.ended``) and goes
through ``SessionService``, which tells the applications (Back-Channel Logout).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from authgate.security.secrets import SecretHasher
from authgate.services.accounts.people.permissions import PermissionService
from authgate.services.accounts.people.principal import Principal
from authgate.services.accounts.sessions.sessions import SessionService
from authgate.services.accounts.sessions.user_agents import summary
from authgate.services.errors import NotFound
from authgate.services.operations import audit
from authgate.services.operations.listing import MAX_PER_PAGE, ListQuery, Page, paginate
from authgate.storage.models import User, WebSession
from authgate.storage.repositories.sessions import SessionStore
from authgate.storage.repositories.users import UserStore
from authgate.storage.types import utcnow


SORTABLE = ("id", "started_at", "last_seen_at", "expires_at")
NEWEST = ListQuery(per_page=MAX_PER_PAGE, order_direction="desc")
"""What the pages and the CLI show: the newest hundred (a person has a handful)."""


@dataclass(frozen=True)
class SessionView:
    id: int
    user_id: int
    device: str
    """The user agent as "Browser on OS"."""
    user_agent: str | None
    ip: str | None
    started_at: datetime
    last_seen_at: datetime | None
    expires_at: datetime
    current: bool
    """The session of the request asking (always False through the API, which no session makes)."""

    @classmethod
    def of(cls, row: WebSession, current: bool) -> "SessionView":
        return cls(row.id, row.user_id, summary(row.user_agent), row.user_agent, row.ip, row.auth_time,
                   row.last_seen_at, row.expires_at, current)


def public_view(view: SessionView) -> dict:
    """A session as the API shows it: no secret (the cookie's value is never stored, only its HMAC)."""
    return {
        "id": view.id,
        "user_id": view.user_id,
        "device": view.device,
        "user_agent": view.user_agent,
        "ip": view.ip,
        "started_at": view.started_at.isoformat(),
        "last_seen_at": view.last_seen_at.isoformat() if view.last_seen_at else None,
        "expires_at": view.expires_at.isoformat(),
    }


class UserSessions:
    def __init__(self, store: SessionStore, users: UserStore, permissions: PermissionService, hasher: SecretHasher,
                 sessions: SessionService):
        self.sessions = sessions
        self.store = store
        self.users = users
        self.permissions = permissions
        self.hasher = hasher

    def _user(self, s: Session, actor: Principal, user_id: int) -> User:
        """The user whose sessions ``actor`` may manage: themselves, or with ``edit-users`` and
        ``PermissionService.require_over``, as for their second factors."""
        acting = self.permissions.require_user(actor)
        own = acting is not None and acting.id == user_id
        if not own:
            self.permissions.require(s, actor, "edit-users")
        user = self.users.by_id(s, user_id)
        if user is None or user.deleted_at is not None:
            raise NotFound(f"No user with id {user_id}.")
        if not own:
            self.permissions.require_over(s, actor, user, "see or end the sessions of")
        return user

    def list_for(self, s: Session, actor: Principal, user_id: int, query: ListQuery = NEWEST,
                 current: str | None = None) -> Page:
        """A page of the user's live sessions (``SessionView``s); ``current``: the asking browser's session id,
        to mark it."""
        user = self._user(s, actor, user_id)
        current_hash = self.hasher.hash(current) if current else None
        page = paginate(query, sortable=SORTABLE, default_order="id",
                        fetch=lambda checked: self.store.live_page(s, user.id, utcnow(), checked))
        return page.map(lambda row: SessionView.of(row, row.session_hash == current_hash))

    def end_for(self, s: Session, actor: Principal, user_id: int, record_id: int) -> None:
        """End one live session of the user; the same request twice ends it once, the second is ``NotFound``."""
        user = self._user(s, actor, user_id)
        if not self.sessions.end_record(s, user.id, record_id):
            raise NotFound(f"No live session with id {record_id} for user {user_id}.")
        self._record(s, "session.ended", actor, user, {"session_id": record_id})

    def end_all_for(self, s: Session, actor: Principal, user_id: int, keep: str | None = None) -> int:
        """End every session of the user but ``keep`` (the asking browser's session id, for "sign out the
        others"; only for one's own); how many ended."""
        user = self._user(s, actor, user_id)
        if actor.user is None or actor.user.id != user.id:
            keep = None
        ended = self.sessions.end_all(s, user.id, keep)
        self._record(s, "sessions.ended", actor, user, {"count": len(ended), "kept_current": bool(keep)})
        return len(ended)

    @staticmethod
    def _record(s: Session, event: str, actor: Principal, user: User, details: dict) -> None:
        by = {"by_user_id": actor.user.id} if actor.user is not None and actor.user.id != user.id else {}
        audit.record(s, event, actor=actor, user_id=user.id, subject=user.username, details={**by, **details})
