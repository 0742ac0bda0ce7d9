"""/api/1.0/users: ProcessMaker's user endpoints (list, create, read, update, soft delete, restore)
with authgate's rules: permissions decide, a user may read and edit themselves, only administrators
touch administrators, and a deleted user's tokens stop working at once (RFC 6750 §3.1 invalid_token).
"""

from __future__ import annotations

import pytest

from support import (api_for, assert_conflict, assert_forbidden, assert_invalid, assert_not_found,
                     assert_unauthenticated, grant, password_grant, refresh, unique)

FIELDS = {"id", "username", "email", "firstname", "lastname", "status", "is_administrator", "created_at",
          "updated_at", "deleted_at", "email_verified_at"}


def new_user_body(**extra) -> dict:
    name = unique("apiuser")
    return {"username": name, "email": f"{name}@example.org", "password": "long enough pw", **extra}


def test_create_read_update_user(admin):
    body = new_user_body(firstname="Ada", lastname="Lovelace")
    created = admin.ok("POST", "/users", 201, json=body)
    assert set(created) == FIELDS
    assert created["username"] == body["username"] and created["status"] == "ACTIVE"
    assert created["is_administrator"] is False
    assert admin.ok("GET", f"/users/{created['id']}") == created
    changed = admin.ok("PUT", f"/users/{created['id']}", json={"lastname": "King", "status": "INACTIVE"})
    assert changed["lastname"] == "King" and changed["firstname"] == "Ada" and changed["status"] == "INACTIVE"


@pytest.mark.parametrize("change,field", [
    ({"email": "not-an-email"}, "email"), ({"password": "short"}, "password"), ({"username": ""}, "username"),
    ({"username": "has space"}, "username"), ({"status": "ASLEEP"}, "status"), ({"username": ["x"]}, "username"),
])
def test_create_user_validation_is_422(admin, change, field):
    assert_invalid(admin.post("/users", json=new_user_body(**change)), field)


def test_create_user_missing_fields_are_each_named(admin):
    body = assert_invalid(admin.post("/users", json={}), "username", "email", "password")
    assert body["errors"]["username"] == ["The username field is required."]


def test_duplicate_username_or_email_is_409(admin):
    first = admin.ok("POST", "/users", 201, json=new_user_body())
    assert_conflict(admin.post("/users", json=new_user_body(username=first["username"].upper())), "username")
    assert_conflict(admin.post("/users", json=new_user_body(email=first["email"])), "email")
    other = admin.ok("POST", "/users", 201, json=new_user_body())
    assert_conflict(admin.put(f"/users/{other['id']}", json={"email": first["email"]}), "email")


def test_users_me_and_reading_yourself_need_no_permission(server, make_user):
    user = make_user()
    api = api_for(server, user.username)
    me = api.ok("GET", "/users/me")
    assert me["username"] == user.username and set(me) == FIELDS
    assert api.ok("GET", f"/users/{user.id}") == me
    assert_forbidden(api.get("/users"))


def test_a_user_edits_their_own_profile_but_not_their_status(server, make_user):
    user = make_user()
    api = api_for(server, user.username)
    assert api.ok("PUT", f"/users/{user.id}", json={"firstname": "Me"})["firstname"] == "Me"
    assert_forbidden(api.put(f"/users/{user.id}", json={"status": "INACTIVE"}))
    assert_forbidden(api.put(f"/users/{user.id}", json={"is_administrator": True}))


def test_only_administrators_touch_administrators(server, admin, make_user):
    manager = make_user()
    grant(admin, manager.id, "view-users", "create-users", "edit-users", "delete-users")
    api = api_for(server, manager.username)
    assert_forbidden(api.post("/users", json=new_user_body(is_administrator=True)))
    other_admin = admin.ok("POST", "/users", 201, json=new_user_body(is_administrator=True))
    assert_forbidden(api.put(f"/users/{other_admin['id']}", json={"firstname": "x"}))
    assert_forbidden(api.delete(f"/users/{other_admin['id']}"))
    plain = api.ok("POST", "/users", 201, json=new_user_body())
    assert_forbidden(api.put(f"/users/{plain['id']}", json={"is_administrator": True}))
    assert api.ok("PUT", f"/users/{plain['id']}", json={"firstname": "ok"})["firstname"] == "ok"


