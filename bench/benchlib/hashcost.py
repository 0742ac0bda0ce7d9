"""What one password check costs each server, timed in this process (median of a few verifies):
the floor under W6, and for django-oauth-toolkit under every client-authenticated request too."""

from __future__ import annotations

import statistics
import time


def _median_ms(check, rounds: int = 5) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        check()
        times.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(times), 1)


def password_check_ms() -> dict:
    from argon2 import PasswordHasher
    from authgate.settings import load
    from django.conf import settings as django_settings
    from werkzeug.security import check_password_hash, generate_password_hash

    ours = load()
    argon2 = PasswordHasher(time_cost=ours.argon2_time_cost, memory_cost=ours.argon2_memory_kib, parallelism=1)
    argon2_hash = argon2.hash("correct horse")
    scrypt_hash = generate_password_hash("correct horse")
    if not django_settings.configured:
        django_settings.configure()
    from django.contrib.auth.hashers import PBKDF2PasswordHasher

    pbkdf2 = PBKDF2PasswordHasher()
    pbkdf2_hash = pbkdf2.encode("correct horse", pbkdf2.salt())
    return {
        "authgate": _median_ms(lambda: argon2.verify(argon2_hash, "correct horse")),
        "authlib_flask": _median_ms(lambda: check_password_hash(scrypt_hash, "correct horse")),
        "dot": _median_ms(lambda: pbkdf2.verify("correct horse", pbkdf2_hash), rounds=3),
    }
