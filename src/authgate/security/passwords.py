"""Passwords chosen by people: argon2id (argon2-cffi), with the cost taken from the settings.

Each hash takes ``AUTHGATE_ARGON2_MEMORY_KIB`` of memory for its duration, so no more of them run at
once than there are cores (more would not finish sooner, only hold more memory): a burst of sign-ins
queues instead of growing the worker by tens of MiB a request.

Hashes imported from ProcessMaker / Laravel are bcrypt (``$2y$``, ``$2b$``, ``$2a$``); they are
verified with the ``bcrypt`` package and reported as needing a rehash, so the next successful
sign-in replaces them with argon2id.
"""

from __future__ import annotations

import os
import threading

import bcrypt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from authgate.settings import Settings

BCRYPT_PREFIXES = ("$2y$", "$2b$", "$2a$")


def is_bcrypt(password_hash: str) -> bool:
    return password_hash.startswith(BCRYPT_PREFIXES)


def is_supported_hash(password_hash: str) -> bool:
    return is_bcrypt(password_hash) or password_hash.startswith("$argon2id$")


class Passwords:
    def __init__(self, settings: Settings):
        self._hasher = PasswordHasher(
            time_cost=settings.argon2_time_cost,
            memory_cost=settings.argon2_memory_kib,
            parallelism=1,
        )
        self._turns = threading.BoundedSemaphore(os.cpu_count() or 1)
        self._dummy_hash = self.hash("authgate-dummy-password")

    def hash(self, password: str) -> str:
        with self._turns:
            return self._hasher.hash(password)

    def verify(self, password_hash: str | None, password: str) -> bool:
        """True when ``password`` matches; takes as long for an unknown user (``password_hash=None``)."""
        if password_hash and is_bcrypt(password_hash):
            return self._verify_bcrypt(password_hash, password)
        try:
            with self._turns:
                return self._hasher.verify(password_hash or self._dummy_hash, password) and password_hash is not None
        except (VerificationError, InvalidHashError):
            return False

    @staticmethod
    def _verify_bcrypt(password_hash: str, password: str) -> bool:
        try:
            return bcrypt.checkpw(password.encode("utf-8", "surrogatepass")[:72], password_hash.encode("ascii"))
        except ValueError:
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        return is_bcrypt(password_hash) or self._hasher.check_needs_rehash(password_hash)
