"""Passwords chosen by people: argon2id (argon2-cffi), with the cost taken from the settings.

Each hash takes ``AUTHGATE_ARGON2_MEMORY_KIB`` of memory for its duration, so hashing runs on a pool
of as many threads as there are cores (more at once would not finish sooner, only hold more memory):
a burst of sign-ins queues instead of growing the worker. The pool also keeps those allocations in a
few threads: glibc's malloc keeps an arena per thread and raises its mmap threshold after the first
large free, so the same hashes spread over the 40 request threads left ~270 MB resident after a burst.

Hashes imported from ProcessMaker / Laravel are bcrypt (``$2y$``, ``$2b$``, ``$2a$``); they are
verified with the ``bcrypt`` package and reported as needing a rehash, so the next successful
sign-in replaces them with argon2id.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from functools import cached_property

from authgate.settings import Settings

BCRYPT_PREFIXES = ("$2y$", "$2b$", "$2a$")


def is_bcrypt(password_hash: str) -> bool:
    return password_hash.startswith(BCRYPT_PREFIXES)


def is_supported_hash(password_hash: str) -> bool:
    return is_bcrypt(password_hash) or password_hash.startswith("$argon2id$")


class Passwords:
    """argon2 and bcrypt are imported at the first hash or check, not when the service is built: most
    commands of the CLI check no password."""

    def __init__(self, settings: Settings):
        self._settings = settings
        self._pool = ThreadPoolExecutor(max_workers=os.cpu_count() or 1, thread_name_prefix="authgate-argon2")
        self._dummy: str | None = None

    def dummy_hash(self) -> str:
        """The hash an unknown user's password is checked against, made on first need; the server makes
        it at start, so that the first unknown user's check takes no longer than the next."""
        if self._dummy is None:
            self._dummy = self.hash("authgate-dummy-password")
        return self._dummy

    @cached_property
    def _hasher(self):
        from argon2 import PasswordHasher

        return PasswordHasher(
            time_cost=self._settings.argon2_time_cost,
            memory_cost=self._settings.argon2_memory_kib,
            parallelism=1,
        )

    def hash(self, password: str) -> str:
        return self._pool.submit(self._hasher.hash, password).result()

    def verify(self, password_hash: str | None, password: str) -> bool:
        """True when ``password`` matches; takes as long for an unknown user (``password_hash=None``)."""
        if password_hash and is_bcrypt(password_hash):
            return self._verify_bcrypt(password_hash, password)
        from argon2.exceptions import InvalidHashError, VerificationError

        try:
            matches = self._pool.submit(self._hasher.verify, password_hash or self.dummy_hash(), password).result()
            return matches and password_hash is not None
        except (VerificationError, InvalidHashError):
            return False

    @staticmethod
    def _verify_bcrypt(password_hash: str, password: str) -> bool:
        import bcrypt

        try:
            return bcrypt.checkpw(password.encode("utf-8", "surrogatepass")[:72], password_hash.encode("ascii"))
        except ValueError:
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        return is_bcrypt(password_hash) or self._hasher.check_needs_rehash(password_hash)
