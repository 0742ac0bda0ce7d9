"""The refused side of every JSON API operation, as authgate's own OpenAPI document lists them (OWASP API1
broken object level and API5 broken function level authorization; RFC 6750 §3.1).

``RULES`` says, for each operation, the scope its token needs, the permission its user needs (a name,
``ADMIN`` for administrators only, or None: any user) and what owning the object changes. The operations
are those of the document the server serves (``/api/openapi.json``, built from the same routers at
collection): an operation without a row fails every test here, a row without an operation fails
``test_every_documented_operation_has_a_rule``. For each operation:

(a) no token, or one that is no token of ours: 401 ``{"error": "Unauthenticated."}`` with ``WWW-Authenticate: Bearer``;
(b) a token of an administrator holding every API scope but the operation's: 403 ``insufficient_scope`` naming it;
(c) a token with every scope whose user holds every permission but the operation's (for administrator-only
    operations: every permission): 403, and not ``insufficient_scope``;
(d) personal access tokens of administrators that are revoked, expired, or whose user is inactive or deleted: 401;
(e) an access token of an administrator for another resource (RFC 8707), holding every API scope: 401 ``invalid_token``;
(f) another user's objects (personal access tokens, authorized applications, sessions, second factors,
    clients one registered): 403 for their user, 404 for their id under one's own user, and nothing changes.

After each refused write the world the requests aimed at (read back by an administrator) is as it was.
The holes this walk found have their own tests at the end, each failing before its fix.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import pytest
import requests

from support import (
    Api, Browser, assert_forbidden, assert_invalid, assert_not_found, parse_page, assert_unauthenticated, grant,
    password_grant, token_request, unique, user_via_api,
)

ADMIN = "administrator"
SELF = "own objects need no permission"
OWN_ONLY = "only one's own, whoever asks"
NOT_SELF = "never one's own"
API_SCOPES = ("users:read", "users:write", "groups:read", "groups:write", "clients:read", "clients:write",
              "tokens:read", "tokens:write", "security_logs:read", "security:read", "security:write")


@dataclass(frozen=True)
class Rule:
    scope: str
    permission: str | None
    owner: str | None = None
    """None: owning the object changes nothing; else one of SELF, OWN_ONLY, NOT_SELF."""


RULES: dict[tuple[str, str], Rule] = {
    ("get", "/users"): Rule("users:read", "view-users"),
    ("get", "/deleted_users"): Rule("users:read", "delete-users"),
    ("post", "/users"): Rule("users:write", "create-users"),
    ("get", "/users/me"): Rule("users:read", None, OWN_ONLY),
    ("get", "/users/{user_id}"): Rule("users:read", "view-users", SELF),
    ("put", "/users/{user_id}"): Rule("users:write", "edit-users", SELF),
    ("delete", "/users/{user_id}"): Rule("users:write", "delete-users", NOT_SELF),
    ("put", "/users/{user_id}/restore"): Rule("users:write", "delete-users"),
    ("get", "/groups"): Rule("groups:read", "view-groups"),
    ("post", "/groups"): Rule("groups:write", "create-groups"),
    ("get", "/groups/{group_id}"): Rule("groups:read", "view-groups"),
    ("put", "/groups/{group_id}"): Rule("groups:write", "edit-groups"),
    ("delete", "/groups/{group_id}"): Rule("groups:write", "delete-groups"),
    ("get", "/groups/{group_id}/users"): Rule("groups:read", "view-groups"),
    ("post", "/group_members"): Rule("groups:write", "edit-groups"),
    ("delete", "/group_members/{group_member_id}"): Rule("groups:write", "edit-groups"),
    # asked with user_id (with group_id it is view-groups; with neither, any user)
    ("get", "/permissions"): Rule("users:read", "view-users", SELF),
    # asked with user_id (with group_id the scope is groups:write and the permission edit-groups)
    ("put", "/permissions"): Rule("users:write", "edit-users"),
    ("get", "/users/{user_id}/tokens"): Rule("tokens:read", ADMIN, SELF),
    ("post", "/users/{user_id}/tokens"): Rule("tokens:write", ADMIN, SELF),
    ("get", "/users/{user_id}/tokens/{token_id}"): Rule("tokens:read", ADMIN, SELF),
    ("delete", "/users/{user_id}/tokens/{token_id}"): Rule("tokens:write", ADMIN, SELF),
    ("get", "/users/{user_id}/sessions"): Rule("users:read", "edit-users", SELF),
    ("delete", "/users/{user_id}/sessions"): Rule("users:write", "edit-users", SELF),
    ("delete", "/users/{user_id}/sessions/{session_id}"): Rule("users:write", "edit-users", SELF),
    ("get", "/oauth/clients"): Rule("clients:read", "view-auth_clients"),
    ("post", "/oauth/clients"): Rule("clients:write", "create-auth_clients"),
    ("get", "/oauth/clients/{client_id}"): Rule("clients:read", "view-auth_clients"),
    ("put", "/oauth/clients/{client_id}"): Rule("clients:write", "edit-auth_clients"),
    ("delete", "/oauth/clients/{client_id}"): Rule("clients:write", "delete-auth_clients"),
    ("post", "/oauth/clients/{client_id}/secret"): Rule("clients:write", "edit-auth_clients"),
    ("post", "/oauth/clients/{client_id}/disable"): Rule("clients:write", "edit-auth_clients"),
    ("post", "/oauth/clients/{client_id}/enable"): Rule("clients:write", "edit-auth_clients"),
    ("get", "/users/me/authorizations"): Rule("tokens:read", None, OWN_ONLY),
    ("delete", "/users/me/authorizations/{client_id}"): Rule("tokens:write", None, OWN_ONLY),
    ("get", "/security_logs"): Rule("security_logs:read", ADMIN),
    ("get", "/security/factor_policy"): Rule("security:read", ADMIN),
    ("put", "/security/factor_policy"): Rule("security:write", ADMIN),
    ("get", "/users/{user_id}/factors"): Rule("users:read", "edit-users", SELF),
    ("delete", "/users/{user_id}/factors"): Rule("users:write", "edit-users", NOT_SELF),
    ("get", "/resources"): Rule("clients:read", "view-auth_clients"),
    ("post", "/resources"): Rule("clients:write", ADMIN),
    ("get", "/resources/{resource_id}"): Rule("clients:read", "view-auth_clients"),
    ("put", "/resources/{resource_id}"): Rule("clients:write", ADMIN),
    ("delete", "/resources/{resource_id}"): Rule("clients:write", ADMIN),
    ("get", "/providers"): Rule("security:read", ADMIN),
    ("post", "/providers"): Rule("security:write", ADMIN),
    ("get", "/providers/{provider_id}"): Rule("security:read", ADMIN),
    ("put", "/providers/{provider_id}"): Rule("security:write", ADMIN),
    ("delete", "/providers/{provider_id}"): Rule("security:write", ADMIN),
}


def _documented_operations() -> list[tuple[str, str]]:
    """The operations of the OpenAPI document, built as the server builds it (from its routers)."""
    from fastapi import FastAPI

    from authgate.web.app import ROUTERS

    app = FastAPI()
    for router in ROUTERS:
        app.include_router(router)
    return sorted((method, path.removeprefix("/api/1.0")) for path, item in app.openapi()["paths"].items()
                  if path.startswith("/api/1.0/") for method in item)


OPERATIONS = _documented_operations()


def rule_of(operation: tuple[str, str]) -> Rule:
    if operation not in RULES:
        pytest.fail(f"{operation[0].upper()} {operation[1]} is documented but has no row in RULES: say which scope, "
                    "permission and owner rule refuse it", pytrace=False)
    return RULES[operation]


def ids(operation: tuple[str, str]) -> str:
    return f"{operation[0].upper()} {operation[1]}"


def with_permission(operation) -> bool:
    return operation not in RULES or RULES[operation].permission is not None


def is_write(operation) -> bool:
    return operation[0] != "get"


# -- the world every request aims at -------------------------------------------------------------------


@dataclass
class World:
    server: object
    admin: Api
    victim: object
    victim_api: Api
    victim_token_id: int
    victim_session_id: int
    deleted: object
    newcomer: object
    group_id: int
    membership_id: int
    client: dict
    authorized_client: object
    resource_id: int
    provider_id: int
    permissions: list[str]
    baseline: dict = field(default_factory=dict)
    last_name: str = "none"
    """The name the last request gave what it would create: none by that name may appear."""

    def request(self, operation) -> tuple[str, str, dict | None]:
        """The path and body of a request for ``operation`` that would succeed for an administrator."""
        v, c = self.victim.id, self.client["id"]
        name = self.last_name = unique("refused")
        concrete = {
            ("get", "/users"): ("/users", None),
            ("get", "/deleted_users"): ("/deleted_users", None),
            ("post", "/users"): ("/users", {"username": name, "email": f"{name}@example.org",
                                            "password": "pw-" + name}),
            ("get", "/users/me"): ("/users/me", None),
            ("get", "/users/{user_id}"): (f"/users/{v}", None),
            ("put", "/users/{user_id}"): (f"/users/{v}", {"firstname": "Changed", "email": f"{name}@example.org"}),
            ("delete", "/users/{user_id}"): (f"/users/{v}", None),
            ("put", "/users/{user_id}/restore"): (f"/users/{self.deleted.id}/restore", None),
            ("get", "/groups"): ("/groups", None),
            ("post", "/groups"): ("/groups", {"name": name}),
            ("get", "/groups/{group_id}"): (f"/groups/{self.group_id}", None),
            ("put", "/groups/{group_id}"): (f"/groups/{self.group_id}", {"description": "changed"}),
            ("delete", "/groups/{group_id}"): (f"/groups/{self.group_id}", None),
            ("get", "/groups/{group_id}/users"): (f"/groups/{self.group_id}/users", None),
            ("post", "/group_members"): ("/group_members", {"group_id": self.group_id, "member_id": self.newcomer.id}),
            ("delete", "/group_members/{group_member_id}"): (f"/group_members/{self.membership_id}", None),
            ("get", "/permissions"): (f"/permissions?user_id={v}", None),
            ("put", "/permissions"): ("/permissions", {"user_id": v, "permission_names": ["view-groups"]}),
            ("get", "/users/{user_id}/tokens"): (f"/users/{v}/tokens", None),
            ("post", "/users/{user_id}/tokens"): (f"/users/{v}/tokens", {"name": name}),
            ("get", "/users/{user_id}/tokens/{token_id}"): (f"/users/{v}/tokens/{self.victim_token_id}", None),
            ("delete", "/users/{user_id}/tokens/{token_id}"): (f"/users/{v}/tokens/{self.victim_token_id}", None),
            ("get", "/users/{user_id}/sessions"): (f"/users/{v}/sessions", None),
            ("delete", "/users/{user_id}/sessions"): (f"/users/{v}/sessions", None),
            ("delete", "/users/{user_id}/sessions/{session_id}"): (f"/users/{v}/sessions/{self.victim_session_id}", None),
            ("get", "/oauth/clients"): ("/oauth/clients", None),
            ("post", "/oauth/clients"): ("/oauth/clients", {"name": name, "types": ["client_credentials"]}),
            ("get", "/oauth/clients/{client_id}"): (f"/oauth/clients/{c}", None),
            ("put", "/oauth/clients/{client_id}"): (f"/oauth/clients/{c}", {"name": "changed"}),
            ("delete", "/oauth/clients/{client_id}"): (f"/oauth/clients/{c}", None),
            ("post", "/oauth/clients/{client_id}/secret"): (f"/oauth/clients/{c}/secret", None),
            ("post", "/oauth/clients/{client_id}/disable"): (f"/oauth/clients/{c}/disable", None),
            ("post", "/oauth/clients/{client_id}/enable"): (f"/oauth/clients/{c}/enable", None),
            ("get", "/users/me/authorizations"): ("/users/me/authorizations", None),
            ("delete", "/users/me/authorizations/{client_id}"):
                (f"/users/me/authorizations/{self.authorized_client.client_id}", None),
            ("get", "/security_logs"): ("/security_logs", None),
            ("get", "/security/factor_policy"): ("/security/factor_policy", None),
            ("put", "/security/factor_policy"): ("/security/factor_policy",
                                                 {"require": "groups", "group_ids": [self.group_id]}),
            ("get", "/users/{user_id}/factors"): (f"/users/{v}/factors", None),
            ("delete", "/users/{user_id}/factors"): (f"/users/{v}/factors", None),
            ("get", "/resources"): ("/resources", None),
            ("post", "/resources"): ("/resources", {"identifier": f"https://{name}.example.com/api", "name": name}),
            ("get", "/resources/{resource_id}"): (f"/resources/{self.resource_id}", None),
            ("put", "/resources/{resource_id}"): (f"/resources/{self.resource_id}", {"name": "changed"}),
            ("delete", "/resources/{resource_id}"): (f"/resources/{self.resource_id}", None),
            ("get", "/providers"): ("/providers", None),
            ("post", "/providers"): ("/providers", {"name": name, "issuer": "https://idp.example.com",
                                                    "client_id": "rp", "client_secret": "s3cret",
                                                    "check_discovery": False}),
            ("get", "/providers/{provider_id}"): (f"/providers/{self.provider_id}", None),
            ("put", "/providers/{provider_id}"): (f"/providers/{self.provider_id}", {"enabled": True}),
            ("delete", "/providers/{provider_id}"): (f"/providers/{self.provider_id}", None),
        }
        if operation not in concrete:
            pytest.fail(f"no example request for {ids(operation)} in World.request", pytrace=False)
        path, body = concrete[operation]
        return operation[0].upper(), path, body

    def send(self, api: Api, operation) -> requests.Response:
        method, path, body = self.request(operation)
        return api.request(method, path, json=body)

    def snapshot(self) -> dict:
        """What the requests aim at, as an administrator reads it back (times of use left out)."""
        a, v = self.admin, self.victim.id

        def rows(path: str, drop=("last_used_at", "last_seen_at")) -> list:
            return [{k: x for k, x in row.items() if k not in drop} for row in a.ok("GET", path)["data"]]

        def total(path: str) -> int:
            return a.ok("GET", path)["meta"]["total"]

        secret_works = token_request(self.server, {"grant_type": "client_credentials"},
                                     auth=(self.client["client_id"], self.client["secret"])).status_code == 200
        return {
            "victim": a.ok("GET", f"/users/{v}"),
            "made by the request": [total(f"{path}?filter={self.last_name}")
                                    for path in ("/users", "/groups", "/oauth/clients", "/resources")],
            "deleted user still deleted": self.deleted.id in {
                u["id"] for u in a.ok("GET", f"/deleted_users?filter={self.deleted.username}")["data"]},
            "victim permissions": sorted(p["name"] for p in rows(f"/permissions?user_id={v}")),
            "victim tokens": rows(f"/users/{v}/tokens"),
            "victim sessions": rows(f"/users/{v}/sessions"),
            "victim factors": rows(f"/users/{v}/factors"),
            "victim authorizations": [x["id"] for x in self.victim_api.ok("GET", "/users/me/authorizations")["data"]],
            "group": a.ok("GET", f"/groups/{self.group_id}"),
            "group users": [u["id"] for u in rows(f"/groups/{self.group_id}/users")],
            "group permissions": sorted(p["name"] for p in rows(f"/permissions?group_id={self.group_id}")),
            "client": a.ok("GET", f"/oauth/clients/{self.client['id']}"),
            "client secret works": secret_works,
            "resource": a.ok("GET", f"/resources/{self.resource_id}"),
            "providers": a.ok("GET", "/providers")["data"],
            "factor policy": a.ok("GET", "/security/factor_policy"),
        }

    def assert_unchanged(self, operation) -> None:
        if is_write(operation):
            now = self.snapshot()
            changed = {k: (self.baseline[k], now[k]) for k in now if now[k] != self.baseline[k]}
            assert not changed, f"refused {ids(operation)} changed: {changed}"


def pat_of(admin: Api, user_id: int, scopes=("*",), **extra) -> tuple[Api, dict]:
    made = admin.ok("POST", f"/users/{user_id}/tokens", 201, json={"name": unique("pat"), "scopes": list(scopes), **extra})
    return Api(admin.server, made["accessToken"]), made["token"]


def administrator(admin: Api):
    user = user_via_api(admin)
    admin.ok("PUT", "/permissions", 204, json={"user_id": user.id, "is_administrator": True})
    return user


@pytest.fixture(scope="module")
def world(server, admin) -> World:
    permissions = sorted(p["name"] for p in admin.ok("GET", "/permissions?per_page=100")["data"])
    victim = user_via_api(admin)
    victim_api, victim_token = pat_of(admin, victim.id)
    Browser(server).login(victim)
    session_id = admin.ok("GET", f"/users/{victim.id}/sessions")["data"][0]["id"]
    authorized = server.create_client(grants=["password"])
    assert password_grant(server, authorized, victim, scope="users:read").status_code == 200
    deleted = user_via_api(admin)
    admin.ok("DELETE", f"/users/{deleted.id}", 204)
    member, newcomer = user_via_api(admin), user_via_api(admin)
    group_id = admin.ok("POST", "/groups", 201, json={"name": unique("group")})["id"]
    grant_group = {"group_id": group_id, "permission_names": ["view-groups"]}
    admin.ok("PUT", "/permissions", 204, json=grant_group)
    membership_id = admin.ok("POST", "/group_members", 201, json={"group_id": group_id, "member_id": member.id})["id"]
    client = admin.ok("POST", "/oauth/clients", 201, json={"name": unique("app"), "types": ["client_credentials"],
                                                           "scopes": ["clients:read"]})
    resource_id = admin.ok("POST", "/resources", 201, json={"identifier": f"https://{unique('rs')}.example.com/api",
                                                            "name": unique("rs")})["id"]
    provider_id = admin.ok("POST", "/providers", 201, json={"name": unique("idp"), "issuer": "https://idp.example.com",
                                                            "client_id": "rp", "client_secret": "s3cret",
                                                            "enabled": False, "check_discovery": False})["id"]
    w = World(server, admin, victim, victim_api, victim_token["id"], session_id, deleted, newcomer, group_id,
              membership_id, client, authorized, resource_id, provider_id, permissions)
    w.baseline = w.snapshot()
    assert w.baseline["victim authorizations"] == [authorized.client_id]
    assert w.baseline["client secret works"] and w.baseline["victim sessions"]
    return w


@pytest.fixture(scope="module")
def powerful(world) -> object:
    """An administrator other than the seeded one: whose tokens (b), (d) and (e) use."""
    return administrator(world.admin)


# -- the document and the table -------------------------------------------------------------------------


def test_every_documented_operation_has_a_rule(server):
    """The operations parametrized here are those the server documents, and each has its row."""
    served = requests.get(server.url("/api/openapi.json"), timeout=15).json()
    listed = sorted((method, path.removeprefix("/api/1.0")) for path, item in served["paths"].items()
                    if path.startswith("/api/1.0/") for method in item)
    assert listed == OPERATIONS
    assert sorted(set(OPERATIONS) - set(RULES)) == [], "documented operations without a rule"
    assert sorted(set(RULES) - set(OPERATIONS)) == [], "rules for operations the API does not document"
    for (method, path), rule in RULES.items():
        item = served["paths"]["/api/1.0" + path][method]
        assert f"`{rule.scope}`" in item["description"], (method, path, item["description"])
        if rule.permission not in (None, ADMIN):
            assert f"`{rule.permission}`" in item["description"], (method, path, item["description"])


# -- (a) no token -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("operation", OPERATIONS, ids=ids)
def test_no_token_is_401_rfc6750_3_1(world, operation):
    rule_of(operation)
    r = world.send(Api(world.server, None), operation)
    assert_unauthenticated(r)
    assert "resource_metadata=" in r.headers["WWW-Authenticate"]
    assert_unauthenticated(world.send(Api(world.server, "agp_" + "x" * 40), operation))
    world.assert_unchanged(operation)


# -- (b) the scope ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def without_scope(world, powerful):
    """The administrator's token holding every API scope but one, by the scope left out."""
    made: dict[str, Api] = {}

    def token(scope: str) -> Api:
        if scope not in made:
            made[scope] = pat_of(world.admin, powerful.id, [s for s in API_SCOPES if s != scope])[0]
        return made[scope]
    return token


