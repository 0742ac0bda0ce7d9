"""Brute-force protection for password sign-in (pages and the password grant).

Failed attempts are counted per account name (whether or not the account exists, so the answer
reveals nothing); past the limit the account is locked until the window ends or an
administrator unlocks it. Failed attempts are also limited per client IP address, so one address
cannot try many accounts; successful sign-ins never count.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from authgate.services import audit
from authgate.services.errors import ServiceError
from authgate.services.ratelimit import RateLimiter, TooManyAttempts
from authgate.services.users import UserService
from authgate.settings import Settings
from authgate.storage.models import User

FAILURES = "login-failures"
FAILURES_BY_IP = "login-failures-ip"


def _account(login: str) -> str:
    return (login or "").strip().lower()[:255]


def _minutes(seconds: int) -> str:
    minutes = max(1, (seconds + 59) // 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


class LoginGuard:
    def __init__(self, settings: Settings, limiter: RateLimiter, users: UserService):
        self.settings = settings
        self.limiter = limiter
        self.users = users

    def authenticate(self, s: Session, login: str, password: str, ip: str | None) -> User | None:
        """The user, or None for a wrong name or password; raises ``TooManyAttempts`` when limited.

        Each outcome goes to the audit log with the name tried (never the password); the caller
        commits even when refusing, so that the refusal is recorded too.
        """
        name = _account(login)
        try:
            self.before_attempt(login, ip)
        except TooManyAttempts:
            audit.record(s, "login.refused", subject=name)
            raise
        user = self.users.authenticate(s, login, password)
        if user is None:
            self.failed(login, ip)
            audit.record(s, "login.failed", subject=name)
        else:
            self.succeeded(login)
            audit.record(s, "login.succeeded", user_id=user.id, subject=user.username)
        return user

    def before_attempt(self, login: str, ip: str | None) -> None:
        """Raise ``TooManyAttempts`` if this IP is over its limit or the account is locked."""
        by_ip = self.settings.login_rate_per_ip
        if ip and by_ip is not None:
            failures, retry_after = self.limiter.peek(FAILURES_BY_IP, ip)
            if failures >= by_ip.count:
                raise TooManyAttempts(
                    f"Too many failed sign-ins from this address; try again in {_minutes(retry_after)}.",
                    retry_after,
                )
        lockout = self.settings.lockout
        if lockout is None:
            return
        failures, retry_after = self.limiter.peek(FAILURES, _account(login))
        if failures >= lockout.count:
            raise TooManyAttempts(
                f"This account is locked after {failures} failed sign-ins; try again in "
                f"{_minutes(retry_after)} or ask an administrator to unlock it.",
                retry_after,
            )

    def failed(self, login: str, ip: str | None) -> None:
        self.limiter.hit(FAILURES, _account(login), self.settings.lockout)
        if ip:
            self.limiter.hit(FAILURES_BY_IP, ip, self.settings.login_rate_per_ip)

    def succeeded(self, login: str) -> None:
        self.limiter.reset(FAILURES, _account(login))

    def unlock(self, login: str) -> None:
        self.limiter.reset(FAILURES, _account(login))
