"""What a first start makes: server-generated keys, a signing key and the first administrator.

The server secrets are sealed under the secret key when one is set (``security/encryption.py``);
rows stored in clear still read, and ``reseal_server_secrets`` encrypts them (``authgate keys encrypt``).
"""

from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from authgate.security.encryption import SecretBox, is_sealed
from authgate.storage.models import ServerSecret

ADMIN_USERNAME = "admin"


def _context(name: str) -> str:
    return f"server_secrets/{name}"


def _read(box: SecretBox, name: str, value: str) -> bytes:
    return box.open(value, _context(name)) if is_sealed(value) else bytes.fromhex(value)


def server_secret(s: Session, name: str, box: SecretBox) -> bytes:
    """The server-wide secret ``name``, made on first use; the same for every instance on the database."""
    value = s.scalar(select(ServerSecret.value).where(ServerSecret.name == name))
    if value is None:
        raw = secrets.token_bytes(32)
        s.add(ServerSecret(name=name, value=box.seal_if_enabled(raw, _context(name), raw.hex())))
        s.flush()
        value = s.scalar(select(ServerSecret.value).where(ServerSecret.name == name))
    return _read(box, name, value)


def reseal_server_secrets(s: Session, box: SecretBox) -> int:
    """Encrypt every server secret under the box's current secret key; how many rows changed."""
    changed = 0
    for row in s.scalars(select(ServerSecret)):
        if not box.is_current(row.value):
            row.value = box.seal(_read(box, row.name, row.value), _context(row.name))
            changed += 1
    return changed


def count_in_clear(s: Session) -> int:
    return sum(not is_sealed(value) for value in s.scalars(select(ServerSecret.value)))


def generated_admin_password() -> str:
    return secrets.token_urlsafe(12)
