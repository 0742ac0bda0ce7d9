"""What a first start makes: server-generated keys, a signing key and the first administrator.

The server secrets are sealed under the secret key when one is set (``security/encryption.py``);
rows stored in clear still read, and ``reseal_server_secrets`` encrypts them (``authgate keys encrypt``).
They are read and written through ``SECRETS`` (functions called at start and by the key service, so
the store is the module's rather than one given to a constructor).
"""

from __future__ import annotations

import secrets

from sqlalchemy.orm import Session

from authgate.security.encryption import SecretBox, is_sealed
from authgate.storage.repositories.server_secrets import ServerSecretStore, SqlServerSecretStore

ADMIN_USERNAME = "admin"
SECRETS: ServerSecretStore = SqlServerSecretStore()


def _context(name: str) -> str:
    return f"server_secrets/{name}"


def _read(box: SecretBox, name: str, value: str) -> bytes:
    return box.open(value, _context(name)) if is_sealed(value) else bytes.fromhex(value)


def server_secret(s: Session, name: str, box: SecretBox) -> bytes:
    """The server-wide secret ``name``, made on first use; the same for every instance on the database."""
    value = SECRETS.value_of(s, name)
    if value is None:
        raw = secrets.token_bytes(32)
        SECRETS.add(s, name, box.seal_if_enabled(raw, _context(name), raw.hex()))
        value = SECRETS.value_of(s, name)
    return _read(box, name, value)


def reseal_server_secrets(s: Session, box: SecretBox) -> int:
    """Encrypt every server secret under the box's current secret key; how many rows changed."""
    changed = 0
    for row in SECRETS.all(s):
        if not box.is_current(row.value):
            row.value = box.seal(_read(box, row.name, row.value), _context(row.name))
            changed += 1
    return changed


def count_in_clear(s: Session) -> int:
    return sum(not is_sealed(value) for value in SECRETS.values(s))


def generated_admin_password() -> str:
    return secrets.token_urlsafe(12)
