"""The authorization server's signing keys (``jwks_uri`` from its metadata), kept for ``ttl`` seconds and
fetched again when a token names a key not among them (a rotation) — at most once per ``refetch_after``
seconds, so tokens with made-up ``kid``s cannot make this fetch on every request."""

from __future__ import annotations

import threading
import time

import httpx
from joserfc.jwk import KeySet

from authgate_client.errors import ServerError


class Jwks:
    def __init__(self, http: httpx.Client, url_of, ttl: float = 300.0, refetch_after: float = 30.0):
        self.http = http
        self.url_of = url_of
        self.ttl = ttl
        self.refetch_after = refetch_after
        self._lock = threading.Lock()
        self._keys: KeySet | None = None
        self._kids: set[str] = set()
        self._fetched_at = float("-inf")

    def key_set(self, kid: str | None) -> KeySet:
        with self._lock:
            age = time.monotonic() - self._fetched_at
            stale = self._keys is None or age > self.ttl
            unknown = kid is not None and kid not in self._kids and age > self.refetch_after
            if stale or unknown:
                self._fetch()
            return self._keys

    def _fetch(self) -> None:
        url = self.url_of()
        try:
            response = self.http.get(url, headers={"Accept": "application/json"})
            response.raise_for_status()
            document = response.json()
            keys = KeySet.import_key_set(document)
        except (httpx.HTTPError, ValueError) as error:
            if self._keys is None:
                raise ServerError(f"cannot read the authorization server's keys at {url}: {error}") from error
            self._fetched_at = time.monotonic()  # keep the keys we have; try again later
            return
        self._keys = keys
        self._kids = {key.get("kid") for key in document.get("keys", []) if isinstance(key, dict)}
        self._fetched_at = time.monotonic()
