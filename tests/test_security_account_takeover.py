"""Taking over someone else's account with the rights one has (issue 12, items 3 and 8; CWE-269).

Item 3: a holder of ``view-users`` + ``edit-users`` may change another user's password, email,
username or status (or, with ``delete-users``, delete them) only when they hold every permission that user holds (or are an administrator) — the
rule ``PUT /permissions`` applies ("nobody can give what they do not have"), on the API and the
Users admin page. Item 8: sign-in takes a username or an email, so an identifier that is one
user's username or email cannot become another user's username or email, whatever its case:
409 naming the field.
"""

from __future__ import annotations

import pytest

from support import (Api, Browser, User, assert_conflict, assert_forbidden, grant, parse_page, password_grant,
                     unique, user_via_api)

EDITOR = ("view-users", "edit-users")


def pat(admin: Api, user: User, scopes=("users:read", "users:write")) -> Api:
    """An Api with a new personal access token of ``user`` (made by the administrator through the API)."""
    made = admin.ok("POST", f"/users/{user.id}/tokens", 201, json={"name": unique("pat"), "scopes": list(scopes)})
    return Api(admin.server, made["accessToken"])


def can_get_tokens(server, client, user: User, password: str | None = None) -> bool:
    who = User(user.username, password or user.password, user.email, user.id)
    return password_grant(server, client, who, scope="users:read").status_code == 200


@pytest.fixture(scope="module")
def client(server):
    return server.create_client(grants=["password"])


@pytest.fixture(scope="module")
def editor(server, admin):
    user = user_via_api(admin)
    grant(admin, user.id, *EDITOR)
    return user, pat(admin, user)


def test_edit_users_holder_cannot_change_credentials_of_a_more_powerful_user(server, admin, client, editor):
    editor_user, editor_api = editor
    stronger = user_via_api(admin)
    grant(admin, stronger.id, *EDITOR, "view-groups", "edit-groups")
    for change in ({"password": "taken over " + unique("pw")}, {"email": unique("mine") + "@example.org"},
                   {"username": unique("mine")}):
        body = assert_forbidden(editor_api.put(f"/users/{stronger.id}", json=change))
        assert "edit-groups" in body["reason"] and "view-groups" in body["reason"], body
    after = admin.ok("GET", f"/users/{stronger.id}")
    assert (after["username"], after["email"]) == (stronger.username, stronger.email)
    assert can_get_tokens(server, client, stronger)
    # what is not a credential stays editable, also when the form sends the unchanged email back
    changed = editor_api.ok("PUT", f"/users/{stronger.id}", json={"firstname": "Renamed", "email": stronger.email})
    assert changed["firstname"] == "Renamed"


def test_status_and_deletion_of_a_more_powerful_user_follow_the_same_rule(server, admin, client):
    """Deactivating or deleting someone locks them out as surely as a new password: the same rule holds."""
    acting = user_via_api(admin)
    grant(admin, acting.id, *EDITOR, "delete-users")
    acting_api = pat(admin, acting)
    stronger = user_via_api(admin)
    grant(admin, stronger.id, *EDITOR, "delete-users", "edit-groups")
    body = assert_forbidden(acting_api.put(f"/users/{stronger.id}", json={"status": "INACTIVE"}))
    assert "edit-groups" in body["reason"], body
    assert "edit-groups" in assert_forbidden(acting_api.delete(f"/users/{stronger.id}"))["reason"]
    assert admin.ok("GET", f"/users/{stronger.id}")["status"] == "ACTIVE"
    assert can_get_tokens(server, client, stronger)
    weaker = user_via_api(admin)
    grant(admin, weaker.id, "view-users")
    assert acting_api.ok("PUT", f"/users/{weaker.id}", json={"status": "INACTIVE"})["status"] == "INACTIVE"
    acting_api.ok("DELETE", f"/users/{weaker.id}", 204)


def test_a_permission_held_through_a_group_counts_too(server, admin, editor):
    _, editor_api = editor
    stronger = user_via_api(admin)
    group = admin.ok("POST", "/groups", 201, json={"name": unique("powerful")})
    admin.ok("PUT", "/permissions", 204, json={"group_id": group["id"], "permission_names": ["delete-users"]})
    admin.ok("POST", "/group_members", 201, json={"group_id": group["id"], "member_id": stronger.id})
    body = assert_forbidden(editor_api.put(f"/users/{stronger.id}", json={"password": "taken over pw 1"}))
    assert "delete-users" in body["reason"], body