def test_nobody_deletes_themselves(server, admin):
    me = admin.ok("GET", "/users/me")
    assert_forbidden(admin.delete(f"/users/{me['id']}"))


def test_deleted_users_tokens_stop_working_at_once_rfc6750_3_1(server, admin, make_user, make_client):
    user = make_user()
    client = make_client(grants=["password"])
    tokens = password_grant(server, client, user, scope="users:read").json()
    pat = api_for(server, user.username)
    assert pat.get("/users/me").status_code == 200  # control
    jwt_api = type(pat)(server, tokens["access_token"])
    assert jwt_api.get("/users/me").status_code == 200  # control

    assert admin.ok("DELETE", f"/users/{user.id}", 204) is None

    assert_unauthenticated(pat.get("/users/me"))
    assert_unauthenticated(jwt_api.get("/users/me"))
    assert refresh(server, client, tokens["refresh_token"]).status_code == 400
    assert password_grant(server, client, user).status_code == 400  # cannot sign in either
    assert_not_found(admin.get(f"/users/{user.id}"))
    assert user.id not in [u["id"] for u in admin.ok("GET", f"/users?filter={user.username}")["data"]]
    assert user.id in [u["id"] for u in admin.ok("GET", f"/deleted_users?filter={user.username}")["data"]]


def test_restore_brings_the_user_back_but_not_their_tokens(server, admin, make_user, make_client):
    user = make_user()
    pat = api_for(server, user.username)
    admin.ok("DELETE", f"/users/{user.id}", 204)
    restored = admin.ok("PUT", f"/users/{user.id}/restore")
    assert restored["deleted_at"] is None and restored["id"] == user.id
    assert_unauthenticated(pat.get("/users/me"))
    client = make_client(grants=["password"])
    assert password_grant(server, client, user).status_code == 200
    assert_not_found(admin.put(f"/users/{user.id}/restore"))  # not deleted any more


def test_inactive_users_tokens_are_refused(server, admin, make_user):
    user = make_user()
    pat = api_for(server, user.username)
    admin.ok("PUT", f"/users/{user.id}", json={"status": "INACTIVE"})
    assert_unauthenticated(pat.get("/users/me"))
    admin.ok("PUT", f"/users/{user.id}", json={"status": "ACTIVE"})
    assert pat.get("/users/me").status_code == 200


def test_pagination_filter_and_order_over_users(server, admin):
    prefix = unique("pg")
    for i in range(60):
        admin.ok("POST", "/users", 201, json={"username": f"{prefix}-{i:03d}", "email": f"{prefix}{i}@example.org",
                                             "password": "long enough pw", "lastname": f"L{59 - i:03d}"})
    page = admin.ok("GET", f"/users?filter={prefix}&per_page=25&page=3&order_by=username&order_direction=desc")
    meta = page["meta"]
    assert (meta["total"], meta["count"], meta["total_pages"], meta["last_page"]) == (60, 10, 3, 3)
    assert (meta["from"], meta["to"], meta["current_page"]) == (51, 60, 3)
    assert (meta["sort_by"], meta["sort_order"], meta["filter"]) == ("username", "desc", prefix)
    assert [u["username"] for u in page["data"]] == [f"{prefix}-{i:03d}" for i in range(9, -1, -1)]
    by_lastname = admin.ok("GET", f"/users?filter={prefix}&order_by=lastname&per_page=5")["data"]
    assert [u["lastname"] for u in by_lastname] == [f"L{i:03d}" for i in range(5)]
    assert admin.ok("GET", f"/users?filter={prefix.upper()}-05")["meta"]["total"] == 10  # case-insensitive
    assert admin.ok("GET", "/users?filter=%25_%25")["meta"]["total"] == 0  # wildcards are literal
