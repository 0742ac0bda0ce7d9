"""The audit log (issue 7 §5): sign-ins, consent, tokens (issued, refreshed, reused, revoked),
clients, keys and account changes (password, deactivation, deletion) are recorded with who, when and from where; administrators read it through
GET /api/1.0/security_logs in ProcessMaker's list shape; no entry ever holds a secret."""

from __future__ import annotations

import base64
import json
import secrets

import pytest

from support import (Api, Browser, api_for, exchange_code, get_code, introspect, password_grant, refresh, revoke,
                     token_request)


@pytest.fixture(scope="module")
def audited(server_factory):
    return server_factory({"AUTHGATE_REFRESH_GRACE_SECONDS": "0"})


def events(srv, **params) -> list[dict]:
    api = api_for(srv, "admin")
    r = api.get("/security_logs", params={"per_page": 100, "order_direction": "desc", **params})
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"data", "meta"} and body["meta"]["per_page"] == 100
    return body["data"]


def test_sign_ins_are_recorded_with_address_and_never_the_password(audited):
    user = audited.create_user()
    wrong = "wrong-" + secrets.token_hex(6)
    browser = Browser(audited)
    browser.submit_login(*browser.login_page(), user.username, wrong)
    Browser(audited).login(user)
    mine = [e for e in events(audited, filter=user.username) if e["event"].startswith("login.")]
    assert [e["event"] for e in mine] == ["login.succeeded", "login.failed"]
    assert all(e["ip"] == "127.0.0.1" for e in mine)
    assert mine[0]["user_id"] == user.id
    dump = str(events(audited))
    assert wrong not in dump and user.password not in dump


def test_a_name_that_is_no_account_is_recorded_by_a_keyed_hash_only(audited):
    """A password typed into the username field never reaches the log: a name that is no account is
    recorded by a keyed hash (the same for the same name, in any case), an account by its username."""
    typed = "Pa55-" + secrets.token_urlsafe(12)
    for name in (typed, typed.upper()):
        browser = Browser(audited)
        assert browser.submit_login(*browser.login_page(), name, "whatever-pw").status_code == 400
    user = audited.create_user()
    browser = Browser(audited)
    browser.submit_login(*browser.login_page(), user.email.upper(), "wrong-" + secrets.token_hex(4))
    log = events(audited)
    dump = str(log)
    assert typed not in dump and typed.upper() not in dump and typed.lower() not in dump
    failed = [e for e in log if e["event"] == "login.failed"][:3]
    by_account, unknown = failed[0], failed[1:]
    assert by_account["user_id"] == user.id and by_account["subject"] == user.username
    assert all(e["user_id"] is None and e["subject"].startswith("unknown:") for e in unknown)
    assert unknown[0]["subject"] == unknown[1]["subject"]


def test_token_lifecycle_and_reuse_are_recorded_without_secrets(audited):
    client = audited.create_client(grants=["password"])
    user = audited.create_user()
    first = password_grant(audited, client, user).json()
    second = refresh(audited, client, first["refresh_token"]).json()
    refresh(audited, client, first["refresh_token"])  # reuse
    seen = [e for e in events(audited) if e["client_id"] == client.client_id]
    kinds = [e["event"] for e in seen]
    for expected in ("token.issued", "token.refreshed", "token.reuse_detected"):
        assert expected in kinds, kinds
    issued = next(e for e in seen if e["event"] == "token.issued")
    assert issued["details"]["grant_type"] == "password" and issued["user_id"] == user.id
    dump = str(events(audited))
    for secret in (client.client_secret, first["refresh_token"], second["refresh_token"], first["access_token"]):
        assert secret not in dump


def _jti(jwt: str) -> str:
    payload = jwt.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["jti"]


