"""The ``jti``s of client assertions already used (RFC 7523 §3 item 7, OpenID Connect Core §9), and of request
objects (RFC 9101 §10.8 replay), remembered until the JWT expires: in this process, or shared by every worker
through Redis, on the same counters as the rate limits and DPoP's proofs. Each kind of JWT counts apart
(``kind``), so one kind's ``jti`` never spends another's."""

from __future__ import annotations

import hashlib

from authgate.services.operations.ratelimit import RateLimiter


class AssertionMemory:
    def __init__(self, limiter: RateLimiter, kind: str = "assertion"):
        self.limiter = limiter
        self.kind = kind

    def first_use(self, client_id: str, jti: str, seconds: int) -> bool:
        subject = hashlib.sha256(f"{client_id}\x00{jti}".encode()).hexdigest()
        count, _ = self.limiter.counters.incr(f"{self.limiter.prefix}{self.kind}-jti:{subject}", max(1, seconds))
        return count == 1
