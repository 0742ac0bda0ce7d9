"""Personal access tokens made with `authgate tokens create`: they work as
bearer tokens on the API (RFC 6750 §2.1) for their own user, honour their
scopes, expiry date and last use are reported by `tokens list`, and they stop
working once revoked with `authgate tokens revoke`.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import time

import pytest

from support import one_line_error, unique, users_me, eventually


def parse_time(value: str) -> datetime:
    t = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return t if t.tzinfo else t.replace(tzinfo=timezone.utc)


def listed(server, username: str) -> dict:
    data = server.cli_json("tokens", "list", "--user", username)
    return {t["id"]: t for t in data["tokens"]}


def test_pat_create_json_shape(server, make_user):
    user = make_user()
    name = unique("laptop")
    pat = server.create_pat(user.username, name=name)
    assert set(pat) >= {"id", "token", "name", "scopes", "expires_at", "user"}
    assert pat["token"].startswith("agp_") and len(pat["token"]) > 24
    assert pat["name"] == name
    assert pat["scopes"] == ["*"]
    user_field = pat["user"]
    assert user_field == user.username or (isinstance(user_field, dict) and user_field.get("username") == user.username)


def test_pat_reads_users_me_rfc6750_2_1(server, make_user):
    user = make_user()
    pat = server.create_pat(user.username)
    resp = users_me(server, pat["token"])
    assert resp.status_code == 200, resp.text
    assert resp.json()["username"] == user.username


def test_pat_identifies_its_own_user(server, make_user):
    alice, bob = make_user(), make_user()
    pa, pb = server.create_pat(alice.username), server.create_pat(bob.username)
    assert users_me(server, pa["token"]).json()["username"] == alice.username
    assert users_me(server, pb["token"]).json()["username"] == bob.username


def test_revoked_pat_stops_working_rfc6750_3_1(server, make_user):
    user = make_user()
    keep = server.create_pat(user.username, name="keep")
    pat = server.create_pat(user.username, name="revoke-me")
    assert users_me(server, pat["token"]).status_code == 200  # control

    proc = server.cli("tokens", "revoke", str(pat["id"]))
    assert proc.returncode == 0, proc.stderr

    # revoked by another process (the CLI): the server learns it within one revocation poll (0.5 s)
    resp = eventually(lambda: users_me(server, pat["token"]), lambda r: r.status_code == 401, timeout=2)
    assert resp.status_code == 401
    assert 'error="invalid_token"' in resp.headers.get("WWW-Authenticate", "")
    assert listed(server, user.username)[pat["id"]]["revoked"] is True
    # only that one
    assert users_me(server, keep["token"]).status_code == 200
    assert listed(server, user.username)[keep["id"]]["revoked"] is False


def test_revoke_unknown_token_is_one_line_error(server):
    one_line_error(server.cli("tokens", "revoke", "999999999"))


def test_pat_scopes_are_enforced_rfc6750_3_1(server, make_user):
    user = make_user()
    narrow = server.create_pat(user.username, scopes=["profile"])
    assert narrow["scopes"] == ["profile"]
    resp = users_me(server, narrow["token"])
    assert resp.status_code == 403
    assert resp.json()["error"] == "insufficient_scope"

    ok = server.create_pat(user.username, scopes=["users:read", "profile"])
    assert sorted(ok["scopes"]) == ["profile", "users:read"]
    assert users_me(server, ok["token"]).status_code == 200


def test_pat_unknown_scope_is_refused(server, make_user):
    user = make_user()
    line = one_line_error(server.cli("tokens", "create", "--user", user.username, "--name", "x",
                                     "--scope", "no-such-scope"))
    assert "scope" in line.lower()


def test_pat_default_and_custom_expiry(server, make_user):
    user = make_user()
    now = datetime.now(timezone.utc)
    default = server.create_pat(user.username)
    assert parse_time(default["expires_at"]) - now == pytest.approx(timedelta(days=365), abs=timedelta(hours=1))
    week = server.create_pat(user.username, expires_in=7)
    assert parse_time(week["expires_at"]) - now == pytest.approx(timedelta(days=7), abs=timedelta(hours=1))


def test_tokens_list_shows_metadata_never_the_token(server, make_user):
    user = make_user()
    pat = server.create_pat(user.username, name="ci-bot", scopes=["users:read"])
    proc = server.cli("tokens", "list", "--user", user.username, "--json")
    assert proc.returncode == 0, proc.stderr
    assert pat["token"] not in proc.stdout
    assert pat["token"][4:] not in proc.stdout
    entry = listed(server, user.username)[pat["id"]]
    assert set(entry) >= {"id", "name", "scopes", "created_at", "expires_at", "last_used_at", "revoked"}
    assert "token" not in entry
    assert entry["name"] == "ci-bot" and entry["scopes"] == ["users:read"] and entry["revoked"] is False
    assert entry["last_used_at"] is None

    assert users_me(server, pat["token"]).status_code == 200
    used = listed(server, user.username)[pat["id"]]["last_used_at"]
    if used is None:  # the time of use is written off the request path, within a second
        time.sleep(1)
        used = listed(server, user.username)[pat["id"]]["last_used_at"]
    assert used is not None
    assert abs(parse_time(used) - datetime.now(timezone.utc)) < timedelta(minutes=5)


def test_tokens_list_is_per_user(server, make_user):
    alice, bob = make_user(), make_user()
    pa = server.create_pat(alice.username)
    assert pa["id"] in listed(server, alice.username)
    assert pa["id"] not in listed(server, bob.username)


def test_pat_for_unknown_user_is_one_line_error(server):
    one_line_error(server.cli("tokens", "create", "--user", unique("ghost"), "--name", "x"))
