"""What DPoP proof checking (``oauth/dpop.py``) needs kept between requests (RFC 9449 §11.1, §8): the
``jti``s seen, per key, for as long as a proof is accepted — in this process, or shared by every worker
through Redis, the same counters as the rate limits — and the server's nonces.

Nonces need no storage: a nonce is an HMAC of the current time window under a server secret, so every
worker of every instance makes and accepts the same ones; the current and the previous window's are
accepted, so a nonce lives between one and two windows."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

from authgate.services.operations.ratelimit import RateLimiter


class ProofMemory:
    def __init__(self, limiter: RateLimiter, nonce_key: bytes, nonce_seconds: int = 300):
        self.limiter = limiter
        self.nonce_key = nonce_key
        self.nonce_seconds = nonce_seconds

    def first_use(self, jkt: str, jti: str, seconds: int) -> bool:
        subject = hashlib.sha256(f"{jkt}.{jti}".encode()).hexdigest()
        count, _ = self.limiter.counters.incr(f"{self.limiter.prefix}dpop-jti:{subject}", seconds)
        return count == 1

    def nonce(self) -> str:
        return self._nonce_of(int(time.time()) // self.nonce_seconds)

    def nonce_ok(self, value: str) -> bool:
        window = int(time.time()) // self.nonce_seconds
        return any(hmac.compare_digest(value, self._nonce_of(w)) for w in (window, window - 1))

    def _nonce_of(self, window: int) -> str:
        mac = hmac.new(self.nonce_key, f"dpop-nonce:{window}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac[:18]).decode()
