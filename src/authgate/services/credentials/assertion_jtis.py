"""The ``jti``s of client assertions already used (RFC 7523 §3 item 7, OpenID Connect Core §9), remembered
until the assertion expires: in this process, or shared by every worker through Redis, on the same
counters as the rate limits and DPoP's proofs."""

from __future__ import annotations

import hashlib

from authgate.services.operations.ratelimit import RateLimiter


class AssertionMemory:
    def __init__(self, limiter: RateLimiter):
        self.limiter = limiter

    def first_use(self, client_id: str, jti: str, seconds: int) -> bool:
        subject = hashlib.sha256(f"{client_id}\x00{jti}".encode()).hexdigest()
        count, _ = self.limiter.counters.incr(f"{self.limiter.prefix}assertion-jti:{subject}", max(1, seconds))
        return count == 1
