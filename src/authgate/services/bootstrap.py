"""What a first start makes: server-generated keys, a signing key and the first administrator."""

from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from authgate.storage.models import ServerSecret

ADMIN_USERNAME = "admin"


def server_secret(s: Session, name: str) -> bytes:
    """The server-wide secret ``name``, made on first use; the same for every instance on the database."""
    value = s.scalar(select(ServerSecret.value).where(ServerSecret.name == name))
    if value is None:
        s.add(ServerSecret(name=name, value=secrets.token_hex(32)))
        s.flush()
        value = s.scalar(select(ServerSecret.value).where(ServerSecret.name == name))
    return bytes.fromhex(value)


def generated_admin_password() -> str:
    return secrets.token_urlsafe(12)