def test_a_client_credentials_token_is_recorded_once_answered_rfc6749_4_4_3(audited):
    """Client credentials write their rows after the read transaction that answered them (``INSERTS_ONLY``):
    once the token is returned its record (introspection, revocation by ``jti``) and its audit row, with the
    request's address, are there; a refused request records no token."""
    machine = audited.create_client(grants=["client_credentials"])
    refused = token_request(audited, {"grant_type": "client_credentials", "scope": "no-such-scope"}, auth=machine.basic)
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_scope"
    tokens = [token_request(audited, {"grant_type": "client_credentials"}, auth=machine.basic).json()["access_token"]
              for _ in range(3)]
    assert all(introspect(audited, machine, t).json()["active"] for t in tokens)
    issued = [e for e in events(audited, filter=machine.client_id) if e["event"] == "token.issued"]
    assert sorted(e["subject"] for e in issued) == sorted(_jti(t) for t in tokens)
    assert all(e["details"]["grant_type"] == "client_credentials" and e["ip"] == "127.0.0.1" for e in issued)
    assert revoke(audited, machine, tokens[0]).status_code == 200
    assert introspect(audited, machine, tokens[0]).json() == {"active": False}


def test_a_revocation_names_the_token_kind_its_user_and_the_client_that_asked_rfc7009_2_1(audited):
    client = audited.create_client(grants=["password"])
    user = audited.create_user()
    tokens = password_grant(audited, client, user).json()
    for token in (tokens["access_token"], tokens["refresh_token"]):
        assert revoke(audited, client, token).status_code == 200
    revoked = [e for e in events(audited, filter=client.client_id) if e["event"] == "token.revoked"]
    assert sorted(e["details"]["kind"] for e in revoked) == ["access_token", "refresh_token"]
    assert all(e["client_id"] == client.client_id and e["user_id"] == user.id for e in revoked)
    dump = str(revoked)
    assert tokens["access_token"] not in dump and tokens["refresh_token"] not in dump


def test_consent_clients_and_keys_are_recorded(audited):
    client = audited.create_client(redirect_uris=["https://audit.example.org/cb"])
    user = audited.create_user()
    code = get_code(audited, client, user)
    assert exchange_code(audited, client, code).status_code == 200
    assert audited.cli("keys", "rotate").returncode == 0
    recent = events(audited)
    kinds = {(e["event"], e["client_id"] or e["subject"]) for e in recent}
    assert ("consent.granted", client.client_id) in kinds
    assert ("client.created", client.client_id) in kinds
    assert any(e["event"] == "key.rotated" for e in recent)
    created = next(e for e in recent if e["event"] == "client.created" and e["subject"] == client.client_id)
    assert created["actor"] == "system", "made at the command line"


def test_password_changes_deactivation_and_deletion_are_recorded_with_who_did_them(audited):
    admin = api_for(audited, "admin")
    admin_id = admin.ok("GET", "/users/me")["id"]
    user = audited.create_user()
    new_password = "changed-" + secrets.token_hex(8)
    admin.ok("PUT", f"/users/{user.id}", json={"password": new_password})
    admin.ok("PUT", f"/users/{user.id}", json={"status": "INACTIVE"})
    admin.ok("DELETE", f"/users/{user.id}", 204)
    mine = [e for e in events(audited, filter=user.username) if e["event"].startswith("user.")]
    assert [e["event"] for e in mine] == ["user.deleted", "user.deactivated", "user.password_changed", "user.created"]
    assert all(e["user_id"] == user.id and e["details"]["by_user_id"] == admin_id for e in mine[:3])
    assert mine[2]["details"]["personal_tokens_revoked"] is False
    assert mine[3]["actor"] == "system" and mine[3]["details"] == {}, "made at the command line"
    assert new_password not in str(events(audited))


def test_only_administrators_read_the_log(audited):
    user = audited.create_user()
    assert api_for(audited, user.username).get("/security_logs").status_code == 403
    no_scope = api_for(audited, "admin", scopes=["users:read"]).get("/security_logs")
    assert no_scope.status_code == 403 and no_scope.json()["error"] == "insufficient_scope"

    assert Api(audited, None).get("/security_logs").status_code == 401


