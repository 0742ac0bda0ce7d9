"""What a new password must be: long enough and, when a list is configured, not a known breached one."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from authgate.services.errors import Invalid
from authgate.settings import Settings


@lru_cache(maxsize=4)
def _blocklist(path: str) -> frozenset[str]:
    lines = Path(path).read_text(encoding="utf-8", errors="replace").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip())


class PasswordPolicy:
    def __init__(self, settings: Settings):
        self.min_length = settings.password_min_length
        self.blocklist_path = settings.password_blocklist

    def check(self, password: str) -> None:
        if len(password) < self.min_length:
            raise Invalid(f"password must be at least {self.min_length} characters", field="password")
        if len(password) > 1024:
            raise Invalid("password must be at most 1024 characters", field="password")
        if self.blocklist_path and password.strip().lower() in _blocklist(self.blocklist_path):
            raise Invalid("this password appears in a list of breached passwords; choose another", field="password")
