"""Seal a value under a key derived from a bearer secret the server does not keep (AES-256-GCM).

Used for the refresh grace window: the pair issued by a rotation is sealed with the old refresh
token, so only a client presenting that token again can read it back.
"""

from __future__ import annotations

import base64
import hashlib
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

CONTEXT = b"authgate-seal-v1:"


def _key(secret: str) -> bytes:
    return hashlib.sha256(CONTEXT + secret.encode("utf-8", "surrogatepass")).digest()


def seal(secret: str, plaintext: bytes) -> str:
    nonce = os.urandom(12)
    return base64.b64encode(nonce + AESGCM(_key(secret)).encrypt(nonce, plaintext, None)).decode("ascii")


def unseal(secret: str, sealed: str) -> bytes | None:
    try:
        raw = base64.b64decode(sealed)
        return AESGCM(_key(secret)).decrypt(raw[:12], raw[12:], None)
    except (InvalidTag, ValueError):
        return None