@pytest.mark.parametrize("operation", OPERATIONS, ids=ids)
def test_token_without_the_scope_is_403_insufficient_scope_rfc6750_3_1(world, without_scope, operation):
    rule = rule_of(operation)
    r = world.send(without_scope(rule.scope), operation)
    body = assert_forbidden(r, scope=rule.scope)
    assert rule.scope in body["reason"]
    world.assert_unchanged(operation)


# -- (c) the permission -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def lacking(world):
    """A token with every scope of a user holding every permission but one (``ADMIN``: every permission,
    not an administrator), by the permission left out."""
    made: dict[str, Api] = {}

    def token(permission: str) -> Api:
        if permission not in made:
            user = user_via_api(world.admin)
            grant(world.admin, user.id, *[p for p in world.permissions if p != permission])
            made[permission] = pat_of(world.admin, user.id)[0]
        return made[permission]
    return token


@pytest.mark.parametrize("operation", [op for op in OPERATIONS if with_permission(op)], ids=ids)
def test_user_without_the_permission_is_403(world, lacking, operation):
    rule = rule_of(operation)
    r = world.send(lacking(rule.permission), operation)
    assert_forbidden(r)
    world.assert_unchanged(operation)


@pytest.mark.parametrize("operation", [op for op in OPERATIONS if op[0] == "get" and with_permission(op)], ids=ids)
def test_reads_work_with_exactly_the_listed_scope_and_permission(world, operation):
    """The control of (b) and (c): the row's scope and permission are enough (so the table is not merely strict)."""
    rule = rule_of(operation)
    if rule.permission == ADMIN:
        user = administrator(world.admin)
    else:
        user = user_via_api(world.admin)
        grant(world.admin, user.id, rule.permission)
    api = Api(world.server, pat_of(world.admin, user.id, [rule.scope])[0].token)
    r = world.send(api, operation)
    assert r.status_code == 200, f"{ids(operation)}: {r.status_code} {r.text[:300]}"


