"""Signing in on the pages when the account has a second factor: the password, then a code.

A right password for such an account makes no session: it makes a *pending sign-in*, a random id (its keyed
hash stored, for ``AUTHGATE_PENDING_SIGN_IN_SECONDS``, then purged) that opens only the second-step page. The session starts when that page gets
a TOTP code or a recovery code (``FactorService.verify``, which spends it), or one of the user's passkeys
(``PasskeyService.assert_second_step``), with ``amr`` saying how the user signed in (RFC 8176 §2: ``pwd``;
``pwd otp mfa`` with a code, ``pwd hwk mfa`` with a passkey). Wrong codes count towards the
account's lockout on a counter of their own (``lockout.second_step_key``), which a right password does not
reset, and per address; a locked account gets no code checked.

A user the second-factor policy covers (``FactorPolicyService.covers``) who has no factor gets a pending sign-in
too, for *enrolment*: the pending id opens only the enrolment page, and the session starts once a first code
confirms the new factor, or a passkey is registered (user verification required, its challenge bound to this
pending sign-in; ``amr`` ``pwd hwk mfa`` as at the second step); either way recovery codes are made and shown once.
``step_up`` makes a pending sign-in for a user already signed in with a password alone (a client asked for
``acr_values`` with a second factor, ``services/accounts/sign_in/assurance.py``): the same pages, then a new session that
records both factors.

A pending sign-in remembers how its first step was made (``first_amr``: ``pwd``, or ``fed`` and the upstream's
methods after a sign-in through an identity provider, ``services/federation/sign_in.py``): the session started at
the second step records that first step and the second (``fed pwd otp mfa``), so ``amr`` and ``acr`` say what
happened (``both_steps``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta

from sqlalchemy.orm import Session

from authgate.security import secrets as gen
from authgate.security.secrets import SecretHasher
from authgate.services.accounts.factors.factor_policy import FactorPolicyService
from authgate.services.accounts.factors.factors import TOTP, FactorService
from authgate.services.accounts.factors.passkeys import PASSKEY, PasskeyRefused, PasskeyService
from authgate.services.accounts.people.principal import account_is_active
from authgate.services.accounts.sessions.sessions import SessionService
from authgate.services.accounts.sign_in.lockout import Lockout, account_key, second_step_key
from authgate.services.accounts.sign_in.login_guard import Attempt, LoginGuard
from authgate.services.errors import Invalid
from authgate.services.operations import audit
from authgate.services.operations.ratelimit import TooManyAttempts
from authgate.storage.models import User
from authgate.storage.repositories.factors import FactorStore
from authgate.storage.types import utcnow

PASSWORD_ONLY = ("pwd",)
CODE_STEP = ("otp", "mfa")
PASSKEY_STEP = ("hwk", "mfa")
WITH_SECOND_FACTOR = PASSWORD_ONLY + CODE_STEP
WITH_PASSKEY = PASSWORD_ONLY + PASSKEY_STEP
MAX_AMR = 64
SECOND_FACTOR_NEEDED = "login.second_factor_required"
ENROLMENT_NEEDED = "login.enrolment_required"
CODE = "code"
ENROL = "enrol"


def both_steps(first: tuple[str, ...], second: tuple[str, ...]) -> tuple[str, ...]:
    """The ``amr`` of a session whose first step was ``first`` and second ``second``, at most ``MAX_AMR``
    characters: the first step's later methods give way to the second's (its first method, ``pwd`` or ``fed``,
    stays)."""
    methods = list(dict.fromkeys([*(first or PASSWORD_ONLY), *second]))
    while len(" ".join(methods)) > MAX_AMR and len(methods) > 1 + len(second):
        del methods[len(methods) - len(second) - 1]
    return tuple(methods)


@dataclass(frozen=True)
class Started:
    """Signed in: the new session's id, for the cookie."""

    session_id: str


@dataclass(frozen=True)
class Pending:
    """The password was right; the second step comes next, with this pending id in a cookie."""

    pending_id: str
    enrol: bool = False
    """True: the user has no second factor yet and sets one up (the enrolment page), rather than entering a code."""


