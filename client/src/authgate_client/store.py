"""Where tokens are kept between runs: one entry per server + client + user.

``FileStore`` writes one JSON file per entry (mode 0600, in a 0700 directory, replaced atomically);
``KeyringStore`` keeps the entries in the OS keyring (the optional ``keyring`` package) and only its
lock files on disk; ``MemoryStore`` forgets everything when the process ends. Every store gives each
entry a lock that holds across threads and, for the first two, across processes.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from authgate_client.errors import ConfigurationError
from authgate_client.locking import file_lock, thread_lock
from authgate_client.tokens import TokenSet

CACHE_DIR_ENV = "AUTHGATE_CLIENT_CACHE_DIR"
KEYRING_SERVICE = "authgate-client"


@dataclass(frozen=True)
class CacheKey:
    issuer: str
    client_id: str
    user: str

    @property
    def name(self) -> str:
        return _digest(self.issuer, self.client_id, self.user)


def _digest(*parts: str) -> str:
    return hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()[:32]


def default_cache_dir() -> Path:
    configured = os.environ.get(CACHE_DIR_ENV)
    if configured:
        return Path(configured).expanduser()
    if os.name == "nt":  # pragma: no cover
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "authgate-client"


def ensure_private_dir(directory: Path) -> Path:
    if not directory.is_dir():
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    return directory


def write_private(path: Path, data: bytes) -> None:
    """Replace ``path`` atomically with ``data``, readable by its owner only: a reader sees the old
    file or the new one, never half of one."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


class TokenStore(Protocol):
    def load(self, key: CacheKey) -> TokenSet | None: ...
    def save(self, key: CacheKey, tokens: TokenSet) -> None: ...
    def delete(self, key: CacheKey) -> None: ...
    def lock(self, key: CacheKey) -> AbstractContextManager[None]: ...
    def current_user(self, issuer: str, client_id: str) -> str | None: ...
    def set_current_user(self, issuer: str, client_id: str, user: str | None) -> None: ...


class _DiskPointers:
    """Lock files and the "who signed in last" pointer of each server + client, on disk."""

    def __init__(self, directory: Path | str | None = None):
        self.directory = Path(directory) if directory is not None else default_cache_dir()

    def _dir(self) -> Path:
        return ensure_private_dir(self.directory)

    def lock(self, key: CacheKey) -> AbstractContextManager[None]:
        return file_lock(self._dir() / f"{key.name}.lock")

    def _pointer(self, issuer: str, client_id: str) -> Path:
        return self._dir() / f"{_digest(issuer, client_id)}.current.json"

    def current_user(self, issuer: str, client_id: str) -> str | None:
        data = read_json(self._pointer(issuer, client_id))
        user = data.get("user") if data else None
        return user if isinstance(user, str) else None

    def set_current_user(self, issuer: str, client_id: str, user: str | None) -> None:
        path = self._pointer(issuer, client_id)
        if user is None:
            path.unlink(missing_ok=True)
        else:
            write_private(path, json.dumps({"issuer": issuer, "client_id": client_id, "user": user}).encode())


class FileStore(_DiskPointers):
    """One JSON file per entry in ``directory`` (default ``~/.cache/authgate-client``, or
    ``$AUTHGATE_CLIENT_CACHE_DIR``)."""

    def path(self, key: CacheKey) -> Path:
        return self._dir() / f"{key.name}.json"

    def load(self, key: CacheKey) -> TokenSet | None:
        data = read_json(self.path(key))
        if not data or not isinstance(data.get("tokens"), dict):
            return None
        try:
            return TokenSet.from_dict(data["tokens"])
        except TypeError:
            return None

    def save(self, key: CacheKey, tokens: TokenSet) -> None:
        entry = {"issuer": key.issuer, "client_id": key.client_id, "user": key.user, "tokens": tokens.to_dict()}
        write_private(self.path(key), json.dumps(entry, indent=1).encode("utf-8"))

    def delete(self, key: CacheKey) -> None:
        self.path(key).unlink(missing_ok=True)


class KeyringStore(_DiskPointers):
    """Entries in the OS keyring (``pip install 'authgate-client[keyring]'``); locks on disk."""

    def __init__(self, directory: Path | str | None = None):
        super().__init__(directory)
        try:
            import keyring
        except ImportError:
            raise ConfigurationError(
                "store='keyring' needs the keyring package: pip install 'authgate-client[keyring]'"
            ) from None
        self._keyring = keyring

    def load(self, key: CacheKey) -> TokenSet | None:
        raw = self._keyring.get_password(KEYRING_SERVICE, key.name)
        if not raw:
            return None
        try:
            return TokenSet.from_dict(json.loads(raw))
        except (ValueError, TypeError):
            return None

    def save(self, key: CacheKey, tokens: TokenSet) -> None:
        self._keyring.set_password(KEYRING_SERVICE, key.name, json.dumps(tokens.to_dict()))

    def delete(self, key: CacheKey) -> None:
        try:
            self._keyring.delete_password(KEYRING_SERVICE, key.name)
        except self._keyring.errors.PasswordDeleteError:
            pass


class MemoryStore:
    """Tokens for this process only (nothing is written anywhere)."""

    def __init__(self) -> None:
        self._entries: dict[CacheKey, TokenSet] = {}
        self._current: dict[tuple[str, str], str] = {}
        self._id = id(self)

    def load(self, key: CacheKey) -> TokenSet | None:
        return self._entries.get(key)

    def save(self, key: CacheKey, tokens: TokenSet) -> None:
        self._entries[key] = tokens

    def delete(self, key: CacheKey) -> None:
        self._entries.pop(key, None)

    @contextmanager
    def lock(self, key: CacheKey) -> Iterator[None]:
        with thread_lock(Path(f"memory-{self._id}-{key.name}")):
            yield

    def current_user(self, issuer: str, client_id: str) -> str | None:
        return self._current.get((issuer, client_id))

    def set_current_user(self, issuer: str, client_id: str, user: str | None) -> None:
        if user is None:
            self._current.pop((issuer, client_id), None)
        else:
            self._current[(issuer, client_id)] = user


def make_store(store: "str | TokenStore | None", cache_dir: Path | str | None = None) -> TokenStore:
    if store is None or store == "file":
        return FileStore(cache_dir)
    if store == "keyring":
        return KeyringStore(cache_dir)
    if store == "memory":
        return MemoryStore()
    if isinstance(store, str):
        raise ConfigurationError(f"unknown store {store!r}: use 'file', 'keyring' or 'memory'")
    return store
