"""Small value types (a seeded user or client) and generic helpers: unique names, PKCE pairs, URLs, JWT parts, waiting."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import subprocess
import time
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit, urlunsplit





_counter = 0


def unique(prefix: str) -> str:
    global _counter
    _counter += 1
    return f"{prefix}{_counter}x{secrets.token_hex(3)}"


@dataclass
class User:
    username: str
    password: str
    email: str
    id: object
    data: dict = field(default_factory=dict)

    def __iter__(self):
        """`username, password = make_user()`"""
        return iter((self.username, self.password))


@dataclass
class Client:
    client_id: str
    client_secret: str | None
    name: str
    redirect_uris: list
    data: dict = field(default_factory=dict)

    @property
    def redirect_uri(self) -> str:
        return self.redirect_uris[0]

    @property
    def basic(self):
        return (self.client_id, self.client_secret)


def pkce_pair(verifier: str | None = None) -> tuple[str, str]:
    """(code_verifier, S256 code_challenge) per RFC 7636 §4.1-4.2."""
    verifier = verifier or secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
    return verifier, challenge


def query_params(url: str) -> dict:
    """Single-valued query parameters of a URL (asserts nothing is repeated)."""
    parsed = parse_qs(urlsplit(url).query, keep_blank_values=True)
    for k, v in parsed.items():
        assert len(v) == 1, f"parameter {k} repeated in {url}"
    return {k: v[0] for k, v in parsed.items()}


def without_query(url: str) -> str:
    p = urlsplit(url)
    return urlunsplit((p.scheme, p.netloc, p.path, "", ""))


def one_line_error(proc: subprocess.CompletedProcess) -> str:
    """Assert the CLI failed the way the contract says: exit != 0, exactly one
    non-empty line on stderr, no traceback. Returns that line."""
    assert proc.returncode != 0, f"expected failure, got exit 0; stdout={proc.stdout!r}"
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one line on stderr, got {proc.stderr!r}"
    return lines[0]


def jwt_parts(token: str) -> tuple[dict, dict]:
    """Header and claims of a compact JWS, *without* verifying it."""
    def dec(s: str) -> dict:
        return json.loads(base64.urlsafe_b64decode(s + "=" * (-len(s) % 4)))
    h, p, _ = token.split(".")
    return dec(h), dec(p)


def b64url_json(obj: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj, separators=(",", ":")).encode()).rstrip(b"=").decode()


def eventually(produce, accept, timeout: float = 3.0, pause: float = 0.1):
    """``produce()`` until ``accept(value)``, for what other workers learn within a poll interval
    (a key rotated from the CLI is used by a running server within ~0.5 s); the last value otherwise."""
    deadline = time.monotonic() + timeout
    value = produce()
    while not accept(value) and time.monotonic() < deadline:
        time.sleep(pause)
        value = produce()
    return value