@dataclass(frozen=True)
class WrongCode:
    """The second step's code was wrong or already used."""


@dataclass(frozen=True)
class Enrolled:
    """The first code (or the passkey's registration) confirmed the new factor: signed in, with the recovery codes
    to show once."""

    session_id: str
    recovery_codes: list[str]
    kind: str = TOTP


@dataclass(frozen=True)
class WrongEnrolmentCode:
    error: Invalid


class SecondStep:
    def __init__(self, factors: FactorService, store: FactorStore, hasher: SecretHasher, lockout: Lockout,
                 login_guard: LoginGuard, sessions: SessionService, policy: FactorPolicyService,
                 passkeys: PasskeyService, pending_seconds: int):
        """``pending_seconds``: how long a pending sign-in waits for its second step (or enrolment)."""
        self.policy = policy
        self.passkeys = passkeys
        self.factors = factors
        self.store = store
        self.hasher = hasher
        self.lockout = lockout
        self.login_guard = login_guard
        self.sessions = sessions
        self.pending_seconds = pending_seconds

    def password_alone_refused(self, s: Session, attempt: Attempt) -> Attempt:
        """The attempt to record when its password was right but is not enough (the account has a second factor, or
        the policy requires one it has not set up yet): ``attempt`` itself otherwise."""
        if attempt.user is None or attempt.refused:
            return attempt
        if self.factors.has_second_factor(s, attempt.user.id):
            return replace(attempt, event=SECOND_FACTOR_NEEDED)
        if self.policy.covers(s, attempt.user):
            return replace(attempt, event=ENROLMENT_NEEDED)
        return attempt

    def after_password(self, s: Session, attempt: Attempt, replacing: str | None
                       ) -> Started | Pending | TooManyAttempts | None:
        """Record the password step (checked by ``LoginGuard.check``) and say what follows: a session, the second
        step, a refusal, or None for a wrong password."""
        attempt = self.password_alone_refused(s, attempt)
        self.login_guard.record(s, attempt)
        if attempt.refused:
            return attempt.refused
        if attempt.user is None:
            return None
        if attempt.event in (SECOND_FACTOR_NEEDED, ENROLMENT_NEEDED):
            return self._pending(s, attempt.user, enrol=attempt.event == ENROLMENT_NEEDED)
        return Started(self.sessions.start(s, attempt.user, replacing=replacing, amr=PASSWORD_ONLY))

    def required_of(self, s: Session, user: User) -> bool:
        """Whether a sign-in of ``user`` by one factor goes on to the second step (or enrolment): they have a
        second factor, or the policy requires one of them."""
        return self.factors.has_second_factor(s, user.id) or self.policy.covers(s, user)

    def step_up(self, s: Session, user: User, first: tuple[str, ...] = PASSWORD_ONLY) -> Pending:
        """A pending sign-in for ``user``, signed in with one factor (``first``, its ``amr``), to go through their
        second factor (or set one up when they have none); audited."""
        enrol = not self.factors.has_second_factor(s, user.id)
        audit.record(s, "login.step_up_required", user_id=user.id, subject=user.username,
                     details={"next": ENROL if enrol else CODE})
        return self._pending(s, user, enrol=enrol, first=first)

    def next_step(self, s: Session, pending_id: str | None) -> str | None:
        """What the pending sign-in waits for: ``CODE`` (the user has a factor), ``ENROL`` (they set one up), or
        None when there is no pending sign-in (any more)."""
        user = self.pending_user(s, pending_id)
        if user is None:
            return None
        return CODE if self.factors.has_second_factor(s, user.id) else ENROL

    def enrolment(self, s: Session, pending_id: str | None):
        """The user of a pending enrolment and what their authenticator app needs (the secret made with the pending
        sign-in, the same on every visit); None when the pending id is no enrolment's."""
        user = self.pending_user(s, pending_id)
        if user is None or self.factors.has_second_factor(s, user.id):
            return None
        return user, self.factors.enrolling(s, user) or self.factors.start_enrolment(s, user)

    def complete_enrolment(self, s: Session, pending_id: str | None, code: str, ip: str | None,
                           replacing: str | None) -> Enrolled | WrongEnrolmentCode | TooManyAttempts | None:
        """Confirm the new factor with its first code and start the session; None when there is no pending
        enrolment. The code proves the app holds the secret just shown, not who is there (anyone with the secret
        computes it), so a wrong one is not counted as a guess; a locked account still gets nothing.

        The pending sign-in ends before the factor is confirmed and its recovery codes made: of concurrent
        completions (the same code twice, or a passkey registered meanwhile) the one that ends it alone goes on,
        and no other confirms a factor or replaces the recovery codes shown."""
        user = self._enrolling(s, pending_id, ip)
        if not isinstance(user, User):
            return user
        try:
            self.factors.check_enrolment_code(s, user, code)
        except Invalid as error:
            return WrongEnrolmentCode(error)
        amr = self._amr(s, pending_id, CODE_STEP)
        if not self.store.end_pending(s, self._hash(pending_id)):
            return None  # a concurrent request finished this sign-in first
        try:
            codes = self.factors.confirm_enrolment(s, user, code)
        except Invalid:
            return None  # the factor was confirmed some other way meanwhile: this sign-in is over
        audit.record(s, "login.succeeded", user_id=user.id, subject=user.username,
                     details={"amr": " ".join(amr), "factor": "enrolled"})
        return Enrolled(self.sessions.start(s, user, replacing=replacing, amr=amr), codes)

    def _enrolling(self, s: Session, pending_id: str | None, ip: str | None) -> User | TooManyAttempts | None:
        """The user of a pending enrolment who may complete it now; None when there is none (or the user has a
        factor by now), the refusal when the account is locked (recorded)."""
        user = self.pending_user(s, pending_id)
        if user is None or self.factors.has_second_factor(s, user.id):
            return None
        try:
            self.lockout.check([account_key(user.id), second_step_key(user.id)], ip)
        except TooManyAttempts as refused:
            audit.record(s, "login.refused", user_id=user.id, subject=user.username, details={"step": "enrolment"})
            return refused
        return user

    def enrolment_passkey_options(self, s: Session, pending_id: str | None) -> str | None:
        """WebAuthn registration options for a pending enrolment, the challenge bound to it; None when the pending id
        is no enrolment's."""
        user = self.pending_user(s, pending_id)
        if user is None or self.factors.has_second_factor(s, user.id):
            return None
        return self.passkeys.enrolment_options(s, user, self._hash(pending_id))

    def complete_enrolment_with_passkey(self, s: Session, pending_id: str | None, credential: str, name: str,
                                        ip: str | None, replacing: str | None
                                        ) -> Enrolled | WrongEnrolmentCode | TooManyAttempts | None:
        """As ``complete_enrolment``, the new factor a passkey (registered with user verification, its challenge
        made for this pending sign-in): ``amr`` as for a passkey at the second step, and recovery codes too, the way
        back when that one device is lost. A refused registration counts as no guess (nothing in it is secret).

        As for a code, the pending sign-in ends before the passkey is stored: of concurrent completions (the
        authenticator app's first code meanwhile, say) the one that ends it alone goes on, and no other leaves a
        factor on the account."""
        user = self._enrolling(s, pending_id, ip)
        if not isinstance(user, User):
            return user
        try:
            new = self.passkeys.check_enrolment(s, user, self._hash(pending_id), credential, name)
        except Invalid as error:
            audit.record(s, "passkey.refused", user_id=user.id, subject=user.username,
                         details={"step": "enrolment", "reason": str(error)[:200]})
            return WrongEnrolmentCode(error)
        amr = self._amr(s, pending_id, PASSKEY_STEP)
        if not self.store.end_pending(s, self._hash(pending_id)):
            return None  # a concurrent request finished this sign-in first: no passkey, its recovery codes stay
        self.passkeys.keep_enrolment(s, user, new)
        codes = self.factors.first_recovery_codes(s, user)
        audit.record(s, "login.succeeded", user_id=user.id, subject=user.username,
                     details={"amr": " ".join(amr), "factor": "enrolled", "kind": PASSKEY})
        return Enrolled(self.sessions.start(s, user, replacing=replacing, amr=amr), codes, PASSKEY)

    def _pending(self, s: Session, user: User, *, enrol: bool, first: tuple[str, ...] = PASSWORD_ONLY) -> Pending:
        """A new pending sign-in. For enrolment, the user's other pending sign-ins end and a new secret is made: a
        secret is shown to one pending sign-in only, so someone else who knew the password and stopped at the
        enrolment page never sees the secret this user scans, and cannot confirm it."""
        if enrol:
            self.store.end_pending_of_user(s, user.id)
            self.factors.start_enrolment(s, user)
        pending_id = gen.generate()
        now = utcnow()
        self.store.add_pending(s, self._hash(pending_id), user.id, now + timedelta(seconds=self.pending_seconds), now,
                               first_amr=" ".join(first)[:MAX_AMR])
        return Pending(pending_id, enrol=enrol)

    def _amr(self, s: Session, pending_id: str, second: tuple[str, ...]) -> tuple[str, ...]:
        """The new session's ``amr``: the pending sign-in's first step, then ``second``."""
        first = self.store.pending_first_amr(s, self._hash(pending_id))
        return both_steps(tuple((first or "").split()) or PASSWORD_ONLY, second)

    def pending_user(self, s: Session, pending_id: str | None) -> User | None:
        """Whose second step this pending id waits for; None when it is unknown, expired or the account inactive."""
        if not pending_id or len(pending_id) > 128:
            return None
        user = self.store.pending_user(s, self._hash(pending_id), utcnow())
        return user if user is not None and account_is_active(user) else None

    def complete(self, s: Session, pending_id: str | None, code: str, ip: str | None, replacing: str | None
                 ) -> Started | WrongCode | TooManyAttempts | None:
        """Check the second step's code and start the session; None when there is no pending sign-in (any more)."""
        return self._complete(s, pending_id, ip, replacing, lambda user: self.factors.verify(s, user, code),
                              CODE_STEP)

    def passkey_options(self, s: Session, pending_id: str | None) -> str | None:
        """WebAuthn options for the second step with a passkey; None without a pending sign-in or a passkey."""
        user = self.pending_user(s, pending_id)
        if user is None or PASSKEY not in self.factors.kinds(s, user.id):
            return None
        return self.passkeys.second_step_options(s, user)

    def complete_with_passkey(self, s: Session, pending_id: str | None, credential: str, ip: str | None,
                              replacing: str | None) -> Started | WrongCode | TooManyAttempts | None:
        """As ``complete``, with an assertion of one of the pending user's passkeys instead of a code."""
        def verified(user: User) -> str | None:
            try:
                self.passkeys.assert_second_step(s, user, credential)
            except PasskeyRefused as why:
                audit.record(s, "passkey.refused", user_id=user.id, subject=user.username,
                             details={"step": "second", "reason": str(why)[:200]})
                return None
            return PASSKEY
        return self._complete(s, pending_id, ip, replacing, verified, PASSKEY_STEP)

    def _complete(self, s: Session, pending_id: str | None, ip: str | None, replacing: str | None,
                  check: Callable[[User], str | None], second: tuple[str, ...]
                  ) -> Started | WrongCode | TooManyAttempts | None:
        user = self.pending_user(s, pending_id)
        if user is None:
            return None
        named = {"user_id": user.id, "subject": user.username}
        try:
            self.lockout.check([account_key(user.id), second_step_key(user.id)], ip)
        except TooManyAttempts as refused:
            audit.record(s, "login.refused", **named, details={"step": "second"})
            return refused
        method = check(user)
        if method is None:
            self.lockout.failed([second_step_key(user.id)], ip)
            audit.record(s, "login.second_step_failed", **named)
            return WrongCode()
        amr = self._amr(s, pending_id, second)
        if not self.store.end_pending(s, self._hash(pending_id)):
            return None
        self.lockout.reset(user.id)
        audit.record(s, "login.succeeded", **named, details={"amr": " ".join(amr), "factor": method})
        return Started(self.sessions.start(s, user, replacing=replacing, amr=amr))

    def _hash(self, pending_id: str) -> str:
        return self.hasher.hash("pending-sign-in:" + pending_id)
