"""Every setting authgate reads, in one place, from ``AUTHGATE_*`` environment variables."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, not {raw!r}") from None
    if value <= 0:
        raise SettingsError(f"{name} must be positive, not {value}")
    return value


class SettingsError(ValueError):
    """A setting in the environment has a value authgate cannot use."""


@dataclass(frozen=True)
class Settings:
    database_url: str
    issuer: str
    auth_code_ttl: int
    access_token_ttl: int
    refresh_token_ttl: int
    personal_token_ttl: int
    admin_password: str | None
    argon2_time_cost: int
    argon2_memory_kib: int
    session_ttl: int
    device_code_ttl: int = 600
    device_poll_interval: int = 5

    @property
    def secure_cookies(self) -> bool:
        return self.issuer.startswith("https://")


def default_database_url() -> str:
    return "sqlite:///" + os.path.abspath(os.path.join("var", "authgate.db"))


def load(host: str = DEFAULT_HOST, port: int = DEFAULT_PORT) -> Settings:
    """Read the environment; ``host``/``port`` only shape the default issuer."""
    issuer = os.environ.get("AUTHGATE_ISSUER") or f"http://{host}:{port}"
    return Settings(
        database_url=os.environ.get("AUTHGATE_DATABASE_URL") or default_database_url(),
        issuer=issuer.rstrip("/"),
        auth_code_ttl=_int("AUTHGATE_AUTH_CODE_TTL", 600),
        access_token_ttl=_int("AUTHGATE_ACCESS_TOKEN_TTL", 3600),
        refresh_token_ttl=_int("AUTHGATE_REFRESH_TOKEN_TTL", 30 * 24 * 3600),
        personal_token_ttl=_int("AUTHGATE_PERSONAL_TOKEN_TTL", 365 * 24 * 3600),
        admin_password=os.environ.get("AUTHGATE_ADMIN_PASSWORD") or None,
        argon2_time_cost=_int("AUTHGATE_ARGON2_TIME_COST", 3),
        argon2_memory_kib=_int("AUTHGATE_ARGON2_MEMORY_KIB", 65536),
        session_ttl=_int("AUTHGATE_SESSION_TTL", 8 * 3600),
        device_code_ttl=_int("AUTHGATE_DEVICE_CODE_TTL", 600),
        device_poll_interval=_int("AUTHGATE_DEVICE_POLL_INTERVAL", 5),
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return load(
        os.environ.get("AUTHGATE_HOST", DEFAULT_HOST),
        int(os.environ.get("AUTHGATE_PORT", DEFAULT_PORT)),
    )
