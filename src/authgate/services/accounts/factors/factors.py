"""Second factors: TOTP (RFC 6238) and recovery codes, the rules of enrolling, checking and removing them.

A TOTP secret is made at the start of an enrolment and becomes the user's factor only once a first code from
the authenticator proves it was copied; it is stored sealed under ``AUTHGATE_SECRET_KEY`` when one is set (the
row's table, user and kind as associated data). A code is accepted in the current 30-second step or the one
either side (RFC 6238 §5.2), and only in a step later than the last accepted: the same code twice is refused.

Confirming the factor makes ``RECOVERY_CODES`` recovery codes, shown once and stored by keyed hash (they are
random, 60 bits each); each works once, and a new set replaces the old. Removing the factor or making a new set
needs the current password. Only the signed-in user manages their own factors.

``kinds`` is the one answer to "has this user a second factor, and which": a confirmed TOTP app and each passkey
(``services/accounts/factors/passkeys.py``) count; recovery codes only come with one. An administrator with
``edit-users`` (and every permission the user holds; an administrator for an administrator, as for a password
reset) sees a user's factors without their secrets and resets them all: TOTP, recovery codes, passkeys, audited.
"""

from __future__ import annotations

import base64
import hmac
import secrets
import time
from dataclasses import dataclass
from datetime import datetime

import pyotp
from sqlalchemy.orm import Session

from authgate.security.encryption import SecretBox, is_sealed
from authgate.security.secrets import SecretHasher
from authgate.services.accounts.factors.passkeys import PASSKEY, PasskeyService
from authgate.services.accounts.people.permissions import PermissionService
from authgate.services.accounts.people.principal import Principal
from authgate.services.accounts.people.users import UserService
from authgate.services.errors import Forbidden, Invalid, NotFound
from authgate.services.operations import audit
from authgate.storage.models import User
from authgate.storage.repositories.factors import FactorStore
from authgate.storage.types import utcnow

TOTP = "totp"
ISSUER_NAME = "authgate"
STEP_SECONDS = 30
DIGITS = 6
RECOVERY_CODES = 10
OTP = "otp"
RECOVERY = "recovery"


@dataclass(frozen=True)
class Enrolment:
    """A TOTP secret waiting for its first code: what the authenticator app needs."""

    secret: str
    uri: str


@dataclass(frozen=True)
class FactorStatus:
    totp_since: datetime | None
    recovery_codes_left: int
    enrolling: Enrolment | None
    passkeys: tuple = ()

    @property
    def any(self) -> bool:
        return self.totp_since is not None or bool(self.passkeys)


@dataclass(frozen=True)
class FactorView:
    """One of a user's factors as an administrator sees it: never its secret."""

    kind: str
    name: str
    created_at: datetime | None
    last_used_at: datetime | None

    def as_dict(self) -> dict:
        return {"kind": self.kind, "name": self.name,
                "created_at": self.created_at.isoformat() if self.created_at else None,
                "last_used_at": self.last_used_at.isoformat() if self.last_used_at else None}


def _normalized(code: str) -> str:
    return "".join((code or "").split()).replace("-", "").lower()[:64]


def _new_recovery_code() -> str:
    raw = base64.b32encode(secrets.token_bytes(8)).decode("ascii")[:12].lower()
    return "-".join(raw[i:i + 4] for i in range(0, 12, 4))


