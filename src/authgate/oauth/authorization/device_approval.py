"""The device approval decision (RFC 8628 §3.3): what ``/device`` answers a person with a user code.

The same outcomes as the authorization endpoint (``oauth/authorization/decisions.py``): ``SignInNeeded`` with the
typed code to come back to, ``ConsentNeeded`` for a pending request, and once the person chose,
``DeviceAnswered``; plus ``CodeNeeded``, the code form again. Remembered consent never skips this
page: the person must compare the code on their device (§5.4, remote phishing), and approving does
not remember consent either.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from sqlalchemy.orm import Session

from authgate.oauth.authorization.decisions import APPROVE, ConsentNeeded, SignInNeeded
from authgate.oauth.endpoints.device import VERIFICATION_PATH
from authgate.services.accounts.sessions.sessions import SignedIn
from authgate.services.credentials import scopes as scope_rules
from authgate.services.credentials.device_codes import normalize_user_code
from authgate.services.operations.ratelimit import TooManyAttempts

UNKNOWN_CODE = "That code is not valid: it may be mistyped, expired or already used."
TYPED_MAX = 64


@dataclass(frozen=True)
class CodeNeeded:
    """The code form: empty at first (``problem`` None), else with what was wrong; ``retry_after`` when limited."""

    signed_in: SignedIn
    typed: str
    problem: str | None = None
    retry_after: int | None = None


@dataclass(frozen=True)
class DeviceAnswered:
    signed_in: SignedIn
    approved: bool
    client_name: str


def decide_device(runtime, db: Session, signed_in: SignedIn | None, user_code: str | None, client_ip: str | None,
                  choice: str | None):
    """The outcome for ``user_code`` as typed; ``choice`` is the approval page's ``decision`` once posted."""
    typed = (user_code or "")[:TYPED_MAX]
    if signed_in is None:
        return SignInNeeded(VERIFICATION_PATH + ("?" + urlencode({"user_code": typed}) if typed else ""))
    if not typed and choice is None:
        return CodeNeeded(signed_in, "")
    try:
        row = runtime.device_codes.pending_for_person(db, typed, client_ip)
    except TooManyAttempts as refused:
        return CodeNeeded(signed_in, typed, str(refused), refused.retry_after)
    if row is None:
        return CodeNeeded(signed_in, typed, UNKNOWN_CODE)
    client = runtime.device_codes.requesting_client(db, row)
    if choice is None:
        return ConsentNeeded(signed_in, client.name, scope_rules.describe(scope_rules.parse(row.scope)),
                             VERIFICATION_PATH, user_code=normalize_user_code(typed),
                             resources=tuple((identifier, identifier) for identifier in row.resources or ()))
    approved = choice == APPROVE
    if not runtime.device_codes.decide(db, row, signed_in.user, approved):
        return CodeNeeded(signed_in, typed, UNKNOWN_CODE)
    return DeviceAnswered(signed_in, approved, client.name)
