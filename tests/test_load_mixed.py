"""A sustained mixed load (issue 7 §Tests): token issuance, API calls, introspection and revocation
from 8 threads for a bounded time on loopback; every answer is the expected one (no error at all),
revoked tokens stay refused, and the server's memory stays bounded. The figures are printed
(`pytest -s`); speed is measured by the benchmark in bench/, not here."""

from __future__ import annotations

import collections
import threading
import time
from pathlib import Path

import requests

from support import HTTP_TIMEOUT, introspect, password_grant, revoke, token_request, users_me

SECONDS = 12
THREADS = 8
MAX_RSS_MB = 300


def rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("VmRSS:")).split()[1]) / 1024


def test_mixed_load_without_errors_and_with_bounded_memory(server_factory):
    srv = server_factory({"AUTHGATE_LIMIT_TOKEN_PER_IP": "off", "AUTHGATE_LIMIT_TOKEN_PER_CLIENT": "off"})
    service = srv.create_client(grants=["client_credentials"])
    app = srv.create_client(grants=["password"])
    user = srv.create_user()
    bearer = password_grant(srv, app, user).json()["access_token"]
    start_rss = rss_mb(srv.proc.pid)
    counts: collections.Counter = collections.Counter()
    errors: list[str] = []
    lock = threading.Lock()
    deadline = time.monotonic() + SECONDS

    def expect(name: str, ok: bool, detail: str) -> None:
        with lock:
            counts[name] += 1
            if not ok:
                errors.append(f"{name}: {detail[:200]}")

    def worker(n: int) -> None:
        while time.monotonic() < deadline:
            try:
                r = token_request(srv, {"grant_type": "client_credentials"}, auth=service.basic)
                expect("issue", r.status_code == 200, r.text)
                token = r.json().get("access_token", "")
                r = users_me(srv, bearer)
                expect("api", r.status_code == 200, r.text)
                r = introspect(srv, service, token)
                expect("introspect", r.status_code == 200 and r.json().get("active") is True, r.text)
                if n % 2 == 0:
                    r = revoke(srv, service, token)
                    expect("revoke", r.status_code == 200, r.text)
                    r = introspect(srv, service, token)
                    expect("introspect-revoked", r.json() == {"active": False}, r.text)
            except (requests.RequestException, ValueError) as error:
                expect("transport", False, repr(error))

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(SECONDS + 60)
    end_rss = rss_mb(srv.proc.pid)
    total = sum(counts.values())
    print(f"\nmixed load: {total} requests in {SECONDS}s ({total / SECONDS:.0f}/s) {dict(counts)}; "
          f"errors {len(errors)}; server RSS {start_rss:.0f} -> {end_rss:.0f} MB")
    assert not errors, errors[:5]
    assert counts["issue"] >= 50 and counts["revoke"] >= 10
    assert end_rss < MAX_RSS_MB
    assert requests.get(srv.url("/healthz"), timeout=HTTP_TIMEOUT).status_code == 200
