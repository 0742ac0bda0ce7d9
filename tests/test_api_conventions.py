"""What every /api/1.0 endpoint shares, checked endpoint by endpoint: 401 without a valid token
(RFC 6750 §3.1, with WWW-Authenticate), 403 when the token lacks the scope (RFC 6750 §3.1
insufficient_scope) or its user the permission, 404 for unknown records, and ProcessMaker's body
shapes for each. Also: bad query input is a 422 in ProcessMaker's shape, never a 500.
"""

from __future__ import annotations

import pytest
import requests

from support import (HTTP_TIMEOUT, Api, api_for, assert_forbidden, assert_invalid, assert_not_found, assert_unauthenticated,
                     unique)


@pytest.fixture(scope="module")
def world(server, admin):
    """One of each record, and a user with every scope but no permission."""
    target = server.create_user()
    group = admin.ok("POST", "/groups", 201, json={"name": unique("conv-group")})
    member = admin.ok("POST", "/group_members", 201, json={"group_id": group["id"], "member_id": target.id})
    client = admin.ok("POST", "/oauth/clients", 201, json={"name": unique("conv-app"), "types": ["password_client"]})
    pat = admin.ok("POST", f"/users/{target.id}/tokens", 201, json={"name": "conv"})["token"]
    nobody = server.create_user()
    return {
        "admin_id": admin.ok("GET", "/users/me")["id"],
        "user": target.id, "group": group["id"], "member": member["id"], "client": client["id"], "token": pat["id"],
        "nobody": nobody, "nobody_api": api_for(server, nobody.username),
    }


# (method, path, scope needed, JSON body, refused without permission to a user holding none)
ENDPOINTS = [
    ("GET", "/users", "users:read", None, True),
    ("GET", "/deleted_users", "users:read", None, True),
    ("POST", "/users", "users:write", {"username": "x", "email": "x@example.org", "password": "password1"}, True),
    ("GET", "/users/me", "users:read", None, False),
    ("GET", "/users/{user}", "users:read", None, True),
    ("PUT", "/users/{user}", "users:write", {"firstname": "X"}, True),
    ("DELETE", "/users/{user}", "users:write", None, True),
    ("PUT", "/users/{user}/restore", "users:write", None, True),
    ("GET", "/groups", "groups:read", None, True),
    ("POST", "/groups", "groups:write", {"name": "x"}, True),
    ("GET", "/groups/{group}", "groups:read", None, True),
    ("PUT", "/groups/{group}", "groups:write", {"description": "x"}, True),
    ("DELETE", "/groups/{group}", "groups:write", None, True),
    ("GET", "/groups/{group}/users", "groups:read", None, True),
    ("POST", "/group_members", "groups:write", {"group_id": "{group}", "member_id": "{user}"}, True),
    ("DELETE", "/group_members/{member}", "groups:write", None, True),
    ("GET", "/permissions", "users:read", None, False),
    ("PUT", "/permissions", "users:write", {"user_id": "{user}", "permission_names": ["view-users"]}, True),
    ("GET", "/users/{user}/tokens", "tokens:read", None, True),
    ("POST", "/users/{user}/tokens", "tokens:write", {"name": "x"}, True),
    ("GET", "/users/{user}/tokens/{token}", "tokens:read", None, True),
    ("DELETE", "/users/{user}/tokens/{token}", "tokens:write", None, True),
    ("GET", "/oauth/clients", "clients:read", None, True),
    ("POST", "/oauth/clients", "clients:write", {"name": "x", "types": ["password_client"]}, True),
    ("GET", "/oauth/clients/{client}", "clients:read", None, True),
    ("PUT", "/oauth/clients/{client}", "clients:write", {"name": "y"}, True),
    ("POST", "/oauth/clients/{client}/secret", "clients:write", None, True),
    ("DELETE", "/oauth/clients/{client}", "clients:write", None, True),
    ("GET", "/users/me/authorizations", "tokens:read", None, False),
    ("DELETE", "/users/me/authorizations/{client}", "tokens:write", None, False),
]
IDS = [f"{m} {p}" for m, p, *_ in ENDPOINTS]


