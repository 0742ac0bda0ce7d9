"""/api/1.0/groups and /api/1.0/group_members: groups hold permissions for their members
(ProcessMaker's model); only active groups count, and nobody adds members to a group that gives
permissions they lack themselves.
"""

from __future__ import annotations

import pytest

from support import api_for, assert_conflict, assert_forbidden, assert_invalid, assert_not_found, grant, unique


def test_group_crud(admin):
    name = unique("team")
    group = admin.ok("POST", "/groups", 201, json={"name": name, "description": "the team"})
    assert set(group) == {"id", "name", "description", "status", "created_at", "updated_at"}
    assert (group["name"], group["status"]) == (name, "ACTIVE")
    assert admin.ok("GET", f"/groups/{group['id']}") == group
    changed = admin.ok("PUT", f"/groups/{group['id']}", json={"status": "INACTIVE"})
    assert changed["status"] == "INACTIVE" and changed["description"] == "the team"
    admin.ok("DELETE", f"/groups/{group['id']}", 204)
    assert_not_found(admin.get(f"/groups/{group['id']}"))


@pytest.mark.parametrize("body,field", [
    ({}, "name"), ({"name": ""}, "name"), ({"name": "x" * 256}, "name"), ({"name": "ok", "status": "x"}, "status"),
])
def test_group_validation_is_422(admin, body, field):
    assert_invalid(admin.post("/groups", json=body), field)


def test_group_names_are_unique(admin):
    name = unique("dup")
    admin.ok("POST", "/groups", 201, json={"name": name})
    assert_conflict(admin.post("/groups", json={"name": name.upper()}), "name")


def test_members_are_listed_added_and_removed(server, admin, make_user):
    group = admin.ok("POST", "/groups", 201, json={"name": unique("members")})
    alice, bob = make_user(), make_user()
    m1 = admin.ok("POST", "/group_members", 201, json={"group_id": group["id"], "member_id": alice.id,
                                                       "member_type": "ProcessMaker\\Models\\User"})
    assert (m1["group_id"], m1["member_id"]) == (group["id"], alice.id)
    admin.ok("POST", "/group_members", 201, json={"group_id": group["id"], "member_id": bob.id})
    listed = admin.ok("GET", f"/groups/{group['id']}/users?order_by=username")
    assert sorted(u["id"] for u in listed["data"]) == sorted([alice.id, bob.id]) and listed["meta"]["total"] == 2
    assert_conflict(admin.post("/group_members", json={"group_id": group["id"], "member_id": alice.id}), "member_id")
    admin.ok("DELETE", f"/group_members/{m1['id']}", 204)
    assert [u["id"] for u in admin.ok("GET", f"/groups/{group['id']}/users")["data"]] == [bob.id]
    assert_not_found(admin.delete(f"/group_members/{m1['id']}"))


@pytest.mark.parametrize("body,field", [
    ({"member_id": 1}, "group_id"), ({"group_id": 2147483000, "member_id": 1}, "group_id"),
    ({"group_id": "{g}", "member_id": 2147483000}, "member_id"),
    ({"group_id": "{g}", "member_id": 1, "member_type": "ProcessMaker\\Models\\Group"}, "member_type"),
])
def test_group_member_validation_is_422(admin, body, field):
    group = admin.ok("POST", "/groups", 201, json={"name": unique("v")})
    body = {k: (group["id"] if v == "{g}" else v) for k, v in body.items()}
    assert_invalid(admin.post("/group_members", json=body), field)


def test_permissions_come_through_active_groups(server, admin, make_user):
    user = make_user()
    api = api_for(server, user.username)
    assert_forbidden(api.get("/users"))
    group = admin.ok("POST", "/groups", 201, json={"name": unique("readers")})
    admin.ok("PUT", "/permissions", 204, json={"group_id": group["id"], "permission_names": ["view-users"]})
    member = admin.ok("POST", "/group_members", 201, json={"group_id": group["id"], "member_id": user.id})
    assert api.get("/users").status_code == 200
    admin.ok("PUT", f"/groups/{group['id']}", json={"status": "INACTIVE"})
    assert_forbidden(api.get("/users"))
    admin.ok("PUT", f"/groups/{group['id']}", json={"status": "ACTIVE"})
    assert api.get("/users").status_code == 200
    admin.ok("DELETE", f"/group_members/{member['id']}", 204)
    assert_forbidden(api.get("/users"))


def test_joining_a_group_cannot_raise_your_own_rights(server, admin, make_user):
    """edit-groups alone does not let a user join a group that gives view-users."""
    user = make_user()
    grant(admin, user.id, "view-groups", "edit-groups")
    api = api_for(server, user.username)
    strong = admin.ok("POST", "/groups", 201, json={"name": unique("strong")})
    admin.ok("PUT", "/permissions", 204, json={"group_id": strong["id"], "permission_names": ["view-users"]})
    assert_forbidden(api.post("/group_members", json={"group_id": strong["id"], "member_id": user.id}))
    plain = admin.ok("POST", "/groups", 201, json={"name": unique("plain")})
    api.ok("POST", "/group_members", 201, json={"group_id": plain["id"], "member_id": user.id})


def test_pagination_filter_and_order_over_300_groups(admin):
    prefix = unique("bulk")
    for i in range(300):
        admin.ok("POST", "/groups", 201, json={"name": f"{prefix}-{i:03d}", "description": "odd" if i % 2 else "even"})
    first = admin.ok("GET", f"/groups?filter={prefix}&per_page=100")
    assert first["meta"]["total"] == 300 and first["meta"]["total_pages"] == 3 and len(first["data"]) == 100
    assert [g["name"] for g in first["data"]] == [f"{prefix}-{i:03d}" for i in range(100)]
    seen = []
    for page in (1, 2, 3):
        seen += [g["name"] for g in admin.ok("GET", f"/groups?filter={prefix}&per_page=100&page={page}"
                                                    "&order_by=name&order_direction=desc")["data"]]
    assert seen == [f"{prefix}-{i:03d}" for i in range(299, -1, -1)]
    assert admin.ok("GET", f"/groups?filter={prefix}&page=4&per_page=100")["data"] == []
    capped = admin.ok("GET", f"/groups?filter={prefix}&per_page=1000")
    assert capped["meta"]["per_page"] == 100 and len(capped["data"]) == 100
    assert admin.ok("GET", f"/groups?filter={prefix}-29")["meta"]["total"] == 10  # 290..299
    odd = admin.ok("GET", f"/groups?filter={prefix}&order_by=description&order_direction=desc&per_page=150")
    assert odd["data"][0]["description"] == "odd" and odd["meta"]["count"] == 100
