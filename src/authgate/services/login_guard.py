"""Brute-force protection for password sign-in (pages and the password grant).

Failed attempts are counted per *account*, whichever identifier was typed (username or email, in
any case); a name that is no account keeps a counter of its own and locks the same way, so the
answer reveals nothing. The counting is ``services/lockout.py``'s, shared with the current-password
check of a self change. Past the limit the account is locked until the window ends or an
administrator unlocks it (``unlock``: the counters may live in each server process, so the unlock is
also logged as a revocation event that every process applies within a second).

The audit log names an account by its username; a name that is no account (it may be a password
typed into the wrong field) only by a keyed hash, which matches the same name tried again.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from authgate.security.secrets import SecretHasher
from authgate.services import audit, revocations
from authgate.services.errors import Forbidden, NotFound
from authgate.services.permissions import PermissionService
from authgate.services.principal import SYSTEM, Principal
from authgate.services.lockout import Lockout, account_key
from authgate.services.ratelimit import TooManyAttempts
from authgate.services.users import UserService
from authgate.storage.models import User

__all__ = ["LoginGuard", "TooManyAttempts"]

class LoginGuard:
    def __init__(self, lockout: Lockout, users: UserService, hasher: SecretHasher,
                 permissions: PermissionService, events: revocations.Revocations):
        self.lockout = lockout
        self.users = users
        self.hasher = hasher
        self.permissions = permissions
        events.on(revocations.UNLOCK, self._unlocked_elsewhere)

    def authenticate(self, s: Session, login: str, password: str, ip: str | None) -> User | None:
        """The user, or None for a wrong name or password; raises ``TooManyAttempts`` when limited.

        Each outcome goes to the audit log (never the password, nor a name that is no account); the
        caller commits even when refusing, so that the refusal is recorded too.
        """
        storable = "\x00" not in (login or "")  # PostgreSQL text cannot hold NUL: no account has one
        accounts = self.users.accounts_named(s, login) if storable else []
        keys = self._keys(login, accounts)
        named = {"user_id": accounts[0].id, "subject": accounts[0].username} if accounts \
            else {"subject": "unknown:" + self._digest(login)[:16]}
        try:
            self.lockout.check(keys, ip)
        except TooManyAttempts:
            audit.record(s, "login.refused", **named)
            raise
        user = self.users.authenticate(s, login, password) if storable else None
        if user is None:
            self.lockout.failed(keys, ip)
            audit.record(s, "login.failed", **named)
        else:
            self.lockout.reset(user.id)
            audit.record(s, "login.succeeded", user_id=user.id, subject=user.username)
        return user

    def unlock(self, s: Session, actor: Principal, user_id: int) -> User:
        """End ``user_id``'s lockout, in every server process: needs edit-users (administrators for
        an administrator), and is recorded in the audit log."""
        self.permissions.require(s, actor, "edit-users")
        user = self.users.get(s, user_id)
        if user is None:
            raise NotFound(f"No user with id {user_id}.")
        if user.is_administrator and not self.permissions.is_administrator(actor):
            raise Forbidden("Only an administrator may unlock an administrator.")
        self.lockout.reset(user.id)
        revocations.record(s, revocations.UNLOCK, [user.id])
        audit.record(s, "user.unlocked", actor=actor, user_id=user.id, subject=user.username)
        return user

    def unlock_named(self, s: Session, login: str, actor: Principal = SYSTEM) -> User:
        """``unlock`` for the account whose username or email is ``login`` (the CLI)."""
        accounts = self.users.accounts_named(s, login) if "\x00" not in login else []
        if not accounts:
            raise NotFound(f"no user named {login!r}")
        return self.unlock(s, actor, accounts[0].id)

    def _keys(self, login: str, accounts: list[User]) -> list[str]:
        """The counters a sign-in as ``login`` is about: its accounts', or the (hashed) name's own."""
        return [account_key(user.id) for user in accounts] or ["name:" + self._digest(login)]

    def _digest(self, login: str) -> str:
        return self.hasher.hash("login-name:" + (login or "").strip().lower()[:255])

    def _unlocked_elsewhere(self, subject: str) -> None:
        if subject.isdigit():
            self.lockout.reset(int(subject))