def test_edit_users_holder_changes_credentials_of_an_equal_or_weaker_user(server, admin, client, editor):
    _, editor_api = editor
    equal, weaker = user_via_api(admin), user_via_api(admin)
    grant(admin, equal.id, *EDITOR)
    grant(admin, weaker.id, "view-users")
    for target in (equal, weaker):
        new_password = "reset by editor " + unique("pw")
        editor_api.ok("PUT", f"/users/{target.id}", json={"password": new_password})
        assert can_get_tokens(server, client, target, new_password)
        renamed = editor_api.ok("PUT", f"/users/{target.id}",
                                json={"username": unique("renamed"), "email": unique("moved") + "@example.org"})
        assert renamed["id"] == target.id


def test_edit_users_holder_cannot_reset_a_more_powerful_users_password_on_the_admin_page(server, admin, client,
                                                                                         editor):
    editor_user, _ = editor
    stronger = user_via_api(admin)
    grant(admin, stronger.id, *EDITOR, "create-users")
    browser = Browser(server)
    browser.login(editor_user)
    page = browser.get(f"/admin/users/{stronger.id}")
    action = f"/admin/users/{stronger.id}/password"
    form = next(f for f in parse_page(page.text).forms if f.action == action)
    new = "taken over " + unique("pw")
    r = browser.post(action, data={"csrf_token": form.input("csrf_token")["value"], "password": new,
                                   "password_confirmation": new})
    assert r.status_code == 403 and "create-users" in r.text, r.text[:500]
    assert can_get_tokens(server, client, stronger)
    assert not can_get_tokens(server, client, stronger, new)


# -- item 8: one namespace of sign-in identifiers ------------------------------------------------------


def test_an_email_cannot_become_another_users_username_in_any_case(server, admin, client):
    lucy = admin.ok("POST", "/users", 201, json={"username": unique("lucy") + "@example.net",
                                                 "email": unique("lucy") + "@example.org",
                                                 "password": "lucy's password"})
    mallory = user_via_api(admin)
    mallory_api = pat(admin, mallory)
    for variant in (lucy["username"], lucy["username"].upper()):
        assert_conflict(mallory_api.put(f"/users/{mallory.id}", json={"email": variant,
                                                                      "current_password": mallory.password}), "email")
        assert_conflict(admin.post("/users", json={"username": unique("u"), "email": variant,
                                                   "password": "long enough pw"}), "email")
    assert admin.ok("GET", f"/users/{mallory.id}")["email"] == mallory.email
    assert can_get_tokens(server, client, User(lucy["username"], "lucy's password", lucy["email"], lucy["id"]))


def test_a_username_cannot_become_another_users_email_in_any_case(admin):
    lucy, mallory = user_via_api(admin), user_via_api(admin)
    for variant in (lucy.email, lucy.email.upper()):
        assert_conflict(admin.put(f"/users/{mallory.id}", json={"username": variant}), "username")
        assert_conflict(admin.post("/users", json={"username": variant, "email": unique("x") + "@example.org",
                                                   "password": "long enough pw"}), "username")
    # a user's own username may equal their own email
    assert admin.ok("PUT", f"/users/{lucy.id}", json={"username": lucy.email.upper()})["username"] == lucy.email.upper()


def test_identifiers_compare_beyond_ascii_on_every_database(admin):
    """SQLite's lower() folds ASCII only; the comparison must not depend on the database."""
    word = "ÄRGER" + unique("x").upper()
    first = admin.ok("POST", "/users", 201, json={"username": f"{word}@example.net",
                                                  "email": unique("u") + "@example.org", "password": "long enough pw"})
    other = user_via_api(admin)
    assert_conflict(admin.put(f"/users/{other.id}", json={"email": first["username"].lower()}), "email")
    assert_conflict(admin.put(f"/users/{other.id}", json={"username": word.lower() + "@EXAMPLE.net"}), "username")
