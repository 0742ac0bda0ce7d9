"""Production guard and headers (issue 7 §6–7): `authgate serve` refuses an insecure
configuration outside development and says what to fix; every response carries nosniff, every
page anti-framing and a CSP, https issuers get HSTS; the password grant can be switched off
server-wide (RFC 9700 §2.4: the password grant MUST NOT be used, so it must be possible to refuse it)."""

from __future__ import annotations

import subprocess
import sys

import requests

from support import password_grant


def serve(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "authgate", "serve", *args], env=env, capture_output=True,
                          text=True, timeout=60)


def test_plain_http_issuer_off_loopback_is_refused(server, tmp_path):
    env = {**server.env, "AUTHGATE_ISSUER": "http://auth.example.com",
           "AUTHGATE_DATABASE_URL": f"sqlite:///{tmp_path}/guard.db"}
    proc = serve(env, "--port", "1")
    assert proc.returncode != 0
    assert "AUTHGATE_ISSUER" in proc.stderr and "https" in proc.stderr and "Traceback" not in proc.stderr


def test_binding_beyond_loopback_needs_an_https_issuer(server, tmp_path):
    env = {k: v for k, v in server.env.items() if k != "AUTHGATE_ISSUER"}
    env["AUTHGATE_DATABASE_URL"] = f"sqlite:///{tmp_path}/guard.db"
    proc = serve(env, "--host", "0.0.0.0", "--port", "1")
    assert proc.returncode != 0 and "--host 0.0.0.0" in proc.stderr


def test_headers_on_pages_and_json(server):
    page = requests.get(server.url("/login"), timeout=10)
    assert page.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    api = requests.get(server.url("/api/1.0/users/me"), timeout=10)
    assert api.headers["X-Content-Type-Options"] == "nosniff"
    assert "Strict-Transport-Security" not in page.headers, "no HSTS over plain http"


def test_https_issuer_gets_hsts(server_factory):
    srv = server_factory({"AUTHGATE_ISSUER": "https://auth.example.test"})
    r = requests.get(srv.url("/healthz"), timeout=10)
    assert r.headers["Strict-Transport-Security"].startswith("max-age=")


def test_password_grant_switched_off_server_wide(server_factory):
    srv = server_factory({"AUTHGATE_DISABLE_PASSWORD_GRANT": "1"})
    client = srv.create_client(grants=["password"])
    r = password_grant(srv, client, srv.create_user())
    assert r.status_code == 400 and r.json()["error"] == "unsupported_grant_type"