class FactorService:
    def __init__(self, store: FactorStore, box: SecretBox, hasher: SecretHasher, users: UserService,
                 passkeys: PasskeyService, permissions: PermissionService):
        self.store = store
        self.box = box
        self.hasher = hasher
        self.users = users
        self.passkeys = passkeys
        self.permissions = permissions

    def kinds(self, s: Session, user_id: int) -> tuple[str, ...]:
        """The user's second factors by kind (``TOTP``, ``PASSKEY``): empty when a password alone signs them in."""
        found = []
        if self.store.has_confirmed(s, user_id):
            found.append(TOTP)
        if self.passkeys.count(s, user_id):
            found.append(PASSKEY)
        return tuple(found)

    def has_second_factor(self, s: Session, user_id: int) -> bool:
        return bool(self.kinds(s, user_id))

    def of_user(self, s: Session, actor: Principal, user_id: int) -> list[FactorView]:
        """A user's factors for an administrator (or the user): kind, name, when made and last used."""
        user = self._managed(s, actor, user_id, self_allowed=True)
        views = []
        totp = self.store.factor(s, user.id, TOTP)
        if totp is not None and totp.confirmed_at is not None:
            views.append(FactorView(TOTP, "Authenticator app", totp.confirmed_at, None))
        left = self.store.recovery_codes_left(s, user.id)
        if left:
            views.append(FactorView(RECOVERY, f"{left} recovery codes left", None, None))
        views += [FactorView(PASSKEY, p.name, p.created_at, p.last_used_at) for p in self.passkeys.of_user(s, user.id)]
        return sorted(views, key=lambda view: (view.created_at is None, view.created_at or utcnow()))

    def reset(self, s: Session, actor: Principal, user_id: int) -> dict:
        """Remove every factor of the user (a lost phone or security key): the password alone signs them in again.
        What went, by kind."""
        user = self._managed(s, actor, user_id, self_allowed=False)
        removed = {TOTP: int(self.store.remove(s, user.id, TOTP)),
                   RECOVERY: self.store.recovery_codes_left(s, user.id),
                   PASSKEY: self.passkeys.remove_all(s, user.id)}
        self.store.delete_recovery_codes(s, user.id)
        by = {"by_user_id": actor.user.id} if actor.user is not None else {}
        audit.record(s, "factor.reset", actor=actor, user_id=user.id, subject=user.username,
                     details={**by, "removed": removed})
        return removed

    def _managed(self, s: Session, actor: Principal, user_id: int, *, self_allowed: bool) -> User:
        """The user whose factors ``actor`` may see or reset: ``edit-users`` and ``PermissionService.require_over``
        (resetting factors weakens the account, as a password reset does), the rule of their sessions too."""
        if self_allowed and actor.user is not None and actor.user.id == user_id:
            user = self.users.get(s, user_id)
        else:
            self.permissions.require(s, actor, "edit-users")
            user = self.users.get(s, user_id)
            if user is not None and not actor.is_system and actor.user is not None and actor.user.id == user_id:
                raise Forbidden("Reset your own second factors on your account page, with your password.")
            if user is not None:
                self.permissions.require_over(s, actor, user, "see or reset the second factors of")
        if user is None:
            raise NotFound(f"No user with id {user_id}.")
        return user

    def status(self, s: Session, actor: Principal) -> FactorStatus:
        user = self._self(actor)
        factor = self.store.factor(s, user.id, TOTP)
        confirmed = factor is not None and factor.confirmed_at is not None
        enrolling = None if factor is None or confirmed else self._enrolment(user, self._secret(factor))
        passkeys = tuple(self.passkeys.of_user(s, user.id))
        return FactorStatus(factor.confirmed_at if confirmed else None,
                            self.store.recovery_codes_left(s, user.id) if confirmed or passkeys else 0, enrolling,
                            passkeys)

    def start_totp(self, s: Session, actor: Principal) -> Enrolment:
        """A new secret for the authenticator app; the factor counts only once ``confirm_totp`` has a code."""
        return self.start_enrolment(s, self._self(actor))

    def start_enrolment(self, s: Session, user: User) -> Enrolment:
        """``start_totp`` for ``user`` (their own page, or the enrolment a sign-in under the policy goes through)."""
        if TOTP in self.kinds(s, user.id):
            raise Invalid("You already have an authenticator app; remove it first to set up another.")
        secret = pyotp.random_base32()
        self.store.replace_unconfirmed(s, user.id, TOTP, self._sealed(user.id, secret), utcnow())
        return self._enrolment(user, secret)

    def confirm_totp(self, s: Session, actor: Principal, code: str, current_password: str | None) -> list[str]:
        """Turn the factor on with a first code from the app; returns the new recovery codes (to show once). The
        current password proves it is the user, not someone holding their session for a while: whoever turns the
        factor on holds the app and the recovery codes, and could keep the owner out of their own account."""
        user = self._self(actor)
        self.users.check_current_password(user, current_password, actor)
        return self.confirm_enrolment(s, user, code, actor=actor)

    def enrolling(self, s: Session, user: User) -> Enrolment | None:
        """The enrolment ``user`` started and has not confirmed yet, if any."""
        factor = self.store.factor(s, user.id, TOTP)
        return None if factor is None or factor.confirmed_at is not None else self._enrolment(user, self._secret(factor))

    def check_enrolment_code(self, s: Session, user: User, code: str) -> tuple[int, int]:
        """The unconfirmed factor of ``user`` and the step ``code`` matches, changing nothing; raises ``Invalid``."""
        factor = self.store.factor(s, user.id, TOTP)
        if factor is None or factor.confirmed_at is not None:
            raise Invalid("Start setting up the authenticator app again.")
        step = self._matching_step(self._secret(factor), code)
        if step is None:
            raise Invalid("That code is not the one your authenticator app shows now.", field="code")
        return factor.id, step

    def confirm_enrolment(self, s: Session, user: User, code: str, actor: Principal | None = None) -> list[str]:
        """``confirm_totp`` for ``user``; audited as done by ``actor`` (None: the user signing in). Of concurrent
        confirmations one only succeeds (the factor is confirmed by compare-and-set); the others raise ``Invalid``."""
        factor_id, step = self.check_enrolment_code(s, user, code)
        if not self.store.confirm(s, factor_id, step, utcnow()):
            raise Invalid("That code is not the one your authenticator app shows now.", field="code")
        audit.record(s, "factor.enrolled", actor=actor, user_id=user.id, subject=user.username,
                     details={"kind": TOTP})
        return self._new_recovery_codes(s, user)

    def first_recovery_codes(self, s: Session, user: User) -> list[str]:
        """Recovery codes for ``user``, who has just set up their first factor some other way than with the app (a
        passkey during sign-in): the way back when that one device is lost; shown once."""
        if not self.has_second_factor(s, user.id):
            raise Invalid("Recovery codes come with a second factor.")
        return self._new_recovery_codes(s, user)

    def regenerate_recovery_codes(self, s: Session, actor: Principal, current_password: str) -> list[str]:
        user = self._self(actor)
        if not self.has_second_factor(s, user.id):
            raise Invalid("Recovery codes come with a second factor: set up an authenticator app first.")
        self.users.check_current_password(user, current_password, actor)
        codes = self._new_recovery_codes(s, user)
        audit.record(s, "factor.recovery_codes_regenerated", actor=actor, subject=user.username)
        return codes

    def remove_totp(self, s: Session, actor: Principal, current_password: str) -> None:
        """Turn the second factor off (its recovery codes go with it): the password alone signs in again."""
        user = self._self(actor)
        self.users.check_current_password(user, current_password, actor)
        if not self.store.remove(s, user.id, TOTP):
            raise Invalid("You have no authenticator app to remove.")
        if not self.has_second_factor(s, user.id):
            self.store.delete_recovery_codes(s, user.id)
        audit.record(s, "factor.removed", actor=actor, subject=user.username, details={"kind": TOTP})

    def verify(self, s: Session, user: User, code: str) -> str | None:
        """Which factor ``code`` proves for ``user`` (``OTP``, ``RECOVERY``), spending it; None if none does."""
        given = _normalized(code)
        if len(given) == DIGITS and given.isdigit():
            factor = self.store.factor(s, user.id, TOTP)
            if factor is None or factor.confirmed_at is None:
                return None
            step = self._matching_step(self._secret(factor), given)
            return OTP if step is not None and self.store.accept_step(s, factor.id, step) else None
        if given and self.store.spend_recovery_code(s, user.id, self.hasher.hash("recovery:" + given), utcnow()):
            audit.record(s, "factor.recovery_code_used", user_id=user.id, subject=user.username,
                         details={"left": self.store.recovery_codes_left(s, user.id)})
            return RECOVERY
        return None

    def reseal(self, s: Session) -> int:
        """Seal every TOTP secret under the current secret key (``authgate keys encrypt``, with the keys): those in
        clear or under ``AUTHGATE_OLD_SECRET_KEY``; how many changed."""
        changed = 0
        for factor in self.store.of_kind(s, TOTP):
            if not self.box.is_current(factor.secret):
                factor.secret = self.box.seal(self._secret(factor).encode(), self._context(factor.user_id))
                changed += 1
        return changed

    @staticmethod
    def _self(actor: Principal) -> User:
        if actor.user is None or actor.kind != "session":
            raise Forbidden("Second factors are managed by their user, signed in on the account page.")
        return actor.user

    @staticmethod
    def _matching_step(secret: str, code: str) -> int | None:
        given = _normalized(code)
        if len(given) != DIGITS or not given.isdigit():
            return None
        totp = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS)
        now = int(time.time()) // STEP_SECONDS
        for step in (now - 1, now, now + 1):
            if hmac.compare_digest(totp.generate_otp(step), given):
                return step
        return None

    def _new_recovery_codes(self, s: Session, user: User) -> list[str]:
        codes = [_new_recovery_code() for _ in range(RECOVERY_CODES)]
        self.store.replace_recovery_codes(s, user.id, [self.hasher.hash("recovery:" + _normalized(c)) for c in codes],
                                          utcnow())
        return codes

    @staticmethod
    def _enrolment(user: User, secret: str) -> Enrolment:
        uri = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).provisioning_uri(
            name=user.username, issuer_name=ISSUER_NAME)
        return Enrolment(secret, uri)

    @staticmethod
    def _context(user_id: int) -> str:
        return f"user_factors:{user_id}:{TOTP}"

    def _sealed(self, user_id: int, secret: str) -> str:
        return self.box.seal_if_enabled(secret.encode(), self._context(user_id), clear=secret)

    def _secret(self, factor) -> str:
        if is_sealed(factor.secret):
            return self.box.open(factor.secret, self._context(factor.user_id)).decode()
        return factor.secret
