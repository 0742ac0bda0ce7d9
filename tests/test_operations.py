"""Operations (issue 8): liveness and readiness, Prometheus metrics by route template, request ids
and JSON logs that never carry a secret, and ``authgate serve --workers N``."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import requests

from support import ServerProcess, free_port, password_grant, users_me


def test_readyz_reports_database_and_migrations(server):
    r = requests.get(server.url("/readyz"), timeout=5)
    assert r.status_code == 200, r.text
    assert r.json() == {"status": "ok", "database": "ok", "migrations": "current"}


def test_readyz_is_503_json_while_migrations_are_pending(server_factory):
    srv = server_factory()
    if hasattr(srv.db, "path"):
        import sqlite3

        with sqlite3.connect(srv.db.path) as con:
            con.execute("UPDATE alembic_version SET version_num = '0003'")
    else:
        import psycopg

        with psycopg.connect(srv.db._libpq, autocommit=True) as con:
            con.execute("UPDATE alembic_version SET version_num = '0003'")
    r = requests.get(srv.url("/readyz"), timeout=10)
    assert r.status_code == 503, r.text
    assert r.json() == {"status": "unavailable", "database": "ok", "migrations": "pending: run authgate db upgrade"}
    assert requests.get(srv.url("/healthz"), timeout=5).status_code == 200


def test_metrics_count_requests_by_route_template_tokens_by_grant_and_errors(server):
    user = server.create_user()
    client = server.create_client(grants=["password"])
    token = password_grant(server, client, user, scope="users:read").json()["access_token"]
    assert users_me(server, token).status_code == 200
    assert requests.get(server.url(f"/api/1.0/users/{user.id}"), headers={"Authorization": f"Bearer {token}"},
                        timeout=5).status_code in (200, 403)
    assert requests.post(server.url("/oauth/token"), data={"grant_type": "password", "username": user.username,
                                                             "password": "wrong"}, auth=client.basic,
                         timeout=5).status_code == 400
    text = requests.get(server.url("/metrics"), timeout=5).text
    assert 'authgate_http_requests_total{method="GET",route="/api/1.0/users/me",status="200"}' in text
    assert 'route="/api/1.0/users/{user_id}"' in text and f'/users/{user.id}"' not in text
    assert 'authgate_http_request_duration_seconds_bucket{le="0.005",route="/api/1.0/users/me"}' in text
    assert 'authgate_tokens_issued_total{grant="password"}' in text
    assert 'authgate_oauth_errors_total{endpoint="token",error="invalid_grant"}' in text


def test_request_id_in_and_out_and_json_access_log_without_secrets(server_factory):
    srv = server_factory({"AUTHGATE_ACCESS_LOG": "1"})
    r = requests.get(srv.url("/healthz"), headers={"X-Request-ID": "abc-123"}, timeout=5)
    assert r.headers["X-Request-ID"] == "abc-123"
    generated = requests.get(srv.url("/healthz"), timeout=5).headers["X-Request-ID"]
    assert len(generated) == 32
    bad = requests.get(srv.url("/healthz"), headers={"X-Request-ID": "x" * 500}, timeout=5).headers["X-Request-ID"]
    assert bad != "x" * 500
    secret_code = "SECRETCODE-" + "z" * 20
    requests.get(srv.url(f"/oauth/code?code={secret_code}&state=s"), timeout=5)
    user = srv.create_user()
    client = srv.create_client(grants=["password"])
    pair = password_grant(srv, client, user, scope="users:read").json()
    users_me(srv, pair["access_token"])
    time.sleep(0.3)
    lines = [json.loads(line) for line in srv.stderr_text().splitlines() if line.startswith("{")]
    assert any(e.get("request_id") == "abc-123" and e.get("route") == "/healthz" and e.get("status") == 200
               for e in lines), lines[-5:]
    logged = srv.stderr_text()
    for secret in (secret_code, pair["access_token"], pair["refresh_token"], user.password, client.client_secret):
        assert secret not in logged


def test_serve_with_two_workers(tmp_path):
    srv = ServerProcess(tmp_path)
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "authgate", "serve", "--port", str(port), "--workers", "2"],
                            env={**srv.env, "AUTHGATE_ISSUER": f"http://127.0.0.1:{port}"}, cwd=tmp_path,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, "serve --workers 2 did not become ready"
            time.sleep(0.2)
        for _ in range(20):
            assert requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200
        text = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
        assert 'authgate_http_requests_total{method="GET",route="/healthz",status="200"}' in text
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        srv.db.drop()