# -- (d) dead personal access tokens ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def dead_tokens(world, powerful) -> dict[str, Api]:
    admin = world.admin
    revoked, row = pat_of(admin, powerful.id)
    expires = datetime.now(timezone.utc) + timedelta(seconds=2)
    expired, _ = pat_of(admin, powerful.id, expires_at=expires.isoformat())
    inactive_user, deleted_user = administrator(admin), administrator(admin)
    inactive, _ = pat_of(admin, inactive_user.id)
    of_deleted, _ = pat_of(admin, deleted_user.id)
    for api in (revoked, expired, inactive, of_deleted):
        assert api.get("/users/me").status_code == 200
    admin.ok("DELETE", f"/users/{powerful.id}/tokens/{row['id']}", 204)
    admin.ok("PUT", f"/users/{inactive_user.id}", 200, json={"status": "INACTIVE"})
    admin.ok("DELETE", f"/users/{deleted_user.id}", 204)
    time.sleep(max(0.0, (expires - datetime.now(timezone.utc)).total_seconds() + 0.2))
    return {"revoked": revoked, "expired": expired, "of an inactive user": inactive, "of a deleted user": of_deleted}


@pytest.mark.parametrize("operation", OPERATIONS, ids=ids)
def test_dead_personal_access_tokens_are_401_rfc6750_3_1(world, dead_tokens, operation):
    rule_of(operation)
    for why, api in dead_tokens.items():
        r = world.send(api, operation)
        assert r.status_code == 401, f"a token {why}: {r.status_code} {r.text[:300]}"
        assert_unauthenticated(r)
    world.assert_unchanged(operation)