def _fill(value, world):
    if isinstance(value, str):
        for key in ("user", "group", "member", "client", "token"):
            if value == "{" + key + "}":
                return world[key]
            value = value.replace("{" + key + "}", str(world[key]))
        return value
    if isinstance(value, dict):
        return {k: _fill(v, world) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, world) for v in value]
    return value


@pytest.mark.parametrize("method,path,scope,body,needs_permission", ENDPOINTS, ids=IDS)
def test_no_token_is_401_rfc6750_3_1(server, world, method, path, scope, body, needs_permission):
    r = Api(server, None).request(method, _fill(path, world), json=_fill(body, world))
    assert_unauthenticated(r)
    assert_unauthenticated(Api(server, "agp_not-a-real-token").request(method, _fill(path, world), json=_fill(body, world)))


@pytest.mark.parametrize("method,path,scope,body,needs_permission", ENDPOINTS, ids=IDS)
def test_token_without_the_scope_is_403_insufficient_scope_rfc6750_3_1(
        server, admin, world, method, path, scope, body, needs_permission):
    """Even the administrator's token is refused when it lacks the scope: scope and permission must both allow."""
    others = [s for s in ("users:read", "users:write", "groups:read", "groups:write", "clients:read",
                          "clients:write", "tokens:read", "tokens:write") if s != scope]
    made = admin.ok("POST", f"/users/{world['admin_id']}/tokens", 201, json={"name": "narrow", "scopes": others})
    narrow = Api(server, made["accessToken"])
    assert_forbidden(narrow.request(method, _fill(path, world), json=_fill(body, world)), scope=scope)


@pytest.mark.parametrize("method,path,scope,body,needs_permission",
                         [e for e in ENDPOINTS if e[4]], ids=[i for i, e in zip(IDS, ENDPOINTS) if e[4]])
def test_user_without_the_permission_is_403(server, world, method, path, scope, body, needs_permission):
    r = world["nobody_api"].request(method, _fill(path, world), json=_fill(body, world))
    body = assert_forbidden(r)
    assert body.get("reason"), body


NOT_FOUND = [
    ("GET", "/users/2147483000"), ("PUT", "/users/2147483000"), ("DELETE", "/users/2147483000"),
    ("PUT", "/users/2147483000/restore"), ("GET", "/groups/2147483000"), ("PUT", "/groups/2147483000"),
    ("DELETE", "/groups/2147483000"), ("GET", "/groups/2147483000/users"), ("DELETE", "/group_members/2147483000"),
    ("GET", "/users/2147483000/tokens"), ("POST", "/users/2147483000/tokens"),
    ("GET", "/users/{user}/tokens/2147483000"), ("DELETE", "/users/{user}/tokens/2147483000"),
    ("GET", "/oauth/clients/nope"), ("PUT", "/oauth/clients/nope"), ("POST", "/oauth/clients/nope/secret"),
    ("DELETE", "/oauth/clients/nope"), ("DELETE", "/users/me/authorizations/nope"),
]


@pytest.mark.parametrize("method,path", NOT_FOUND, ids=[f"{m} {p}" for m, p in NOT_FOUND])
def test_unknown_record_is_404(admin, world, method, path):
    body = {"name": "t"} if method in ("POST", "PUT") else None
    assert_not_found(admin.request(method, _fill(path, world), json=body))


@pytest.mark.parametrize("query,field", [
    ("per_page=abc", "per_page"), ("page=0", "page"), ("page=-3", "page"), ("per_page=0", "per_page"),
    ("page=1.5", "page"), ("order_by=password_hash", "order_by"), ("order_by=nope", "order_by"),
    ("order_direction=sideways", "order_direction"), ("filter=" + "x" * 300, "filter"),
])
def test_bad_list_parameters_are_422(admin, query, field):
    body = assert_invalid(admin.get("/users?" + query), field)
    if field == "order_by":
        assert "username" in body["errors"]["order_by"][0]  # names the columns there are


