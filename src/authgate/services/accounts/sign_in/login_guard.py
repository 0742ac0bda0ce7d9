"""Brute-force protection for password sign-in (pages and the password grant).

Failed attempts are counted per *account*, whichever identifier was typed (username or email, in
any case); a name that is no account keeps a counter of its own and locks the same way, so the
answer reveals nothing. The counting is ``services/accounts/sign_in/lockout.py``'s, shared with the current-password
check of a self change. Past the limit the account is locked until the window ends or an
administrator unlocks it (``unlock``: the counters may live in each server process, so the unlock is
also logged as a revocation event that every process applies within a second).

The audit log names an account by its username; a name that is no account (it may be a password
typed into the wrong field) only by a keyed hash, which matches the same name tried again.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from sqlalchemy.orm import Session

from authgate.security.secrets import SecretHasher
from authgate.services.accounts.people.permissions import PermissionService
from authgate.services.accounts.people.principal import SYSTEM, Principal
from authgate.services.accounts.people.users import UserService
from authgate.services.accounts.sign_in.lockout import Lockout, account_key
from authgate.services.caching import events
from authgate.services.caching.bus import InvalidationBus
from authgate.services.errors import Forbidden, NotFound
from authgate.services.operations import audit
from authgate.services.operations.ratelimit import TooManyAttempts
from authgate.storage.models import User

__all__ = ["Attempt", "LoginGuard", "TooManyAttempts"]


@dataclass(frozen=True)
class Attempt:
    """A sign-in as checked in a read transaction, waiting to be recorded in a write transaction."""

    event: str
    named: dict
    user: User | None = None
    rehashed: str | None = None
    refused: TooManyAttempts | None = None
    external: object | None = None
    """What a directory said of the password (``services/directory/sign_in.py``), when one was asked."""


DIRECTORY = "login.directory"


class LoginGuard:
    def __init__(self, lockout: Lockout, users: UserService, hasher: SecretHasher,
                 permissions: PermissionService, bus: InvalidationBus):
        self.lockout = lockout
        self.users = users
        self.hasher = hasher
        self.permissions = permissions
        self._counting = threading.Lock()
        bus.on(events.UNLOCK, self._unlocked_elsewhere)

    def check(self, s: Session, login: str, password: str, ip: str | None, directory=None) -> Attempt:
        """The outcome of signing in as ``login``, found with reads only (the argon2 verify runs on
        the hashing pool, outside any write transaction); the lockout counters count it at once.

        The caller then writes the outcome with ``record`` in a write transaction, refusals too. The
        lock is looked at again after the verify, and counted under a lock: of guesses verified side by
        side, those answered once the limit is reached are refused, right or wrong, as if they had
        come after it (in one process; between processes the shared counters decide, as before).

        ``directory`` (the sign-in form's ``DirectorySignIn``): asked when the local password is not right, before
        the failure is counted; its yes is an ``Attempt`` of event ``DIRECTORY`` (no user yet: the directory's
        sign-in finds or makes it), its no counts as a wrong password.
        """
        storable = "\x00" not in (login or "")  # PostgreSQL text cannot hold NUL: no account has one
        accounts = self.users.accounts_named(s, login) if storable else []
        keys = self._keys(login, accounts)
        named = {"user_id": accounts[0].id, "subject": accounts[0].username} if accounts \
            else {"subject": "unknown:" + self._digest(login)[:16]}
        try:
            self.lockout.check(keys, ip)
        except TooManyAttempts as refused:
            return Attempt("login.refused", named, refused=refused)
        verified = self.users.authenticate(s, login, password) if storable else None
        external = directory.verify(s, login, password) if directory is not None and verified is None \
            and storable else None
        with self._counting:
            try:
                self.lockout.check(keys, ip)
            except TooManyAttempts as refused:
                return Attempt("login.refused", named, refused=refused)
            if verified is None and directory is not None and directory.is_verified(external):
                return Attempt(DIRECTORY, named, external=external)
            if verified is None:
                self.lockout.failed(keys, ip)
                return Attempt("login.failed", named, external=external)
            user, rehashed = verified
            self.lockout.reset_password_count(user.id)
        return Attempt("login.succeeded", {"user_id": user.id, "subject": user.username}, user, rehashed)

    def record(self, s: Session, attempt: Attempt) -> None:
        """Write what ``check`` found: its audit row (never the password, nor a name that is no
        account) and the password's new hash when it needed one."""
        audit.record(s, attempt.event, **attempt.named)
        if attempt.rehashed:
            self.users.store_rehash(s, attempt.user, attempt.rehashed)

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
        events.record(s, events.UNLOCK, [user.id])
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
        elif subject.startswith(events.PASSWORD_ONLY) and subject[len(events.PASSWORD_ONLY):].isdigit():
            self.lockout.reset_password_count(int(subject[len(events.PASSWORD_ONLY):]))
