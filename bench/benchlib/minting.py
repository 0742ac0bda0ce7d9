"""Minting single-use credentials over HTTP before a pool workload: authorization codes obtained by
driving each server's authorize/consent flow as a browser would, a few clients in parallel."""

from __future__ import annotations

import base64
import hashlib
from concurrent.futures import ThreadPoolExecutor
from typing import Callable
from urllib.parse import parse_qs, urlsplit

import requests

PKCE_VERIFIER = "bench-verifier-" + "x" * 48
PKCE_CHALLENGE = base64.urlsafe_b64encode(hashlib.sha256(PKCE_VERIFIER.encode()).digest()).rstrip(b"=").decode()
MINT_THREADS = 4


def code_from(response: requests.Response) -> str:
    if response.status_code not in (301, 302, 303):
        raise RuntimeError(f"expected a redirect with a code, got {response.status_code}: {response.text[:300]}")
    query = parse_qs(urlsplit(response.headers["Location"]).query)
    if "code" not in query:
        raise RuntimeError(f"no code in {response.headers['Location']}")
    return query["code"][0]


def mint(count: int, session: requests.Session, one: Callable[[requests.Session], str]) -> list[str]:
    """``count`` results of ``one(session)``, each thread with its own copy of the signed-in session."""
    def batch(n: int) -> list[str]:
        own = requests.Session()
        own.cookies.update(session.cookies)
        return [one(own) for _ in range(n)]

    shares = [count // MINT_THREADS + (1 if i < count % MINT_THREADS else 0) for i in range(MINT_THREADS)]
    with ThreadPoolExecutor(MINT_THREADS) as pool:
        return [code for part in pool.map(batch, shares) for code in part]