def test_huge_numbers_are_capped_or_empty_never_500(admin):
    r = admin.get("/users?per_page=99999999999999999999999&page=99999999999999999999")
    assert r.status_code == 200, r.text
    assert r.json()["data"] == [] and r.json()["meta"]["per_page"] == 100


@pytest.mark.parametrize("path", ["/users/99999999999999999999", "/users/abc", "/users/0", "/groups/-1"])
def test_ids_out_of_range_or_not_numbers_are_422(admin, path):
    assert_invalid(admin.get(path))


@pytest.mark.parametrize("data,headers", [
    ("{not json", {"Content-Type": "application/json"}),
    ("[1, 2]", {"Content-Type": "application/json"}),
    ("username=x", {"Content-Type": "application/x-www-form-urlencoded"}),
    ("", {"Content-Type": "application/json"}),
    ("\xff\xfe", {"Content-Type": "application/json"}),
])
def test_bodies_that_are_not_json_objects_are_422(admin, data, headers):
    r = admin.request("POST", "/groups", data=data.encode("latin-1"), headers=headers)
    assert_invalid(r, "body")


def test_wrong_types_in_the_body_are_422_naming_the_field(admin):
    assert_invalid(admin.post("/groups", json={"name": 5, "status": "SLEEPING"}), "name", "status")
    assert_invalid(admin.post("/group_members", json={"group_id": "one", "member_id": 10**30}), "group_id", "member_id")


def test_list_envelope_has_processmakers_meta(admin, world):
    body = admin.ok("GET", "/users?per_page=2")
    assert set(body) == {"data", "meta"}
    assert set(body["meta"]) >= {"total", "count", "per_page", "current_page", "total_pages", "from", "to",
                                 "last_page", "sort_by", "sort_order", "filter", "path"}
    assert body["meta"]["path"].endswith("/api/1.0/users")
    assert all("password" not in key for user in body["data"] for key in user)


@pytest.mark.parametrize("method,path,allowed", [
    ("PATCH", "/api/1.0/groups", "GET, POST"), ("DELETE", "/api/1.0/users", "GET, POST"),
    ("POST", "/api/1.0/providers/1", "GET, PUT, DELETE"), ("POST", "/api/openapi.json", "GET, HEAD"),
])
def test_wrong_method_is_405_in_the_api_envelope(server, admin, method, path, allowed):
    """A wrong method anywhere under /api answers as the API's errors do (ProcessMaker's ``message``), naming
    the methods the path takes; Allow says them too (RFC 9110 §15.5.6)."""
    r = requests.request(method, server.url(path), headers={"Authorization": f"Bearer {admin.token}"},
                         timeout=HTTP_TIMEOUT)
    assert r.status_code == 405 and r.headers["Content-Type"].startswith("application/json"), r.text
    body = r.json()
    prefix = f"The {method} method is not supported for this path. Supported methods: "
    assert set(body) == {"message"} and body["message"].startswith(prefix) and body["message"].endswith("."), body
    named = body["message"][len(prefix):-1].split(", ")
    assert set(named) == set(allowed.split(", ")) == set(r.headers["Allow"].split(", ")), (named, r.headers["Allow"])


@pytest.mark.parametrize("path", ["/api", "/api/", "/api/1.0", "/api/1.0/nothing", "/api/1.0/providers/1/nope",
                                  "/api/2.0/users"])
def test_unknown_path_under_api_is_the_api_404(server, admin, path):
    """Nothing answers here: the API's 404, with a token or without, never the HTML error page."""
    for headers in ({"Authorization": f"Bearer {admin.token}"}, {}):
        assert_not_found(requests.get(server.url(path), headers=headers, timeout=HTTP_TIMEOUT))


@pytest.mark.parametrize("method,path,body", [
    ("GET", "/users?filter=a%00b", None),
    ("GET", "/oauth/clients/ab%00cd", None),
    ("POST", "/groups", {"name": "nul\u0000name"}),
    ("PUT", "/users/1", {"firstname": "a\u0000"}),
])
def test_nul_characters_are_422_not_a_database_error(admin, method, path, body):
    """PostgreSQL text cannot hold U+0000; the API refuses it before any query."""
    assert_invalid(admin.request(method, path, json=body))
