"""Secrets authgate generates (client secrets, codes, refresh tokens, PATs, session ids).

Each carries 256 bits of randomness, so a keyed fast hash (HMAC-SHA-256) stores it safely and
lets it be found by an index; a slow password hash would add nothing but latency.
"""

from __future__ import annotations

import hmac
import secrets

PERSONAL_TOKEN_PREFIX = "agp_"
REFRESH_TOKEN_PREFIX = "agr_"
CLIENT_SECRET_PREFIX = "ags_"


def generate(prefix: str = "") -> str:
    """A new secret: ``prefix`` + 43 url-safe characters (256 bits)."""
    return prefix + secrets.token_urlsafe(32)


class SecretHasher:
    def __init__(self, key: bytes):
        self._key = key

    def hash(self, secret: str) -> str:
        return hmac.digest(self._key, secret.encode("utf-8", "surrogatepass"), "sha256").hex()

    def matches(self, secret: str, stored_hash: str | None) -> bool:
        return stored_hash is not None and hmac.compare_digest(self.hash(secret), stored_hash)