# -- (e) a token for another resource -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def other_audience(world, powerful) -> Api:
    """An access token of an administrator, with every API scope, for a resource server that defines them all."""
    identifier = f"https://{unique('elsewhere')}.example.com/api"
    world.admin.ok("POST", "/resources", 201, json={"identifier": identifier, "name": identifier,
                                                    "scopes": list(API_SCOPES)})
    app = world.server.create_client(grants=["password"])
    scope = " ".join(API_SCOPES)
    own = password_grant(world.server, app, powerful, scope=scope)
    assert Api(world.server, own.json()["access_token"]).get("/users/me").status_code == 200
    r = password_grant(world.server, app, powerful, scope=scope, resource=identifier)
    assert r.status_code == 200, r.text
    assert r.json()["scope"].split() == list(API_SCOPES)
    return Api(world.server, r.json()["access_token"])


@pytest.mark.parametrize("operation", OPERATIONS, ids=ids)
def test_token_for_another_resource_is_401_rfc8707_rfc6750_3_1(world, other_audience, operation):
    rule_of(operation)
    r = world.send(other_audience, operation)
    assert_unauthenticated(r)
    assert 'error="invalid_token"' in r.headers["WWW-Authenticate"]
    world.assert_unchanged(operation)


# -- (f) other people's objects -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def someone(world):
    """A user holding no permission, with a token of every scope, a token of their own and a session."""
    user = user_via_api(world.admin)
    api, row = pat_of(world.admin, user.id)
    Browser(world.server).login(user)
    return user, api, row


