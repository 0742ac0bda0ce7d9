"""Who is acting: the principal behind a bearer token, a browser session, or the operator at the CLI,
and whether an account may still act at all."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from authgate.storage.models import User

ACTIVE = "ACTIVE"
RECENT_SIGN_IN = timedelta(minutes=10)
"""How long after signing in a page session stands in for the password of an account that has none."""


@dataclass(frozen=True, eq=False)
class UserView:
    """A user as every thread of a worker may share it (the caches hold these, never ORM rows).

    Equality is identity: the fast lane keeps an encoded body while this very view is the one cached."""

    id: int
    username: str
    email: str
    firstname: str
    lastname: str
    status: str
    is_administrator: bool
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None
    email_verified_at: datetime | None = None

    @classmethod
    def of(cls, row: User) -> "UserView":
        return cls(row.id, row.username, row.email, row.firstname, row.lastname, row.status,
                   bool(row.is_administrator), row.created_at, row.updated_at, row.deleted_at, row.email_verified_at)


def account_is_active(user: User | UserView | None) -> bool:
    """May this account still act: sign in, be issued tokens by any grant, use the tokens it has.

    The one rule, asked by every grant, the bearer check, introspection and browser sessions:
    the user exists, is not deleted and has ``status`` ``ACTIVE``."""
    return user is not None and user.deleted_at is None and user.status == ACTIVE


def has_usable_password(user: User) -> bool:
    """Whether some password can match the user's hash (made-up hashes such as ``!federated`` start with ``!``)."""
    return bool(user.password_hash) and not user.password_hash.startswith("!")


@dataclass(frozen=True)
class Principal:
    user: User | UserView | None
    """A browser session's own ORM row; for a bearer token, the shared ``UserView``."""
    client_id: str | None
    scopes: tuple[str, ...]
    kind: str  # "access_token", "personal_access_token", "session" or "system"
    jkt: str | None = None
    """The DPoP key an access token is bound to (its ``cnf.jkt``, RFC 9449 §6): each use must prove it."""
    audience: str | list | None = None
    """An access token's ``aud``: the issuer (a token asked for no resource) or the list of its resources."""
    expires_at: datetime | None = None
    """When a personal access token stops working (None: never, or not a personal access token)."""
    token_id: str | None = None
    """The acting token's own id: an access token's ``jti``, a personal access token's record id (which grant
    either belongs to is on its record)."""
    auth_time: datetime | None = None
    """When a page session's user signed in (None for tokens and the operator)."""

    def signed_in_recently(self, now: datetime) -> bool:
        """A page session whose sign-in is at most ``RECENT_SIGN_IN`` old."""
        return self.kind == "session" and self.auth_time is not None and now - self.auth_time <= RECENT_SIGN_IN

    @property
    def is_system(self) -> bool:
        return self.kind == "system"

    @property
    def is_service_account(self) -> bool:
        """A client credentials token: a client acting for itself, with no user."""
        return self.user is None and not self.is_system


SYSTEM = Principal(user=None, client_id=None, scopes=("*",), kind="system")
"""The operator at the command line: every rule allows it."""


def signed_in(user: User, auth_time: datetime | None = None) -> Principal:
    """A person using authgate's own pages, signed in at ``auth_time``: their permissions decide, no token scopes
    apply."""
    return Principal(user=user, client_id=None, scopes=("*",), kind="session", auth_time=auth_time)
