"""Token introspection (RFC 7662): §2.1 the request (client authentication,
any hint), §2.2 the response (active tokens with scope, client_id, username,
sub, aud, iss, exp, iat, token_type; inactive tokens as exactly
{"active": false} whatever the reason: expired, revoked, rotated, unknown or
another client's), §4 no caching. Also refresh-token reuse detection across
the whole family (RFC 9700 §4.14.2) as introspection sees it.
"""

from __future__ import annotations

import time

import pytest
import requests

from support import (
    SHORT_TTL,
    assert_no_store,
    assert_token_error,
    introspect,
    jwt_parts,
    password_grant,
    refresh,
    revoke,
    token_request,
    unique,
    user_via_api,
)

INACTIVE = {"active": False}


@pytest.fixture(scope="module")
def user(server):
    return server.create_user()


@pytest.fixture(scope="module")
def app(server):
    return server.create_client(redirect_uris=[f"https://{unique('in')}.example.org/cb"])


def tokens(server, app, user, scope="users:read"):
    resp = password_grant(server, app, user, scope=scope)
    assert resp.status_code == 200, resp.text
    return resp.json()


def inspect(server, app, token, **extra) -> dict:
    resp = introspect(server, app, token, **extra)
    assert resp.status_code == 200, resp.text
    assert resp.headers["Content-Type"].startswith("application/json")
    assert_no_store(resp)
    return resp.json()


def test_active_access_token_rfc7662_2_2(server, app, user):
    t = tokens(server, app, user, scope="users:read profile")
    info = inspect(server, app, t["access_token"])
    _, claims = jwt_parts(t["access_token"])
    assert info["active"] is True
    assert info["scope"] == "users:read profile"
    assert info["client_id"] == app.client_id
    assert info["username"] == user.username
    assert info["sub"] == str(user.id) == claims["sub"]
    assert info["aud"] == server.issuer and info["iss"] == server.issuer
    assert info["exp"] == claims["exp"] and info["iat"] == claims["iat"]
    assert info["exp"] > time.time()
    assert info["token_type"] == "Bearer"


def test_active_refresh_token_rfc7662_2_2(server, app, user):
    t = tokens(server, app, user)
    info = inspect(server, app, t["refresh_token"], token_type_hint="refresh_token")
    assert info["active"] is True
    assert info["token_type"] == "refresh_token"
    assert info["client_id"] == app.client_id and info["username"] == user.username
    assert info["sub"] == str(user.id) and info["scope"] == "users:read"
    assert info["iss"] == server.issuer
    assert info["iat"] <= time.time() + 1 < info["exp"]


def test_hint_does_not_limit_the_search_rfc7662_2_1(server, app, user):
    t = tokens(server, app, user)
    assert inspect(server, app, t["access_token"], token_type_hint="refresh_token")["active"] is True
    assert inspect(server, app, t["refresh_token"], token_type_hint="access_token")["active"] is True
    assert inspect(server, app, t["refresh_token"], token_type_hint="something_else")["active"] is True


def test_client_credentials_token_has_the_client_as_subject_rfc7662_2_2(server):
    machine = server.create_client(grants=["client_credentials"])
    t = token_request(server, {"grant_type": "client_credentials"}, auth=machine.basic).json()
    info = inspect(server, machine, t["access_token"])
    assert info["active"] is True
    assert info["sub"] == machine.client_id == info["client_id"]
    assert "username" not in info


def test_revoked_tokens_are_inactive_rfc7662_2_2(server, app, user):
    t = tokens(server, app, user)
    assert revoke(server, app, t["refresh_token"]).status_code == 200
    assert inspect(server, app, t["refresh_token"]) == INACTIVE
    assert inspect(server, app, t["access_token"]) == INACTIVE


@pytest.mark.parametrize("token", ["", "nope", "agr_" + "x" * 43, "agp_" + "y" * 43, "e30.e30.e30", "x" * 9000])
def test_unknown_tokens_are_inactive_rfc7662_2_2(server, app, token):
    assert inspect(server, app, token) == INACTIVE


def test_another_clients_tokens_are_inactive_rfc7662_2_2(server, app, user):
    other = server.create_client(grants=["password"])
    t = tokens(server, app, user)
    assert inspect(server, other, t["access_token"]) == INACTIVE
    assert inspect(server, other, t["refresh_token"]) == INACTIVE
    assert inspect(server, app, t["access_token"])["active"] is True