@pytest.mark.parametrize("operation", [op for op in OPERATIONS if op not in RULES or RULES[op].owner == SELF],
                         ids=ids)
def test_another_users_objects_are_403_and_ones_own_work(world, someone, operation):
    """OWASP API1: an operation on a user's own objects, aimed at another user, is refused; the same
    operation on one's own (a read) works, as the row's SELF says."""
    rule_of(operation)
    user, api, _ = someone
    assert_forbidden(world.send(api, operation))
    world.assert_unchanged(operation)
    if operation[0] == "get":
        method, path, _ = world.request(operation)
        own = path.replace(f"/users/{world.victim.id}", f"/users/{user.id}").replace(
            f"user_id={world.victim.id}", f"user_id={user.id}")
        if "{token_id}" in operation[1]:
            own = own.rsplit("/", 1)[0] + f"/{someone[2]['id']}"
        r = api.request(method, own)
        assert r.status_code == 200, f"{method} {own}: {r.status_code} {r.text[:300]}"


def test_another_users_token_under_ones_own_id_is_404(world, someone):
    """Ids are checked against the user in the path: a token of the victim named under one's own user."""
    user, api, _ = someone
    path = f"/users/{user.id}/tokens/{world.victim_token_id}"
    assert_not_found(api.get(path))
    assert_not_found(api.delete(path))
    assert world.victim_api.get("/users/me").status_code == 200
    world.assert_unchanged(("delete", "/users/{user_id}/tokens/{token_id}"))


