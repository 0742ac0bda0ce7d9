"""Counters of wrong passwords: per account, per name that is no account, and per client address.

Every place that checks a password a person typed (sign-in on the pages and the password grant,
the current password of a self change, the code of a second step) counts its failures here, against the account whichever
identifier was typed, so that none of them is a way around the lockout. Past
``AUTHGATE_LOCKOUT`` the account is locked until the window ends or an administrator unlocks it;
past ``AUTHGATE_LIMIT_LOGIN_PER_IP`` the address is refused. Successes never count.
"""

from __future__ import annotations

from authgate.services.operations.ratelimit import RateLimiter, TooManyAttempts
from authgate.settings import Settings

FAILURES = "login-failures"
FAILURES_BY_IP = "login-failures-ip"


def account_key(user_id: int) -> str:
    return f"user:{user_id}"


def second_step_key(user_id: int) -> str:
    """Wrong second-step codes count apart from wrong passwords: a right password resets the account's count,
    and must not reset the count of guesses at the code."""
    return f"second-step:{user_id}"


def _minutes(seconds: int) -> str:
    minutes = max(1, (seconds + 59) // 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


class Lockout:
    def __init__(self, settings: Settings, limiter: RateLimiter):
        self.settings = settings
        self.limiter = limiter

    def check(self, keys: list[str], ip: str | None) -> None:
        """Raise ``TooManyAttempts`` if this address is over its limit or one of ``keys`` is locked."""
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
        for key in keys:
            failures, retry_after = self.limiter.peek(FAILURES, key)
            if failures >= lockout.count:
                raise TooManyAttempts(
                    f"This account is locked after {failures} failed sign-ins; try again in "
                    f"{_minutes(retry_after)} or ask an administrator to unlock it.",
                    retry_after,
                )

    def failed(self, keys: list[str], ip: str | None) -> None:
        for key in keys:
            self.limiter.hit(FAILURES, key, self.settings.lockout)
        if ip:
            self.limiter.hit(FAILURES_BY_IP, ip, self.settings.login_rate_per_ip)

    def reset(self, user_id: int) -> None:
        self.limiter.reset(FAILURES, account_key(user_id))
        self.limiter.reset(FAILURES, second_step_key(user_id))

    def reset_password_count(self, user_id: int) -> None:
        """After a right password: the count of wrong passwords only, never of wrong second-step codes."""
        self.limiter.reset(FAILURES, account_key(user_id))

    def locked(self, user_ids) -> set[int]:
        """Which of these users are locked out now (as this process counts, or Redis when shared)."""
        lockout = self.settings.lockout
        if lockout is None:
            return set()
        return {uid for uid in user_ids
                if any(self.limiter.peek(FAILURES, key(uid))[0] >= lockout.count for key in (account_key, second_step_key))}