def test_expired_tokens_are_inactive_rfc7662_2_2(short_ttl_server):
    srv = short_ttl_server
    user = srv.create_user()
    app = srv.create_client(grants=["password"])
    t = password_grant(srv, app, user, scope="users:read").json()
    time.sleep(SHORT_TTL + 1.5)
    assert inspect(srv, app, t["access_token"]) == INACTIVE
    assert inspect(srv, app, t["refresh_token"]) == INACTIVE


def test_refresh_reuse_deactivates_the_whole_family_rfc9700_4_14_2(server, app, user):
    first = tokens(server, app, user)
    second = refresh(server, app, first["refresh_token"]).json()
    third = refresh(server, app, second["refresh_token"]).json()
    assert inspect(server, app, first["refresh_token"]) == INACTIVE  # rotated
    assert inspect(server, app, third["refresh_token"])["active"] is True
    assert_token_error(refresh(server, app, first["refresh_token"]), "invalid_grant")  # reuse
    for t in (first, second, third):
        assert inspect(server, app, t["access_token"]) == INACTIVE
    assert inspect(server, app, third["refresh_token"]) == INACTIVE


def test_personal_access_tokens_by_their_owners_client(server, user):
    owned = server.create_client(grants=["client_credentials"], owner=user.username)
    stranger = server.create_client(grants=["client_credentials"])
    pat = server.create_pat(user.username, scopes=["users:read"])["token"]
    assert inspect(server, stranger, pat) == INACTIVE
    info = inspect(server, owned, pat)
    assert info["active"] is True and info["username"] == user.username and info["scope"] == "users:read"
    assert info["sub"] == str(user.id) and info["token_type"] == "Bearer" and "client_id" not in info


def test_client_authentication_is_required_rfc7662_2_1(server, app, user):
    t = tokens(server, app, user)
    url = server.url("/oauth/introspect")
    assert_token_error(requests.post(url, data={"token": t["access_token"]}), "invalid_client", 401)
    assert_token_error(requests.post(url, data={"token": t["access_token"]}, auth=(app.client_id, "bad")),
                       "invalid_client", 401)
    public = server.create_client(redirect_uris=[f"https://{unique('p')}.example.org/cb"], public=True)
    resp = requests.post(url, data={"token": t["access_token"], "client_id": public.client_id})
    assert_token_error(resp, "invalid_client", 401)
    by_body = requests.post(url, data={"token": t["access_token"], "client_id": app.client_id,
                                       "client_secret": app.client_secret})
    assert by_body.status_code == 200 and by_body.json()["active"] is True


def test_malformed_requests_rfc7662_2_1(server, app):
    url = server.url("/oauth/introspect")
    assert_token_error(requests.post(url, data={}, auth=app.basic), "invalid_request")
    assert_token_error(requests.post(url, data=[("token", "a"), ("token", "b")], auth=app.basic), "invalid_request")
    assert_token_error(requests.get(url, auth=app.basic), "invalid_request", 405)


def test_answers_from_memory_match_the_record_rfc7662_2_2(server, admin, app):
    """The first introspection of a new user's token reads the records; later ones come from memory
    (the bearer cache) and must say exactly the same, and still see a revocation at once."""
    fresh = user_via_api(admin)
    t = tokens(server, app, fresh, scope="users:read profile")
    answers = [introspect(server, app, t["access_token"]) for _ in range(3)]
    assert {a.status_code for a in answers} == {200}
    assert answers[0].json()["active"] is True and answers[0].json()["username"] == fresh.username
    assert [a.content for a in answers[1:]] == [answers[0].content] * 2
    other = server.create_client(grants=["password"])
    assert inspect(server, other, t["access_token"]) == INACTIVE
    assert revoke(server, app, t["access_token"]).status_code == 200
    assert inspect(server, app, t["access_token"]) == INACTIVE

    second = tokens(server, app, fresh)["access_token"]
    assert inspect(server, app, second)["active"] is True
    admin.ok("PUT", f"/users/{fresh.id}", json={"status": "INACTIVE"})
    assert inspect(server, app, second) == INACTIVE