def test_another_users_session_under_ones_own_id_is_404(world, someone):
    user, api, _ = someone
    assert_not_found(api.delete(f"/users/{user.id}/sessions/{world.victim_session_id}"))
    world.assert_unchanged(("delete", "/users/{user_id}/sessions/{session_id}"))


def test_another_users_authorized_application_is_404(world, someone):
    """The victim's authorization of a client is not the asker's to revoke: 404, and the victim keeps it."""
    _, api, _ = someone
    assert_not_found(api.delete(f"/users/me/authorizations/{world.authorized_client.client_id}"))
    assert api.ok("GET", "/users/me/authorizations")["data"] == []
    world.assert_unchanged(("delete", "/users/me/authorizations/{client_id}"))


def test_one_cannot_reset_ones_own_factors_through_the_api(world, someone):
    """NOT_SELF: resetting second factors is for someone else's lost phone, never one's own."""
    user, _, _ = someone
    editor = administrator(world.admin)
    api, _ = pat_of(world.admin, editor.id)
    assert_forbidden(api.delete(f"/users/{editor.id}/factors"))
    assert_forbidden(api.delete(f"/users/{editor.id}"))


def test_owning_a_client_gives_no_right_over_it(world):
    """A client's ``user_id`` records who registered it; only the ``*-auth_clients`` permissions decide."""
    maker = user_via_api(world.admin)
    grant(world.admin, maker.id, "create-auth_clients")
    api, _ = pat_of(world.admin, maker.id)
    own = api.ok("POST", "/oauth/clients", 201, json={"name": unique("mine"), "types": ["client_credentials"]})
    assert own["user_id"] == maker.id
    before = world.admin.ok("GET", f"/oauth/clients/{own['id']}")
    for method, path, body in (("GET", "", None), ("PUT", "", {"name": "renamed"}), ("POST", "/secret", None),
                               ("POST", "/disable", None), ("DELETE", "", None)):
        assert_forbidden(api.request(method, f"/oauth/clients/{own['id']}{path}", json=body))
    assert world.admin.ok("GET", f"/oauth/clients/{own['id']}") == before
    assert token_request(world.server, {"grant_type": "client_credentials"},
                         auth=(own["client_id"], own["secret"])).status_code == 200


