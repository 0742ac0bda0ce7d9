"""/api/1.0/users/{id}/tokens: personal access tokens as Passport/ProcessMaker shape them. The token
is shown once; a user manages their own and an administrator anyone's; revoking one stops it at
once (RFC 6750 §3.1 invalid_token); a token never makes a token with more scopes than itself.
"""

from __future__ import annotations

import time

from datetime import datetime, timedelta, timezone

import pytest

from support import Api, api_for, assert_forbidden, assert_invalid, assert_not_found, assert_unauthenticated

TOKEN_FIELDS = {"id", "user_id", "client_id", "name", "scopes", "revoked", "created_at", "expires_at", "last_used_at"}


def test_create_list_get_and_revoke_own_token(server, make_user):
    user = make_user()
    api = api_for(server, user.username)
    created = api.ok("POST", f"/users/{user.id}/tokens", 201, json={"name": "script", "scopes": ["users:read"]})
    assert set(created) == {"accessToken", "token"} and set(created["token"]) == TOKEN_FIELDS
    assert created["accessToken"].startswith("agp_")
    new = Api(server, created["accessToken"])
    assert new.ok("GET", "/users/me")["id"] == user.id
    token_id = created["token"]["id"]
    listed = api.ok("GET", f"/users/{user.id}/tokens")
    assert token_id in [t["id"] for t in listed["data"]]
    assert created["accessToken"] not in str(listed) and "accessToken" not in str(listed)
    shown = api.ok("GET", f"/users/{user.id}/tokens/{token_id}")
    deadline = time.monotonic() + 3  # the time of use is written off the request path, within a second
    while shown["last_used_at"] is None and time.monotonic() < deadline:
        time.sleep(0.1)
        shown = api.ok("GET", f"/users/{user.id}/tokens/{token_id}")
    assert shown["last_used_at"] is not None  # it was used just above
    assert {k: v for k, v in shown.items() if k != "last_used_at"} == {
        k: v for k, v in created["token"].items() if k != "last_used_at"}
    api.ok("DELETE", f"/users/{user.id}/tokens/{token_id}", 204)
    assert_unauthenticated(new.get("/users/me"))
    assert token_id not in [t["id"] for t in api.ok("GET", f"/users/{user.id}/tokens")["data"]]
    assert_not_found(api.get(f"/users/{user.id}/tokens/{token_id}"))


def test_a_user_cannot_see_or_revoke_anothers_tokens(server, make_user):
    alice, bob = make_user(), make_user()
    alice_api, bob_api = api_for(server, alice.username), api_for(server, bob.username)
    token = alice_api.ok("POST", f"/users/{alice.id}/tokens", 201, json={"name": "mine"})
    tid = token["token"]["id"]
    assert_forbidden(bob_api.get(f"/users/{alice.id}/tokens"))
    assert_forbidden(bob_api.get(f"/users/{alice.id}/tokens/{tid}"))
    assert_forbidden(bob_api.delete(f"/users/{alice.id}/tokens/{tid}"))
    assert_forbidden(bob_api.post(f"/users/{alice.id}/tokens", json={"name": "sneaky"}))
    assert_not_found(bob_api.get(f"/users/{bob.id}/tokens/{tid}"))  # not under his own id either
    assert_not_found(bob_api.delete(f"/users/{bob.id}/tokens/{tid}"))
    assert Api(server, token["accessToken"]).get("/users/me").status_code == 200


def test_an_administrator_manages_anyones_tokens(server, admin, make_user):
    user = make_user()
    made = admin.ok("POST", f"/users/{user.id}/tokens", 201, json={"name": "for-you"})
    assert made["token"]["user_id"] == user.id
    assert Api(server, made["accessToken"]).ok("GET", "/users/me")["id"] == user.id
    assert made["token"]["id"] in [t["id"] for t in admin.ok("GET", f"/users/{user.id}/tokens")["data"]]
    admin.ok("DELETE", f"/users/{user.id}/tokens/{made['token']['id']}", 204)
    assert_unauthenticated(Api(server, made["accessToken"]).get("/users/me"))


def test_a_token_cannot_make_a_stronger_token(server, make_user):
    user = make_user()
    narrow = api_for(server, user.username, scopes=["tokens:write", "users:read"])
    assert_forbidden(narrow.post(f"/users/{user.id}/tokens", json={"name": "x", "scopes": ["*"]}))
    assert_forbidden(narrow.post(f"/users/{user.id}/tokens", json={"name": "x", "scopes": ["users:write"]}))
    default = narrow.ok("POST", f"/users/{user.id}/tokens", 201, json={"name": "x", "scopes": []})
    assert sorted(default["token"]["scopes"]) == ["tokens:write", "users:read"]


@pytest.mark.parametrize("body,field", [
    ({}, "name"), ({"name": ""}, "name"), ({"name": "x", "scopes": ["nope"]}, "scopes"),
    ({"name": "x", "scopes": "users:read"}, "scopes"), ({"name": "x", "expires_at": "yesterday"}, "expires_at"),
    ({"name": "x", "expires_at": "2001-01-01T00:00:00Z"}, "expires_at"),
])
def test_token_validation_is_422(server, make_user, body, field):
    user = make_user()
    assert_invalid(api_for(server, user.username).post(f"/users/{user.id}/tokens", json=body), field)


def test_expiry_date_is_kept(server, make_user):
    user = make_user()
    when = (datetime.now(timezone.utc) + timedelta(days=3)).replace(microsecond=0)
    made = api_for(server, user.username).ok("POST", f"/users/{user.id}/tokens", 201,
                                            json={"name": "short", "expires_at": when.isoformat()})
    assert datetime.fromisoformat(made["token"]["expires_at"]) == when
