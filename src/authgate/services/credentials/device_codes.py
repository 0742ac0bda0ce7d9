"""Device authorization requests (RFC 8628): made by a device, decided by a signed-in user, polled for.

Both codes are stored as HMAC-SHA-256. User codes are eight letters from an alphabet without
vowels or look-alikes (§6.1), typed with or without the dash and in any case.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from authgate.security.secrets import SecretHasher
from authgate.services.accounts.sign_in.login_guard import TooManyAttempts
from authgate.services.operations.ratelimit import RateLimiter
from authgate.settings import Settings
from authgate.storage.models import Client, DeviceCode, User
from authgate.storage.repositories.clients import ClientStore
from authgate.storage.repositories.device_codes import DeviceCodeStore
from authgate.storage.types import utcnow

USER_CODE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ"
SLOW_DOWN_STEP = 5  # seconds added to the interval on each slow_down (§3.5)

PENDING, APPROVED, DENIED, USED = "pending", "approved", "denied", "used"


def normalize_user_code(text: str | None) -> str | None:
    """``bcdf ghjk``, ``BCDF-GHJK`` and ``bcdfghjk`` are the same code; None if it cannot be one."""
    letters = "".join(ch for ch in (text or "")[:64].upper() if ch.isalnum())
    if len(letters) != 8 or any(ch not in USER_CODE_ALPHABET for ch in letters):
        return None
    return letters[:4] + "-" + letters[4:]


WRONG_CODES = "device-wrong-codes"

class DeviceCodeService:
    def __init__(self, settings: Settings, hasher: SecretHasher, limiter: RateLimiter, store: DeviceCodeStore,
                 clients: ClientStore):
        self.settings = settings
        self.hasher = hasher
        self.limiter = limiter
        self.store = store
        self.clients = clients

    def create(self, s: Session, client: Client, scope: str, device_code: str, user_code: str,
               resources: list[str] | None = None) -> DeviceCode:
        row = DeviceCode(
            device_code_hash=self.hasher.hash(device_code),
            user_code_hash=self.hasher.hash(normalize_user_code(user_code)),
            client_id=client.id,
            scope=scope,
            resources=resources,
            interval=self.settings.device_poll_interval,
            expires_at=utcnow() + timedelta(seconds=self.settings.device_code_ttl),
        )
        return self.store.add(s, row)

    def by_device_code(self, s: Session, device_code: str) -> DeviceCode | None:
        return self.store.by_device_code(s, self.hasher.hash(device_code))

    def pending_for_person(self, s: Session, user_code: str | None, ip: str | None) -> DeviceCode | None:
        """As ``pending_by_user_code``, for a person typing codes: wrong codes are counted per address,
        and past ``AUTHGATE_LIMIT_DEVICE_PER_IP`` raise ``TooManyAttempts`` (user codes are short:
        RFC 8628 §5.1 asks for exactly this)."""
        rate = self.settings.device_rate_per_ip
        if ip and rate is not None:
            misses, retry_after = self.limiter.peek(WRONG_CODES, ip)
            if misses >= rate.count:
                raise TooManyAttempts(f"Too many wrong codes from this address; try again in {retry_after} seconds.",
                                      retry_after)
        row = self.pending_by_user_code(s, user_code)
        if row is None and ip:
            self.limiter.hit(WRONG_CODES, ip, rate)
        return row

    def pending_by_user_code(self, s: Session, user_code: str | None) -> DeviceCode | None:
        """The pending, unexpired request with this user code, if any."""
        code = normalize_user_code(user_code)
        if code is None:
            return None
        row = self.store.by_user_code(s, self.hasher.hash(code))
        if row is None or row.status != PENDING or row.expires_at <= utcnow():
            return None
        return row

    def decide(self, s: Session, row: DeviceCode, user: User, approved: bool) -> bool:
        """Record the user's answer; False if the request was decided or expired meanwhile."""
        return self.store.decide(s, row.id, PENDING, APPROVED if approved else DENIED, user.id, utcnow())

    def requesting_client(self, s: Session, row: DeviceCode) -> Client:
        return self.clients.by_id(s, row.client_id)

    def polled_too_soon(self, s: Session, row: DeviceCode, now: datetime) -> bool:
        """Note this poll; True (and a longer interval from now on) if it came before the interval passed."""
        too_soon = row.last_polled_at is not None and (now - row.last_polled_at).total_seconds() < row.interval
        self.store.note_poll(s, row.id, now, row.interval + SLOW_DOWN_STEP if too_soon else None)
        return too_soon

    def consume(self, s: Session, row: DeviceCode) -> bool:
        """Mark an approved request used; False if another poll got there first."""
        return self.store.change_status(s, row.id, APPROVED, USED)