# -- the holes the walk found (each test failed before its fix) -----------------------------------------------


def test_changing_ones_own_email_through_the_api_needs_the_current_password(world):
    """A token that may write its user is not the user: moving the address password resets go to needs the
    password, as a password change does; for an administrator too (an administrator changing someone else's
    address needs none)."""
    for who in (user_via_api(world.admin), administrator(world.admin)):
        api, _ = pat_of(world.admin, who.id)
        new = f"{unique('moved')}@example.org"
        assert_invalid(api.put(f"/users/{who.id}", json={"email": new}), "current_password")
        assert_invalid(api.put(f"/users/{who.id}", json={"email": new, "current_password": "wrong-password"}),
                       "current_password")
        assert world.admin.ok("GET", f"/users/{who.id}")["email"] == who.email
        assert api.ok("PUT", f"/users/{who.id}", json={"firstname": "Named"})["firstname"] == "Named"
        assert api.ok("PUT", f"/users/{who.id}", json={"email": new, "current_password": who.password})["email"] == new
    other = user_via_api(world.admin)
    moved = f"{unique('moved')}@example.org"
    assert world.admin.ok("PUT", f"/users/{other.id}", json={"email": moved})["email"] == moved


def test_an_administrator_on_their_own_admin_user_page_changes_their_email_only_with_their_password(world):
    """The admin user page saves through the same rule: one's own address needs one's current password."""
    me = administrator(world.admin)
    browser = Browser(world.server)
    browser.login(me)
    page = browser.get(f"/admin/users/{me.id}")
    form = [f for f in parse_page(page.text).forms if f.action == f"/admin/users/{me.id}"][0]
    assert form.input("current_password") is not None, "the form asks for the current password"
    new = f"{unique('moved')}@example.org"
    refused = browser.post(f"/admin/users/{me.id}",
                           data={**form.fields(), "status": "ACTIVE", "email": new, "current_password": ""})
    assert refused.status_code == 422 and "current password" in refused.text
    assert world.admin.ok("GET", f"/users/{me.id}")["email"] == me.email
    form = [f for f in parse_page(refused.text).forms if f.action == f"/admin/users/{me.id}"][0]
    saved = browser.post(f"/admin/users/{me.id}",
                         data={**form.fields(), "status": "ACTIVE", "email": new, "current_password": me.password})
    assert saved.status_code == 303, saved.text[:500]
    assert world.admin.ok("GET", f"/users/{me.id}")["email"] == new


