"""Rate limits: fixed-window counters, in process by default or shared through Redis.

In process, each worker counts for itself; with ``AUTHGATE_REDIS_URL`` every worker and every
instance shares the same counters, so a limit holds across a whole deployment. While Redis cannot
be reached, each process falls back to its own counters rather than failing requests.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from authgate.services.errors import ServiceError
from authgate.settings import Rate

log = logging.getLogger("authgate.ratelimit")


class TooManyAttempts(ServiceError):
    """Over a limit: each adapter answers 429 with ``Retry-After: retry_after``."""

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class Decision:
    allowed: bool
    count: int
    retry_after: int


class MemoryCounters:
    def __init__(self):
        self._lock = threading.Lock()
        self._windows: dict[str, tuple[float, int]] = {}
        self._next_sweep = 0.0

    def incr(self, key: str, seconds: int) -> tuple[int, int]:
        """Count one event; returns (events in the window, seconds until it ends)."""
        now = time.monotonic()
        with self._lock:
            if now >= self._next_sweep:
                self._windows = {k: v for k, v in self._windows.items() if v[0] > now}
                self._next_sweep = now + 60
            ends, count = self._windows.get(key, (0.0, 0))
            if ends <= now:
                ends, count = now + seconds, 0
            self._windows[key] = (ends, count + 1)
        return count + 1, max(1, int(ends - now + 0.999))

    def peek(self, key: str) -> tuple[int, int]:
        now = time.monotonic()
        ends, count = self._windows.get(key, (0.0, 0))
        return (count, max(1, int(ends - now + 0.999))) if ends > now else (0, 0)

    def reset(self, key: str) -> None:
        with self._lock:
            self._windows.pop(key, None)


class RedisCounters:
    def __init__(self, url: str):
        import redis

        self._redis = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
        self._errors = redis.RedisError
        self._fallback = MemoryCounters()

    def _run(self, build) -> list | None:
        """The pipeline's results, or None when Redis cannot be reached."""
        try:
            pipe = self._redis.pipeline()
            build(pipe)
            return pipe.execute()
        except self._errors as error:
            log.warning("redis unavailable for rate limits (%s); counting in this process", type(error).__name__)
            return None

    def incr(self, key: str, seconds: int) -> tuple[int, int]:
        def build(pipe):
            pipe.incr(key)
            pipe.expire(key, seconds, nx=True)
            pipe.ttl(key)

        result = self._run(build)
        if result is None:
            return self._fallback.incr(key, seconds)
        count, _, ttl = result
        return int(count), max(1, int(ttl))

    def peek(self, key: str) -> tuple[int, int]:
        def build(pipe):
            pipe.get(key)
            pipe.ttl(key)

        result = self._run(build)
        if result is None:
            return self._fallback.peek(key)
        count, ttl = result
        return (int(count), max(1, int(ttl))) if count is not None else (0, 0)

    def reset(self, key: str) -> None:
        self._run(lambda pipe: pipe.delete(key))
        self._fallback.reset(key)


class RateLimiter:
    def __init__(self, redis_url: str | None, prefix: str = "authgate:"):
        self.counters = RedisCounters(redis_url) if redis_url else MemoryCounters()
        self.prefix = prefix + "rl:"

    def hit(self, name: str, subject: str, rate: Rate | None) -> Decision:
        """Count one event of ``name`` by ``subject``; not allowed once over ``rate``."""
        if rate is None:
            return Decision(True, 0, 0)
        count, retry_after = self.counters.incr(f"{self.prefix}{name}:{subject}", rate.seconds)
        return Decision(count <= rate.count, count, retry_after)

    def peek(self, name: str, subject: str) -> tuple[int, int]:
        return self.counters.peek(f"{self.prefix}{name}:{subject}")

    def reset(self, name: str, subject: str) -> None:
        self.counters.reset(f"{self.prefix}{name}:{subject}")
