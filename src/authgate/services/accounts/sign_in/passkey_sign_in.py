"""Signing in with a passkey alone (no username, no password): a discoverable credential names its user, and user
verification on the authenticator stands in for the password (W3C WebAuthn Level 2 §7.2, §6.2.3).

The session's ``amr`` is ``hwk mfa`` (RFC 8176 §2: proof of possession of a hardware-secured key, and more than one
factor): the authenticator verified the user (a PIN or a biometric) before it signed, which makes a passkey a
multi-factor cryptographic authenticator (NIST SP 800-63B §5.1.9), so ``acr_values`` asking for a second factor
takes no extra step after it, and a step-up never records a password nobody typed. A refused assertion
counts against the address as a wrong password does (``Lockout``); it names no account to lock, and a passkey
cannot be guessed, so the account's own lockout after wrong passwords does not stop its passkey.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from authgate.services.accounts.factors.passkeys import PASSKEY, PasskeyRefused, PasskeyService
from authgate.services.accounts.sessions.sessions import SessionService
from authgate.services.accounts.sign_in.lockout import Lockout
from authgate.services.accounts.sign_in.second_step import Started
from authgate.services.operations import audit
from authgate.services.operations.ratelimit import TooManyAttempts

PASSKEY_ALONE = ("hwk", "mfa")


@dataclass(frozen=True)
class Refused:
    """The assertion proved nothing (the reason is in the audit log, not for the visitor)."""


class PasskeySignIn:
    def __init__(self, passkeys: PasskeyService, lockout: Lockout, sessions: SessionService):
        self.passkeys = passkeys
        self.lockout = lockout
        self.sessions = sessions

    def options(self, s: Session) -> str:
        return self.passkeys.sign_in_options(s)

    def sign_in(self, s: Session, credential: str, ip: str | None, replacing: str | None
                ) -> Started | Refused | TooManyAttempts:
        try:
            self.lockout.check([], ip)
        except TooManyAttempts as refused:
            audit.record(s, "login.refused", details={"factor": PASSKEY})
            return refused
        try:
            asserted = self.passkeys.assert_first_factor(s, credential)
        except PasskeyRefused as why:
            self.lockout.failed([], ip)
            audit.record(s, "passkey.refused", details={"step": "first", "reason": str(why)[:200]})
            return Refused()
        user = asserted.user
        audit.record(s, "login.succeeded", user_id=user.id, subject=user.username,
                     details={"amr": " ".join(PASSKEY_ALONE), "factor": PASSKEY, "passkey": asserted.passkey.name})
        return Started(self.sessions.start(s, user, replacing=replacing, amr=PASSKEY_ALONE))