def test_privilege_and_account_changes_are_recorded_with_who_did_them(audited):
    """What changes what a user may do — permissions given or taken, administrator status, group memberships,
    groups made, changed or deleted — and who they are (a new account; username, email, status) is in the log,
    naming the administrator; an address by field name only. A request that changes nothing records nothing."""
    admin = api_for(audited, "admin")
    admin_id = admin.ok("GET", "/users/me")["id"]
    user = audited.create_user()
    admin.ok("PUT", "/permissions", 204, json={"user_id": user.id, "permission_names": ["view-users", "edit-users"]})
    admin.ok("PUT", "/permissions", 204, json={"user_id": user.id, "permission_names": ["view-users"]})
    admin.ok("PUT", "/permissions", 204, json={"user_id": user.id, "permission_names": ["view-users"]})  # no change
    admin.ok("PUT", "/permissions", 204, json={"user_id": user.id, "is_administrator": True})
    admin.ok("PUT", f"/users/{user.id}", json={"is_administrator": False, "email": f"moved-{user.username}@example.org"})
    admin.ok("PUT", f"/users/{user.id}", json={"status": "INACTIVE"})
    admin.ok("PUT", f"/users/{user.id}", json={"status": "ACTIVE"})
    group = admin.ok("POST", "/groups", 201, json={"name": "audited-" + secrets.token_hex(4)})
    member = admin.ok("POST", "/group_members", 201, json={"group_id": group["id"], "member_id": user.id})
    admin.ok("DELETE", f"/group_members/{member['id']}", 204)

    mine = [e for e in events(audited, filter=user.username) if e["user_id"] == user.id and e["event"] != "user.created"]
    assert all(e["details"].pop("by_user_id") == admin_id for e in mine), mine
    assert [(e["event"], e["details"]) for e in reversed(mine)] == [
        ("permissions.changed", {"added": "edit-users,view-users"}),
        ("permissions.changed", {"removed": "edit-users"}),
        ("permissions.changed", {"is_administrator": True}),
        ("user.updated", {"changed": "email,is_administrator", "is_administrator": False}),
        ("user.deactivated", {}),
        ("user.updated", {"changed": "status", "status": "ACTIVE"}),
        ("group.member_added", {"group_id": group["id"], "group": group["name"]}),
        ("group.member_removed", {"group_id": group["id"], "group": group["name"]}),
    ]
    assert "moved-" not in json.dumps(mine)

    made = admin.ok("POST", "/users", 201, json={"username": "made-" + secrets.token_hex(4), "is_administrator": True,
                                                 "email": f"made-{secrets.token_hex(4)}@example.org",
                                                 "password": "made-" + secrets.token_hex(8)})
    [created] = [e for e in events(audited, filter=made["username"]) if e["event"] == "user.created"]
    assert created["user_id"] == made["id"] and created["details"] == {"by_user_id": admin_id, "is_administrator": True}

    admin.ok("PUT", "/permissions", 204, json={"group_id": group["id"], "permission_names": ["view-groups"]})
    admin.ok("PUT", f"/groups/{group['id']}", json={"status": "INACTIVE"})
    admin.ok("DELETE", f"/groups/{group['id']}", 204)
    of_group = [(e["event"], e["user_id"], e["details"]) for e in events(audited, filter="group:" + group["name"])]
    assert list(reversed(of_group)) == [
        ("group.created", admin_id, {"group_id": group["id"]}),
        ("permissions.changed", admin_id, {"added": "view-groups"}),
        ("group.updated", admin_id, {"group_id": group["id"], "changed": "status", "status": "INACTIVE"}),
        ("group.deleted", admin_id, {"group_id": group["id"]}),
    ], "the row's user is the administrator who did it"


def test_a_restored_account_is_recorded(audited):
    """Restoring a deleted user hands their permissions out again: it is in the log, with who did it."""
    admin = api_for(audited, "admin")
    admin_id = admin.ok("GET", "/users/me")["id"]
    user = audited.create_user()
    admin.ok("DELETE", f"/users/{user.id}", 204)
    admin.ok("PUT", f"/users/{user.id}/restore")
    mine = [(e["event"], e["details"]) for e in events(audited, filter=user.username) if e["user_id"] == user.id]
    assert mine[:2] == [("user.restored", {"by_user_id": admin_id}), ("user.deleted", {"by_user_id": admin_id})]
