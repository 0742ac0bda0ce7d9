"""Encryption at rest for the keys authgate keeps in its database (AES-256-GCM).

Private signing keys and the server secrets (the HMAC key of stored secrets, the CSRF key) are
sealed under a key derived (HKDF-SHA-256) from ``AUTHGATE_SECRET_KEY`` when one is set, so a copy
of the database alone can neither sign tokens nor compute the hashes that find stored secrets.

A sealed value is text, ``agenc:v1:<key id>:<base64 nonce+ciphertext>``, bound to its row by the
associated data (``context``: table and name), so one row cannot be pasted over another. The key id
names the secret that sealed it, so a missing or wrong secret is reported as such rather than as a
corrupt row. Values in clear (written before a secret was set) still read.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from authgate.settings import SettingsError

PREFIX = "agenc:v1:"
HOW_TO_SET = "set AUTHGATE_SECRET_KEY or AUTHGATE_SECRET_KEY_FILE to the secret key they were encrypted with"


class SecretKeyError(SettingsError):
    """A stored key cannot be read with the secret key(s) configured."""


class _Key:
    def __init__(self, secret: str):
        raw = secret.encode("utf-8")
        self.id = hmac.new(raw, b"authgate at-rest key id", hashlib.sha256).hexdigest()[:16]
        derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"authgate at-rest v1").derive(raw)
        self.aead = AESGCM(derived)


def is_sealed(value: str) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX)


class SecretBox:
    """Seals with the current secret key (when set); opens with it or with the old one (during a change)."""

    def __init__(self, secret: str | None, old_secret: str | None = None):
        self._current = _Key(secret) if secret else None
        self._keys = {k.id: k for k in (_Key(s) for s in (old_secret, secret) if s)}

    @property
    def enabled(self) -> bool:
        return self._current is not None

    def seal(self, plaintext: bytes, context: str) -> str:
        nonce = os.urandom(12)
        sealed = self._current.aead.encrypt(nonce, plaintext, context.encode())
        return f"{PREFIX}{self._current.id}:{base64.b64encode(nonce + sealed).decode('ascii')}"

    def seal_if_enabled(self, plaintext: bytes, context: str, clear: str) -> str:
        """The sealed value when a secret key is set, else ``clear`` (the value as stored without one)."""
        return self.seal(plaintext, context) if self.enabled else clear

    def is_current(self, value: str) -> bool:
        """Sealed under the current secret key (nothing to re-encrypt)."""
        return is_sealed(value) and self._current is not None and value[len(PREFIX):].startswith(self._current.id + ":")

    def open(self, value: str, context: str) -> bytes:
        key_id, _, data = value[len(PREFIX):].partition(":")
        key = self._keys.get(key_id)
        if key is None:
            if not self._keys:
                raise SecretKeyError(f"the database holds encrypted keys ({context}): {HOW_TO_SET}")
            raise SecretKeyError(
                f"{context} is encrypted under another secret key than AUTHGATE_SECRET_KEY "
                f"(or AUTHGATE_OLD_SECRET_KEY): {HOW_TO_SET}")
        try:
            raw = base64.b64decode(data, validate=True)
            return key.aead.decrypt(raw[:12], raw[12:], context.encode())
        except (InvalidTag, ValueError):
            raise SecretKeyError(f"{context} does not decrypt: the stored value was altered or belongs to another row") from None