def test_restoring_a_user_needs_every_permission_they_hold(world):
    """As deleting them does: a holder of delete-users alone cannot bring back an account more powerful
    than their own."""
    strong = user_via_api(world.admin)
    grant(world.admin, strong.id, "edit-users", "view-users")
    world.admin.ok("DELETE", f"/users/{strong.id}", 204)
    restorer = user_via_api(world.admin)
    grant(world.admin, restorer.id, "delete-users")
    api, _ = pat_of(world.admin, restorer.id)
    body = assert_forbidden(api.put(f"/users/{strong.id}/restore"))
    assert "edit-users" in body["reason"] and "view-users" in body["reason"]
    deleted = world.admin.ok("GET", f"/deleted_users?filter={strong.username}")["data"]
    assert [u["id"] for u in deleted] == [strong.id]
    grant(world.admin, restorer.id, "delete-users", "edit-users", "view-users")
    assert api.ok("PUT", f"/users/{strong.id}/restore")["deleted_at"] is None


def test_deleting_a_group_needs_every_permission_it_gives(world):
    """Deleting a group takes its permissions from its members, as removing them would: the deleter must hold them."""
    group = world.admin.ok("POST", "/groups", 201, json={"name": unique("strong")})["id"]
    world.admin.ok("PUT", "/permissions", 204, json={"group_id": group, "permission_names": ["edit-users"]})
    deleter = user_via_api(world.admin)
    grant(world.admin, deleter.id, "delete-groups")
    api, _ = pat_of(world.admin, deleter.id)
    body = assert_forbidden(api.delete(f"/groups/{group}"))
    assert "edit-users" in body["reason"]
    assert world.admin.ok("GET", f"/groups/{group}")["id"] == group
    plain = world.admin.ok("POST", "/groups", 201, json={"name": unique("plain")})["id"]
    assert api.delete(f"/groups/{plain}").status_code == 204


def test_new_credentials_for_a_client_that_reads_the_directory_need_what_that_read_needs(world):
    """A new secret or new keys let whoever gets them act as the client, and so read the directory: only
    someone who could give that read (view-users / view-groups, or an administrator) may make them."""
    from joserfc.jwk import ECKey

    made = world.server.create_client(unique("directory"), grants=["client_credentials"],
                                      scopes=["users:read", "groups:read"])  # at the CLI: no owner to outrank
    reader = {**made.data, "secret": made.client_secret}
    editor = user_via_api(world.admin)
    grant(world.admin, editor.id, "view-auth_clients", "edit-auth_clients")
    api, _ = pat_of(world.admin, editor.id)
    before = world.admin.ok("GET", f"/oauth/clients/{reader['id']}")
    key = ECKey.generate_key("P-256", parameters={"kid": unique("ec")}).as_dict(private=False)
    for method, path, body in (
            ("POST", "/secret", None),
            ("PUT", "", {"token_endpoint_auth_method": "private_key_jwt", "jwks": {"keys": [key]}})):
        refused = assert_forbidden(api.request(method, f"/oauth/clients/{reader['id']}{path}", json=body))
        assert "view-users" in refused["reason"] and "view-groups" in refused["reason"], refused
    assert world.admin.ok("GET", f"/oauth/clients/{reader['id']}") == before
    assert token_request(world.server, {"grant_type": "client_credentials", "scope": "users:read"},
                         auth=(reader["client_id"], reader["secret"])).status_code == 200
    assert api.ok("PUT", f"/oauth/clients/{reader['id']}", json={"name": "renamed"})["name"] == "renamed"
    grant(world.admin, editor.id, "view-auth_clients", "edit-auth_clients", "view-users", "view-groups")
    assert api.ok("POST", f"/oauth/clients/{reader['id']}/secret")["secret"]


def test_a_personal_access_token_cannot_make_one_that_outlives_it(world):
    """A new token made by a personal access token expires no later than it: a later ``expires_at`` is
    refused (403, as a scope it lacks is), and without one the new token ends when the one making it does."""
    owner = user_via_api(world.admin)
    ends = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(days=1)
    api, _ = pat_of(world.admin, owner.id, expires_at=ends.isoformat())
    later = (ends + timedelta(days=30)).isoformat()
    assert_forbidden(api.post(f"/users/{owner.id}/tokens", json={"name": unique("longer"), "expires_at": later}))
    assert len(world.admin.ok("GET", f"/users/{owner.id}/tokens")["data"]) == 1
    made = api.ok("POST", f"/users/{owner.id}/tokens", 201, json={"name": unique("default")})["token"]
    assert datetime.fromisoformat(made["expires_at"]) <= ends
    sooner = (ends - timedelta(hours=1)).isoformat()
    made = api.ok("POST", f"/users/{owner.id}/tokens", 201, json={"name": unique("sooner"), "expires_at": sooner})
    assert datetime.fromisoformat(made["token"]["expires_at"]) == ends - timedelta(hours=1)
