"""What the administrators' pages show of what happened: each user's last sign-in (the Users list and a
user's page), the home page's counts and latest security events, and the security log searched by user,
client, event and date; and, for each user, their own account's latest security events (the account page). All
of it reads (``ActivityStore``); nothing here writes."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy.orm import Session

from authgate.services.accounts.people.permissions import PermissionService
from authgate.services.accounts.people.principal import Principal
from authgate.services.operations.listing import ListQuery, Page, paginate
from authgate.storage.repositories.activity import ActivityStore
from authgate.storage.types import utcnow

SIGNED_IN = "login.succeeded"
SIGN_IN_FAILURES = ("login.failed", "login.refused")
LATEST = 8
OWN_LATEST = 10
ROUTINE = ("token.issued", "token.refreshed", "login.second_factor_required")
"""Left out of a user's own list: every use of an application would bury what they should notice."""
LOG_SORTABLE = ("occurred_at", "event")


@dataclass(frozen=True)
class Overview:
    users: int
    clients: int
    active_access_tokens: int
    active_api_tokens: int
    sign_ins_today: int
    failures_today: int
    latest: tuple  # the newest AuditEvent rows, newest first


@dataclass(frozen=True)
class LogFilter:
    """The security log's filters; empty ones filter nothing. ``user`` is a username or a user id; dates are
    UTC days, both ends included."""

    user: str = ""
    client_id: str = ""
    event: str = ""
    since: date | None = None
    until: date | None = None


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.utc)


class Activity:
    def __init__(self, store: ActivityStore, permissions: PermissionService):
        self.store = store
        self.permissions = permissions

    def last_sign_ins(self, s: Session, actor: Principal, user_ids: Iterable[int]) -> dict[int, datetime]:
        """When each of ``user_ids`` last signed in (absent: never), for those who may see users."""
        self.permissions.require(s, actor, "view-users")
        return self.store.last_events(s, SIGNED_IN, user_ids)

    def own_latest(self, s: Session, actor: Principal) -> list:
        """The acting user's latest security events on their own account (sign-ins and failures, password and
        factor changes, sessions ended, ...), newest first: the user's own rows of the log, no one else's."""
        user = self.permissions.require_user(actor)
        return self.store.latest_of_user(s, user.id, ROUTINE, OWN_LATEST) if user is not None else []

    def overview(self, s: Session, actor: Principal) -> Overview:
        """The administrators' home page: how many of what, today's sign-ins, the latest events."""
        self.permissions.require_administrator(actor, "see the server's overview")
        now = utcnow()
        today = _midnight(now.date())
        counts = self.store.counts(s, now)
        return Overview(
            users=counts["users"], clients=counts["clients"], active_access_tokens=counts["access_tokens"],
            active_api_tokens=counts["personal_tokens"],
            sign_ins_today=self.store.events_since(s, [SIGNED_IN], today),
            failures_today=self.store.events_since(s, SIGN_IN_FAILURES, today),
            latest=tuple(self.store.latest(s, LATEST)),
        )

    def log(self, s: Session, actor: Principal, wanted: LogFilter, query: ListQuery) -> Page:
        """A page of the security log (administrators only)."""
        self.permissions.require_administrator(actor, "read the security log")
        user = wanted.user.strip()
        return paginate(query, sortable=LOG_SORTABLE, default_order="occurred_at", fetch=lambda checked: self.store.log_page(
            s, checked, user_id=int(user) if user.isdigit() else None,
            username=user if user and not user.isdigit() else None, client_id=wanted.client_id.strip() or None,
            event=wanted.event or None, since=_midnight(wanted.since) if wanted.since else None,
            before=_midnight(wanted.until + timedelta(days=1)) if wanted.until else None))

    def usernames(self, s: Session, user_ids: Iterable[int | None]) -> dict[int, str]:
        """The names behind the ids a log page shows (deleted users too: the log outlives them)."""
        return self.store.usernames(s, {user_id for user_id in user_ids if user_id is not None})
