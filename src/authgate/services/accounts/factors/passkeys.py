"""Passkeys (W3C WebAuthn Level 2/3) on ``py_webauthn``: registering, naming and removing them, and checking an
assertion, for a sign-in by passkey alone or as the second step after a password.

The Relying Party is the issuer: its host is the RP ID (§5.1.2, an IP address is no valid RP ID, so the default
development issuer is ``http://localhost:8000``), its origin the only origin accepted (§7.1 step 9, §7.2 step 13).
Every ceremony's challenge is random (32 bytes), made here and stored by keyed hash for ``AUTHGATE_WEBAUTHN_CHALLENGE_SECONDS``
(then purged) with its purpose and, when the ceremony is for a known user, that user; the response's challenge is looked up and
deleted in one step, so each one works once and only for the ceremony and user it was made for.

Credentials are discoverable (``residentKey: required``) so that a passkey alone names its user (its user handle,
an HMAC of the user's id under the server's key); the first factor requires user verification (§6.2.3: the authenticator checked a PIN or a
biometric), the second step only presence. A signature counter that does not grow when the authenticator keeps one
is refused (§6.1.1: a cloned authenticator), and the new count is stored by compare-and-set. Only the user, signed
in on the account page, manages their passkeys; removing one needs the current password. The one exception is the
first factor of a user the second-factor policy covers, added during sign-in after the password (``SecondStep``
decides who): its challenge is hashed with the pending sign-in's hash, so it is found, and spent, only by that
pending sign-in, never by another one of the same user's, nor by a session.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

from sqlalchemy.orm import Session
from webauthn import (base64url_to_bytes, generate_authentication_options, generate_registration_options, options_to_json,
                      verify_authentication_response, verify_registration_response)
from webauthn.helpers import bytes_to_base64url, parse_authentication_credential_json, parse_client_data_json
from webauthn.helpers import parse_registration_credential_json
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (AuthenticatorSelectionCriteria, AuthenticatorTransport,
                                      PublicKeyCredentialDescriptor, ResidentKeyRequirement,
                                      UserVerificationRequirement)

from authgate.security.secrets import SecretHasher
from authgate.services.accounts.people.principal import Principal, account_is_active
from authgate.services.accounts.people.users import UserService
from authgate.services.errors import Forbidden, Invalid, NotFound
from authgate.services.operations import audit
from authgate.storage.models import Passkey, User
from authgate.storage.repositories.passkeys import PasskeyStore
from authgate.storage.types import utcnow

PASSKEY = "passkey"
RP_NAME = "authgate"
TIMEOUT_MS = 120_000
NAME_LENGTH = 64
MAX_CREDENTIAL_JSON = 64 * 1024
REGISTER, SIGN_IN, SECOND_STEP, ENROL = "register", "sign-in", "second-step", "enrol"
TRANSPORTS = {t.value for t in AuthenticatorTransport}


@dataclass(frozen=True)
class NewPasskey:
    """A registration verified (§7.1) and not stored yet."""

    credential_id: str
    public_key: str
    sign_count: int
    name: str
    transports: str
    backed_up: bool


class PasskeyRefused(Exception):
    """An assertion that proves nothing: malformed, a challenge unknown, spent, expired or not this user's, an
    unknown credential, a bad signature, no user verification, a counter that went back."""


@dataclass(frozen=True)
class Asserted:
    """A verified assertion: whose passkey, which one."""

    user: User
    passkey: Passkey


def _name(raw: str) -> str:
    name = " ".join((raw or "").split())
    if not name:
        raise Invalid("Give the passkey a name, e.g. the device it lives on.", field="name")
    if len(name) > NAME_LENGTH:
        raise Invalid(f"A passkey's name is at most {NAME_LENGTH} characters.", field="name")
    return name


class PasskeyService:
    def __init__(self, store: PasskeyStore, hasher: SecretHasher, users: UserService, issuer: str,
                 challenge_seconds: int = 300):
        parts = urlsplit(issuer)
        self.rp_id = parts.hostname or ""
        self.origin = f"{parts.scheme}://{parts.netloc}"
        self.store = store
        self.hasher = hasher
        self.users = users
        self.challenge_seconds = challenge_seconds
        self.timeout_ms = min(TIMEOUT_MS, challenge_seconds * 1000)

    # -- the account page -------------------------------------------------------------------------------------

    def list(self, s: Session, actor: Principal) -> list[Passkey]:
        return self.store.of_user(s, self._self(actor).id)

    def registration_options(self, s: Session, actor: Principal) -> str:
        """``PublicKeyCredentialCreationOptions`` as JSON (§5.4) for ``navigator.credentials.create``."""
        return self._registration_options(s, self._self(actor), REGISTER, "")

    def register(self, s: Session, actor: Principal, credential: str, name: str, current_password: str | None) -> Passkey:
        """Verify the response of ``navigator.credentials.create`` (§7.1) and keep the new passkey. The current
        password proves it is the user, not someone holding their session for a while: a passkey signs in alone
        and outlives a password reset, so a stolen session must not be able to leave one behind. (An enrolment
        during a sign-in follows the password just typed: ``check_enrolment``.)"""
        user = self._self(actor)
        _name(name)
        self.users.check_current_password(user, current_password, actor)
        return self._register(s, user, credential, name, REGISTER, "", actor)

    def enrolment_options(self, s: Session, user: User, pending: str) -> str:
        """``registration_options`` for ``user`` setting up their first factor during a sign-in, the challenge bound
        to that pending sign-in (``pending``, its keyed hash): ``SecondStep`` decides who may."""
        return self._registration_options(s, user, ENROL, pending)

    def check_enrolment(self, s: Session, user: User, pending: str, credential: str, name: str) -> NewPasskey:
        """The registration for the pending sign-in ``pending`` verified (only a challenge made for it, and for
        ``user``, works; it is spent), nothing kept yet: ``SecondStep`` ends the pending sign-in first, then
        ``keep_enrolment``. Raises ``Invalid``."""
        return self._verified(s, user, credential, name, ENROL, pending)

    def keep_enrolment(self, s: Session, user: User, new: NewPasskey) -> Passkey:
        """Store a passkey ``check_enrolment`` verified; audited as done by the user signing in."""
        return self._keep(s, user, new, None)

    def _registration_options(self, s: Session, user: User, purpose: str, bound: str) -> str:
        options = generate_registration_options(
            rp_id=self.rp_id, rp_name=RP_NAME, user_name=user.username,
            user_id=_bytes(self._handle(user.id)), user_display_name=" ".join(filter(None, (user.firstname, user.lastname)))
            or user.username,
            challenge=self._new_challenge(s, purpose, user.id, bound), timeout=self.timeout_ms,
            authenticator_selection=AuthenticatorSelectionCriteria(
                resident_key=ResidentKeyRequirement.REQUIRED, require_resident_key=True,
                user_verification=UserVerificationRequirement.REQUIRED),
            exclude_credentials=[self._descriptor(p) for p in self.store.of_user(s, user.id)])
        return options_to_json(options)

    def _register(self, s: Session, user: User, credential: str, name: str, purpose: str, bound: str,
                  actor: Principal | None) -> Passkey:
        return self._keep(s, user, self._verified(s, user, credential, name, purpose, bound), actor)

    def _verified(self, s: Session, user: User, credential: str, name: str, purpose: str, bound: str) -> NewPasskey:
        name = _name(name)
        try:
            parsed = parse_registration_credential_json(_bounded(credential))
            challenge = parse_client_data_json(parsed.response.client_data_json).challenge
        except Exception as error:  # anything a stranger's JSON can make the parser raise
            raise Invalid(f"The browser's answer is not a passkey registration ({_short(error)}).") from None
        spent, owner = self.store.spend_challenge(s, self._challenge_hash(challenge, bound), purpose, utcnow())
        if not spent or owner != user.id:
            raise Invalid("This registration has expired or was not started by you: try again.")
        try:
            verified = verify_registration_response(
                credential=parsed, expected_challenge=challenge, expected_rp_id=self.rp_id,
                expected_origin=self.origin, require_user_verification=True)
        except WebAuthnException as error:
            raise Invalid(f"The passkey could not be registered: {error}.") from None
        credential_id = bytes_to_base64url(verified.credential_id)
        if self.store.by_credential_id(s, credential_id) is not None:
            raise Invalid("This passkey is already registered.")
        transports = [t.value if hasattr(t, "value") else str(t) for t in (parsed.response.transports or [])]
        return NewPasskey(credential_id=credential_id, public_key=bytes_to_base64url(verified.credential_public_key),
                          sign_count=verified.sign_count, name=name,
                          transports=" ".join(t for t in transports if t in TRANSPORTS)[:128],
                          backed_up=verified.credential_backed_up)

    def _keep(self, s: Session, user: User, new: NewPasskey, actor: Principal | None) -> Passkey:
        row = self.store.add(
            s, user_id=user.id, credential_id=new.credential_id, user_handle=self._handle(user.id),
            public_key=new.public_key, sign_count=new.sign_count, name=new.name, transports=new.transports,
            backed_up=new.backed_up, created_at=utcnow())
        audit.record(s, "factor.enrolled", actor=actor, user_id=user.id, subject=user.username,
                     details={"kind": PASSKEY, "name": new.name})
        return row

    def rename(self, s: Session, actor: Principal, passkey_id: int, name: str) -> Passkey:
        user = self._self(actor)
        row = self._mine(s, user, passkey_id)
        before, row.name = row.name, _name(name)
        s.flush()
        if row.name != before:
            audit.record(s, "factor.renamed", actor=actor, subject=user.username,
                         details={"kind": PASSKEY, "from": before, "to": row.name})
        return row

    def remove(self, s: Session, actor: Principal, passkey_id: int, current_password: str) -> str:
        """Delete one passkey (the current password proves it is the user); its name."""
        user = self._self(actor)
        row = self._mine(s, user, passkey_id)
        self.users.check_current_password(user, current_password, actor)
        self.store.remove(s, user.id, row.id)
        audit.record(s, "factor.removed", actor=actor, subject=user.username,
                     details={"kind": PASSKEY, "name": row.name})
        return row.name

    def get(self, s: Session, actor: Principal, passkey_id: int) -> Passkey:
        return self._mine(s, self._self(actor), passkey_id)

    # -- for the rest of the accounts service -----------------------------------------------------------------

    def count(self, s: Session, user_id: int) -> int:
        return self.store.count_of_user(s, user_id)

    def of_user(self, s: Session, user_id: int) -> list[Passkey]:
        return self.store.of_user(s, user_id)

    def remove_all(self, s: Session, user_id: int) -> int:
        return self.store.remove_all(s, user_id)

    # -- signing in -------------------------------------------------------------------------------------------

    def sign_in_options(self, s: Session) -> str:
        """Options for a sign-in by passkey alone (§5.5): no credentials listed, the authenticator offers its
        discoverable ones for this RP; user verification required."""
        return options_to_json(generate_authentication_options(
            rp_id=self.rp_id, challenge=self._new_challenge(s, SIGN_IN, None), timeout=self.timeout_ms,
            user_verification=UserVerificationRequirement.REQUIRED))

    def second_step_options(self, s: Session, user: User) -> str:
        """Options for the second step after ``user``'s password: their passkeys listed, presence enough."""
        return options_to_json(generate_authentication_options(
            rp_id=self.rp_id, challenge=self._new_challenge(s, SECOND_STEP, user.id), timeout=self.timeout_ms,
            allow_credentials=[self._descriptor(p) for p in self.store.of_user(s, user.id)],
            user_verification=UserVerificationRequirement.PREFERRED))

    def assert_first_factor(self, s: Session, credential: str) -> Asserted:
        """Verify a sign-in by passkey alone (§7.2), spending its challenge and storing the new counter."""
        return self._assert(s, credential, SIGN_IN, None)

    def assert_second_step(self, s: Session, user: User, credential: str) -> Asserted:
        """Verify ``user``'s passkey after their password (§7.2)."""
        return self._assert(s, credential, SECOND_STEP, user)

    def _assert(self, s: Session, credential: str, purpose: str, user: User | None) -> Asserted:
        try:
            parsed = parse_authentication_credential_json(_bounded(credential))
            challenge = parse_client_data_json(parsed.response.client_data_json).challenge
        except Exception as error:  # anything a stranger's JSON can make the parser raise
            raise PasskeyRefused(f"not a WebAuthn assertion ({_short(error)})") from None
        spent, owner = self.store.spend_challenge(s, self._challenge_hash(challenge), purpose, utcnow())
        if not spent:
            raise PasskeyRefused("the challenge is unknown, expired or already used")
        if user is not None and owner != user.id:
            raise PasskeyRefused("the challenge was made for another user")
        row = self.store.by_credential_id(s, bytes_to_base64url(parsed.raw_id))
        if row is None or (user is not None and row.user_id != user.id):
            raise PasskeyRefused("no such passkey" if row is None else "the passkey is another user's")
        handle = parsed.response.user_handle
        if handle and bytes_to_base64url(handle) != row.user_handle:
            raise PasskeyRefused("the user handle is not the passkey's")  # §7.2 step 6
        try:
            verified = verify_authentication_response(
                credential=parsed, expected_challenge=challenge, expected_rp_id=self.rp_id,
                expected_origin=self.origin, credential_public_key=_bytes(row.public_key),
                credential_current_sign_count=row.sign_count, require_user_verification=purpose == SIGN_IN)
        except WebAuthnException as error:
            raise PasskeyRefused(str(error)) from None
        owner_row = self.users.get(s, row.user_id)
        if owner_row is None or not account_is_active(owner_row):
            raise PasskeyRefused("the passkey's account cannot sign in")
        if not self.store.record_use(s, row.id, row.sign_count, verified.new_sign_count, utcnow()):
            raise PasskeyRefused("the signature counter changed meanwhile")
        s.refresh(row)
        return Asserted(owner_row, row)

    # -- helpers ----------------------------------------------------------------------------------------------

    @staticmethod
    def _self(actor: Principal) -> User:
        if actor.user is None or actor.kind != "session":
            raise Forbidden("Passkeys are managed by their user, signed in on the account page.")
        return actor.user

    def _mine(self, s: Session, user: User, passkey_id: int) -> Passkey:
        row = self.store.get(s, user.id, passkey_id)
        if row is None:
            raise NotFound(f"You have no passkey with id {passkey_id}.")
        return row

    def _handle(self, user_id: int) -> str:
        """The user handle (§5.4.3): opaque, the same for all of a user's passkeys, keyed so nobody can derive it."""
        return bytes_to_base64url(bytes.fromhex(self.hasher.hash(f"webauthn-user-handle:{user_id}")))

    def _new_challenge(self, s: Session, purpose: str, user_id: int | None, bound: str = "") -> bytes:
        challenge = secrets.token_bytes(32)
        now = utcnow()
        self.store.add_challenge(s, self._challenge_hash(challenge, bound), purpose, user_id,
                                 now + timedelta(seconds=self.challenge_seconds), now)
        return challenge

    def _challenge_hash(self, challenge: bytes, bound: str = "") -> str:
        """The challenge's keyed hash; ``bound`` (a pending sign-in's hash) makes it findable only with that."""
        prefix = f"webauthn-challenge:{bound}:" if bound else "webauthn-challenge:"
        return self.hasher.hash(prefix + bytes_to_base64url(challenge))

    @staticmethod
    def _descriptor(row: Passkey) -> PublicKeyCredentialDescriptor:
        return PublicKeyCredentialDescriptor(
            id=_bytes(row.credential_id),
            transports=[AuthenticatorTransport(t) for t in row.transports.split() if t in TRANSPORTS] or None)


def _bytes(value: str) -> bytes:
    return base64url_to_bytes(value)


def _bounded(credential: str) -> str:
    if not credential or len(credential) > MAX_CREDENTIAL_JSON:
        raise ValueError("empty or too long")
    if not isinstance(json.loads(credential), dict):
        raise ValueError("not a JSON object")
    return credential


def _short(error: Exception) -> str:
    return (str(error) or type(error).__name__)[:120]
