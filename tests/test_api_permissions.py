"""/api/1.0/permissions: ProcessMaker's named permissions, granted to users or groups with
PUT /permissions (a sync); administrators may do everything, and nobody grants what they lack.
"""

from __future__ import annotations

from support import api_for, assert_forbidden, assert_invalid, assert_not_found, grant

CATALOG = {f"{action}-{thing}" for thing in ("users", "groups", "auth_clients")
           for action in ("view", "create", "edit", "delete")}


def test_the_catalog_is_processmakers_names(server, make_user):
    api = api_for(server, make_user().username)
    body = api.ok("GET", "/permissions?per_page=100")
    assert {p["name"] for p in body["data"]} == CATALOG
    assert all(set(p) == {"id", "name", "title", "group"} for p in body["data"])
    assert api.ok("GET", "/permissions?filter=auth_clients")["meta"]["total"] == 4


def test_put_permissions_replaces_a_users_direct_permissions(server, admin, make_user):
    user = make_user()
    grant(admin, user.id, "view-users", "view-groups")
    assert {p["name"] for p in admin.ok("GET", f"/permissions?user_id={user.id}")["data"]} == {"view-users", "view-groups"}
    grant(admin, user.id, "view-groups")
    assert [p["name"] for p in admin.ok("GET", f"/permissions?user_id={user.id}")["data"]] == ["view-groups"]
    api = api_for(server, user.username)
    assert_forbidden(api.get("/users"))
    assert api.get("/groups").status_code == 200


def test_put_permissions_validation_is_422(admin, make_user):
    user = make_user()
    assert_invalid(admin.put("/permissions", json={"user_id": user.id, "permission_names": ["fly"]}), "permission_names")
    assert_invalid(admin.put("/permissions", json={"permission_names": []}), "user_id")
    assert_invalid(admin.put("/permissions", json={"user_id": user.id, "group_id": 1, "permission_names": []}))
    assert_invalid(admin.put("/permissions", json={"user_id": user.id, "permission_names": "view-users"}),
                   "permission_names")
    assert_not_found(admin.put("/permissions", json={"user_id": 2147483000, "permission_names": []}))


def test_nobody_grants_what_they_lack(server, admin, make_user):
    manager, other = make_user(), make_user()
    grant(admin, manager.id, "view-users", "edit-users")
    api = api_for(server, manager.username)
    api.ok("PUT", "/permissions", 204, json={"user_id": other.id, "permission_names": ["view-users"]})
    body = assert_forbidden(api.put("/permissions", json={"user_id": other.id, "permission_names": ["delete-users"]}))
    assert "delete-users" in body["reason"]
    assert_forbidden(api.put("/permissions", json={"user_id": manager.id, "permission_names": ["view-users", "edit-users", "delete-users"]}))
    assert_forbidden(api.put("/permissions", json={"user_id": other.id, "is_administrator": True}))


def test_administrators_can_make_administrators(server, admin, make_user):
    user = make_user()
    admin.ok("PUT", "/permissions", 204, json={"user_id": user.id, "is_administrator": True})
    api = api_for(server, user.username)
    assert api.ok("GET", "/users/me")["is_administrator"] is True
    assert api.get("/oauth/clients").status_code == 200  # every permission
