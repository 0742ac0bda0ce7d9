"""What ``authgate-client login`` remembers for the later commands: per issuer, the client (id,
secret, scopes, store), and which issuer was used last. One 0600 JSON file in the cache directory,
beside the tokens (the client secret is no more sensitive than the refresh token next to it)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from authgate_client.errors import LoginRequired
from authgate_client.store import default_cache_dir, ensure_private_dir, read_json, write_private

FILE_NAME = "profiles.json"


@dataclass
class Profile:
    issuer: str
    client_id: str
    client_secret: str | None = None
    scopes: list[str] = field(default_factory=list)
    store: str = "file"


class Profiles:
    def __init__(self, directory: Path | None = None):
        self.directory = directory or default_cache_dir()

    @property
    def path(self) -> Path:
        return self.directory / FILE_NAME

    def _read(self) -> dict[str, Any]:
        data = read_json(self.path) or {}
        if not isinstance(data.get("profiles"), dict):
            data["profiles"] = {}
        return data

    def save(self, profile: Profile) -> None:
        data = self._read()
        data["profiles"][profile.issuer] = asdict(profile)
        data["current"] = profile.issuer
        ensure_private_dir(self.directory)
        write_private(self.path, json.dumps(data, indent=1).encode("utf-8"))

    def get(self, issuer: str | None) -> Profile:
        data = self._read()
        chosen = (issuer or data.get("current") or "").rstrip("/")
        entry = data["profiles"].get(chosen)
        if not chosen or not isinstance(entry, dict):
            where = f" to {chosen}" if chosen else ""
            raise LoginRequired(f"not signed in{where}: run `authgate-client login --issuer URL --client-id ID` first")
        return Profile(**{k: entry[k] for k in Profile.__dataclass_fields__ if k in entry})

    def forget(self, issuer: str) -> None:
        data = self._read()
        data["profiles"].pop(issuer, None)
        if data.get("current") == issuer:
            data["current"] = next(iter(data["profiles"]), None)
        if self.path.exists():
            write_private(self.path, json.dumps(data, indent=1).encode("utf-8"))
