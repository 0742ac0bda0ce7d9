"""Refresh tokens (RFC 6749 §6, §10.4; RFC 9700 §4.14.2): every refresh
rotates the refresh token, a rotated token is refused, and presenting one
again revokes the whole family (newest refresh token and every access token
of the family); refresh tokens are bound to their client, cannot widen the
scope, and expire.
"""

from __future__ import annotations

import time

import pytest

from support import (
    SHORT_TTL,
    assert_no_store,
    assert_token_error,
    code_flow_tokens,
    exchange_code,
    get_code,
    password_grant,
    pkce_pair,
    refresh,
    token_request,
    unique,
    users_me,
)


@pytest.fixture(scope="module")
def user(server):
    return server.create_user()


@pytest.fixture(scope="module")
def app(server):
    return server.create_client(redirect_uris=[f"https://{unique('rt')}.example.org/cb"])


def tokens(server, app, user, scope="users:read"):
    resp = password_grant(server, app, user, scope=scope)
    assert resp.status_code == 200, resp.text
    return resp.json()


def test_refresh_issues_new_access_and_refresh_token_rfc6749_6(server, app, user):
    first = tokens(server, app, user)
    resp = refresh(server, app, first["refresh_token"])
    assert resp.status_code == 200, resp.text
    assert_no_store(resp)
    second = resp.json()
    assert second["token_type"] == "Bearer"
    assert second["access_token"] != first["access_token"]
    assert second["refresh_token"] and second["refresh_token"] != first["refresh_token"]
    assert second["scope"].split() == ["users:read"]  # §6: omitted scope = originally granted
    me = users_me(server, second["access_token"])
    assert me.status_code == 200 and me.json()["username"] == user.username


def test_refresh_after_authorization_code_rfc6749_6(server, app, user):
    first = code_flow_tokens(server, app, user)
    resp = refresh(server, app, first["refresh_token"])
    assert resp.status_code == 200, resp.text
    assert users_me(server, resp.json()["access_token"]).status_code == 200


def test_rotated_refresh_token_is_refused_rfc9700_4_14_2(server, app, user):
    first = tokens(server, app, user)
    assert refresh(server, app, first["refresh_token"]).status_code == 200
    assert_token_error(refresh(server, app, first["refresh_token"]), "invalid_grant")


def test_reuse_of_rotated_refresh_token_revokes_the_family_rfc6749_10_4(server, app, user):
    a1 = tokens(server, app, user)
    r2 = refresh(server, app, a1["refresh_token"]).json()
    r3 = refresh(server, app, r2["refresh_token"]).json()
    for t in (a1, r2, r3):
        assert users_me(server, t["access_token"]).status_code == 200

    # an attacker (or the victim) replays the stolen, already rotated token
    assert_token_error(refresh(server, app, r2["refresh_token"]), "invalid_grant")

    # the newest refresh token of the family is dead ...
    assert_token_error(refresh(server, app, r3["refresh_token"]), "invalid_grant")
    # ... and so is every access token of the family
    for t in (a1, r2, r3):
        assert users_me(server, t["access_token"]).status_code == 401


def test_family_revocation_does_not_touch_other_families_rfc9700_4_14_2(server, app, user):
    bystander = tokens(server, app, user)
    victim = tokens(server, app, user)
    refresh(server, app, victim["refresh_token"])
    assert_token_error(refresh(server, app, victim["refresh_token"]), "invalid_grant")
    assert users_me(server, bystander["access_token"]).status_code == 200
    assert refresh(server, app, bystander["refresh_token"]).status_code == 200


def test_refresh_token_bound_to_client_rfc6749_6(server, app, user, make_client):
    other = make_client()
    t = tokens(server, app, user)
    assert_token_error(refresh(server, other, t["refresh_token"]), "invalid_grant")


def test_refresh_requires_client_authentication_rfc6749_6(server, app, user):
    t = tokens(server, app, user)
    resp = token_request(server, {"grant_type": "refresh_token", "refresh_token": t["refresh_token"],
                                  "client_id": app.client_id, "client_secret": "wrong"})
    assert_token_error(resp, "invalid_client", status=401)


def test_refresh_cannot_widen_scope_rfc6749_6(server, app, user):
    t = tokens(server, app, user, scope="users:read")
    assert_token_error(refresh(server, app, t["refresh_token"], scope="users:read users:write"), "invalid_scope")


def test_unknown_refresh_token_is_invalid_grant_rfc6749_5_2(server, app):
    assert_token_error(refresh(server, app, "not-a-refresh-token-" + unique("r")), "invalid_grant")


def test_access_token_is_not_a_refresh_token_rfc6749_6(server, app, user):
    t = tokens(server, app, user)
    assert_token_error(refresh(server, app, t["access_token"]), "invalid_grant")


def test_refresh_of_public_client_rfc6749_6(server, user):
    pub = server.create_client(public=True, redirect_uris=[f"https://{unique('pubrt')}.example.org/cb"])
    verifier, challenge = pkce_pair()
    code = get_code(server, pub, user, challenge=challenge)
    first = exchange_code(server, pub, code, verifier=verifier)
    assert first.status_code == 200, first.text
    resp = refresh(server, pub, first.json()["refresh_token"])
    assert resp.status_code == 200, resp.text
    assert resp.json()["refresh_token"] != first.json()["refresh_token"]


def test_refresh_token_expires_rfc6749_6(short_ttl_server):
    """AUTHGATE_REFRESH_TOKEN_TTL=SHORT_TTL on this server."""
    srv = short_ttl_server
    user = srv.create_user()
    client = srv.create_client()
    fresh = password_grant(srv, client, user).json()
    assert refresh(srv, client, fresh["refresh_token"]).status_code == 200  # control
    stale = password_grant(srv, client, user).json()
    time.sleep(SHORT_TTL + 1.5)
    assert_token_error(refresh(srv, client, stale["refresh_token"]), "invalid_grant")


def test_refused_wider_scope_leaves_the_refresh_token_working_rfc6749_6(server, app, user):
    """A refresh refused with invalid_scope must not use up the token: the correct retry works and
    the grant's tokens stay alive (nothing was rotated, so nothing looks like reuse)."""
    t = tokens(server, app, user, scope="users:read")
    assert_token_error(refresh(server, app, t["refresh_token"], scope="users:read users:write"), "invalid_scope")
    retry = refresh(server, app, t["refresh_token"])
    assert retry.status_code == 200, retry.text
    assert users_me(server, retry.json()["access_token"]).status_code == 200
    assert users_me(server, t["access_token"]).status_code == 200
    assert refresh(server, app, retry.json()["refresh_token"]).status_code == 200


def test_refused_foreign_client_leaves_the_refresh_token_working_rfc6749_6(server, app, user, make_client):
    """Another client presenting the token (invalid_grant) neither rotates nor revokes it."""
    t = tokens(server, app, user)
    assert_token_error(refresh(server, make_client(), t["refresh_token"]), "invalid_grant")
    assert refresh(server, app, t["refresh_token"]).status_code == 200
