"""Input limits (issue 7 §4): a body over the ceiling is refused with 413 — declared or streamed —
before it is read into memory, on every route; the server keeps serving afterwards."""

from __future__ import annotations

import requests

from support import HTTP_TIMEOUT, api_for

CEILING = 1024 * 1024


def test_declared_oversized_json_body_is_413(server):
    api = api_for(server, "admin")
    r = requests.post(server.url("/api/1.0/users"), data=b"{" + b" " * (CEILING + 10) + b"}",
                      headers={"Authorization": f"Bearer {api.token}", "Content-Type": "application/json"},
                      timeout=HTTP_TIMEOUT)
    assert r.status_code == 413 and "larger than" in r.json()["message"]


def test_streamed_oversized_body_is_413(server):
    def chunks():
        for _ in range(20):
            yield b"x" * (128 * 1024)

    r = requests.post(server.url("/oauth/token"), data=chunks(), timeout=HTTP_TIMEOUT)  # chunked: no length
    assert r.status_code in (400, 413)
    assert r.json().get("error") == "invalid_request" or "larger than" in r.json().get("message", "")
    r = requests.post(server.url("/api/1.0/groups"), data=chunks(), timeout=HTTP_TIMEOUT,
                      headers={"Authorization": f"Bearer {api_for(server, 'admin').token}"})
    assert r.status_code == 413


def test_server_keeps_serving(server):
    assert requests.get(server.url("/healthz"), timeout=HTTP_TIMEOUT).status_code == 200
