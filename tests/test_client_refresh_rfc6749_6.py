"""The Python client keeps a script working across token expiry with no user action (RFC 6749 §6):
it refreshes before the access token expires and once on a 401 (RFC 6750 §3.1), and when several
threads or processes share one token cache they refresh once between them — the server rotates
refresh tokens and revokes the whole family when one is presented twice (RFC 9700 §4.14.2), so a
stampede would be seen there. A refused refresh token is a clear, typed error.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time

import httpx
import pytest

from authgate_client import Client, LoginRequired, RefreshTokenRejected
from client_support import refused_access_token, strict_short_server
from support import assert_token_error, refresh, users_me

ACCESS_TTL = 3


@pytest.fixture(scope="module")
def short(server_factory):
    """Access tokens live three seconds; no refresh grace window (a second use revokes the family)."""
    return strict_short_server(server_factory)


@pytest.fixture(scope="module")
def short_app(short):
    return short.create_client(grants=["password"])


@pytest.fixture(scope="module")
def short_user(short):
    return short.create_user()


def signed_in(server, app, user, cache, **kw) -> Client:
    client = Client(server.issuer, app.client_id, app.client_secret, scopes=["users:read"], cache_dir=cache, **kw)
    client.login_password(user.username, user.password)
    return client


def test_script_keeps_working_across_expiry_refreshing_before_it_rfc6749_6(short, short_app, short_user, tmp_path):
    client = signed_in(short, short_app, short_user, tmp_path, refresh_leeway=1.5)
    statuses: list[int] = []
    seen = [client.tokens]
    deadline = time.monotonic() + ACCESS_TTL + 1
    while time.monotonic() < deadline:
        response = client.get("/api/1.0/users/me")
        statuses.append(response.status_code)
        if client.tokens.access_token != seen[-1].access_token:
            seen.append(client.tokens)
        time.sleep(0.25)
    assert set(statuses) == {200}, statuses
    assert len(seen) >= 2, "the access token was not refreshed across its lifetime"
    for old, new in zip(seen, seen[1:]):
        assert new.obtained_at < old.expires_at, "refreshed only after the token had expired"
        assert new.refresh_token != old.refresh_token  # rotated, and the new one was kept
    client.close()


def test_refresh_once_on_401_rfc6750_3_1(short, short_app, short_user, tmp_path):
    """The server refuses a token the client still thinks valid (clock skew, revocation): one
    refresh, one retry, and the caller sees only the 200."""
    server, app, user = short, short_app, short_user
    client = signed_in(server, app, user, tmp_path, refresh_leeway=0)
    poisoned = client.tokens
    poisoned.access_token = refused_access_token(server, app, user)
    poisoned.expires_at = time.time() + 3600  # as a client whose clock is wrong would believe
    client.store.save(client.cache_key, poisoned)

    statuses: list[int] = []
    with httpx.Client(base_url=server.base_url, auth=client.auth,
                      event_hooks={"response": [lambda r: statuses.append(r.status_code)]}) as http:
        assert http.get("/api/1.0/users/me").status_code == 200
    assert statuses == [401, 200]
    assert client.tokens.access_token != poisoned.access_token
    assert client.tokens.refresh_token != poisoned.refresh_token


def assert_refreshed_exactly_once(server, app, old, results: list[str]) -> str:
    """Every worker got the same new token; the family is alive (a second use of the old refresh
    token would have revoked it); the old refresh token was rotated."""
    assert all(r.startswith("ey") for r in results), results
    assert len(set(results)) == 1, f"{len(set(results))} different access tokens: more than one refresh"
    new_token = results[0]
    assert new_token != old.access_token
    assert users_me(server, new_token).status_code == 200
    return new_token


def test_threads_sharing_a_cache_refresh_once_rfc9700_4_14_2(short, short_app, short_user, tmp_path):
    first = signed_in(short, short_app, short_user, tmp_path)
    old = first.tokens
    shared = Client(short.issuer, short_app.client_id, short_app.client_secret, cache_dir=tmp_path)
    clients = [shared] * 4 + [Client(short.issuer, short_app.client_id, short_app.client_secret, cache_dir=tmp_path)
                              for _ in range(4)]
    time.sleep(ACCESS_TTL + 0.2)
    barrier = threading.Barrier(len(clients))
    results: list[str] = []

    def work(client: Client) -> None:
        barrier.wait()
        try:
            results.append(client.access_token())
        except Exception as error:  # reported by the assertion below
            results.append(repr(error))

    threads = [threading.Thread(target=work, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert_refreshed_exactly_once(short, short_app, old, results)
    current = shared.tokens
    assert refresh(short, short_app, current.refresh_token).status_code == 200
    assert_token_error(refresh(short, short_app, old.refresh_token), "invalid_grant")


WORKER = """
import json, sys, time
from authgate_client import Client
issuer, client_id, secret, cache, start = sys.argv[1:6]
client = Client(issuer, client_id, secret, cache_dir=cache)
while time.time() < float(start):
    time.sleep(0.002)
try:
    print(json.dumps({"token": client.access_token()}))
except Exception as error:
    print(json.dumps({"error": repr(error)}))
"""


def test_processes_sharing_a_cache_refresh_once_rfc9700_4_14_2(short, short_app, short_user, tmp_path):
    first = signed_in(short, short_app, short_user, tmp_path)
    old = first.tokens
    start = old.expires_at + 0.3
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, short.issuer, short_app.client_id,
                               short_app.client_secret, str(tmp_path), str(start)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(3)]
    outputs = []
    for proc in procs:
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        outputs.append(json.loads(out))
    results = [o.get("token") or o.get("error") for o in outputs]
    assert_refreshed_exactly_once(short, short_app, old, results)
    latest = Client(short.issuer, short_app.client_id, short_app.client_secret, cache_dir=tmp_path).tokens
    assert latest.access_token == results[0]
    assert refresh(short, short_app, latest.refresh_token).status_code == 200
    assert_token_error(refresh(short, short_app, old.refresh_token), "invalid_grant")


def test_reused_refresh_token_is_a_clear_typed_error_rfc9700_4_14_2(short, short_app, short_user, tmp_path):
    """Someone else used the cached refresh token first (a copy of the cache, a leak): the server
    answers invalid_grant and revokes the family; the client says so and forgets the dead tokens."""
    server, app, user = short, short_app, short_user
    client = signed_in(server, app, user, tmp_path)
    assert refresh(server, app, client.tokens.refresh_token).status_code == 200

    with pytest.raises(RefreshTokenRejected) as caught:
        client.refresh()
    error = caught.value
    assert (error.error, error.status) == ("invalid_grant", 400)
    assert error.error_description and "sign in again" in str(error)
    assert client.tokens is None
    with pytest.raises(LoginRequired, match="login"):
        client.access_token()
