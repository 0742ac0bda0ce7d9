"""Brute force and abuse (RFC 9700 §4.x spirit; RFC 6585 §4 for 429): failed sign-ins lock the
account (pages and the password grant share the count), failed sign-ins are limited per IP, the
token endpoint is limited per IP and per client, every refusal is 429 with Retry-After; guesses
sent at once get no more answers than the limit; with
AUTHGATE_REDIS_URL the counts are shared by every server on the same Redis."""

from __future__ import annotations

import secrets
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from support import Browser, parse_page, password_grant, token_request, unique

LOCKOUT = {"AUTHGATE_LOCKOUT": "3/60", "AUTHGATE_LIMIT_LOGIN_PER_IP": "100/60"}


def redis_url() -> str | None:
    try:
        import redis

        redis.Redis.from_url("redis://127.0.0.1:6379/0", socket_connect_timeout=1).ping()
    except Exception:
        return None
    return "redis://127.0.0.1:6379/0"


@pytest.fixture(scope="module")
def guarded(server_factory):
    return server_factory(LOCKOUT)


def bad_login(browser: Browser, username: str) -> requests.Response:
    page, form = browser.login_page()
    return browser.submit_login(page, form, username, "wrong-" + secrets.token_hex(4))


def test_account_locks_after_failed_sign_ins_and_says_so(guarded):
    user = guarded.create_user()
    browser = Browser(guarded)
    for _ in range(3):
        assert bad_login(browser, user.username).status_code == 400
    locked = browser.submit_login(*browser.login_page(), user.username, user.password)
    assert locked.status_code == 429
    assert int(locked.headers["Retry-After"]) > 0
    assert "locked" in parse_page(locked.text).text.lower()
    assert "authgate_session" not in locked.cookies


def test_lockout_covers_the_password_grant_and_reveals_no_account(guarded):
    """The same count for the password grant; an unknown name locks the same way (no enumeration)."""
    client = guarded.create_client(grants=["password"])
    user = guarded.create_user()
    for name in (user.username, unique("nobody")):
        for _ in range(3):
            r = token_request(guarded, {"grant_type": "password", "username": name, "password": "nope-nope"},
                              auth=(client.client_id, client.client_secret))
            assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
        r = token_request(guarded, {"grant_type": "password", "username": name, "password": "nope-nope"},
                          auth=(client.client_id, client.client_secret))
        assert r.status_code == 429, r.text
        assert r.json()["error"] == "too_many_requests"
        assert int(r.headers["Retry-After"]) > 0
    assert password_grant(guarded, client, user).status_code == 429


def test_failed_sign_ins_are_limited_per_ip(server_factory):
    srv = server_factory({"AUTHGATE_LOCKOUT": "off", "AUTHGATE_LIMIT_LOGIN_PER_IP": "4/60"})
    browser = Browser(srv)
    for _ in range(4):
        assert bad_login(browser, unique("spray")).status_code == 400
    user = srv.create_user()
    r = browser.submit_login(*browser.login_page(), user.username, user.password)
    assert r.status_code == 429
    assert "address" in parse_page(r.text).text


def test_success_resets_the_account_count(guarded):
    user = guarded.create_user()
    browser = Browser(guarded)
    for _ in range(2):
        bad_login(browser, user.username)
    assert browser.login(user).status_code in (200, 303)
    for _ in range(2):
        assert bad_login(Browser(guarded), user.username).status_code == 400


def test_token_endpoint_limited_per_client(server_factory):
    srv = server_factory({"AUTHGATE_LIMIT_TOKEN_PER_CLIENT": "5/60"})
    client = srv.create_client(grants=["client_credentials"])
    other = srv.create_client(grants=["client_credentials"])
    codes = [
        token_request(srv, {"grant_type": "client_credentials"}, auth=(client.client_id, client.client_secret)).status_code
        for _ in range(6)
    ]
    assert codes == [200] * 5 + [429]
    r = token_request(srv, {"grant_type": "client_credentials"}, auth=(other.client_id, other.client_secret))
    assert r.status_code == 200, "another client is not limited by the first one's count"


def test_token_endpoint_limited_per_ip(server_factory):
    srv = server_factory({"AUTHGATE_LIMIT_TOKEN_PER_IP": "3/60"})
    statuses = [token_request(srv, {"grant_type": "client_credentials"}).status_code for _ in range(4)]
    assert statuses[:3] == [401, 401, 401] and statuses[3] == 429


@pytest.mark.skipif(redis_url() is None, reason="no Redis on 127.0.0.1:6379")
def test_redis_shares_the_lockout_between_servers(server_factory):
    env = {**LOCKOUT, "AUTHGATE_REDIS_URL": redis_url(), "AUTHGATE_REDIS_PREFIX": f"test-{secrets.token_hex(6)}:"}
    a = server_factory(env)
    b_env = {**env, "AUTHGATE_DATABASE_URL": a.db.url}
    b = server_factory(b_env)
    user = a.create_user()
    for srv in (a, b, a):
        assert bad_login(Browser(srv), user.username).status_code == 400
    b_browser = Browser(b)
    assert b_browser.submit_login(*b_browser.login_page(), user.username, user.password).status_code == 429

    unlock = a.cli("users", "unlock", user.username)
    assert unlock.returncode == 0, unlock.stderr
    assert Browser(b).login(user).status_code in (200, 303)


def test_unlock_of_an_unknown_name_explains_itself(server):
    proc = server.cli("users", "unlock", "someone")
    assert proc.returncode != 0
    assert "no user named 'someone'" in proc.stderr and "Traceback" not in proc.stderr


def test_guesses_sent_at_once_get_no_more_answers_than_the_lockout_allows(server_factory):
    """Passwords are checked side by side; the lock still stops the guessing at the limit (3), right
    or wrong, however many guesses arrive together (RFC 9700 §4.x spirit; RFC 6585 §4)."""
    srv = server_factory({**LOCKOUT, "AUTHGATE_ARGON2_TIME_COST": "20"})
    user = srv.create_user()
    app = srv.create_client(grants=["password"])
    guesses = [{"grant_type": "password", "username": user.username, "password": f"wrong-{n}"} for n in range(8)]
    with ThreadPoolExecutor(len(guesses)) as pool:
        statuses = sorted(pool.map(lambda data: token_request(srv, data, auth=app.basic).status_code, guesses))
    assert statuses == [400] * 3 + [429] * 5
    assert password_grant(srv, app, user).status_code == 429
