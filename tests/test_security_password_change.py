"""What a password change ends (issue 12, item 4; OWASP ASVS 2.1.6, 3.3.3).

A self change (API, needing ``current_password``) or an administrator's reset (API, Users page)
ends the user's other browser sessions and revokes their refresh-token families (RFC 6749 §6:
the old refresh token gets ``invalid_grant``) and the access tokens of those families (RFC 6750
§3.1: 401). Personal access tokens stay, unless the reset page's "Also revoke API tokens" is
ticked. A self change made on a page keeps the session that made it.
"""

from __future__ import annotations

import pytest

from support import (Api, Browser, User, assert_invalid, assert_token_error, assert_unauthenticated, grant,
                     parse_page, password_grant, refresh, unique, user_via_api, users_me)


@pytest.fixture(scope="module")
def client(server):
    return server.create_client(grants=["password", "refresh_token"])


def pat(admin: Api, user: User, scopes=("users:read", "users:write")) -> Api:
    made = admin.ok("POST", f"/users/{user.id}/tokens", 201, json={"name": unique("pat"), "scopes": list(scopes)})
    return Api(admin.server, made["accessToken"])


def signed_in(server, user: User) -> Browser:
    browser = Browser(server)
    browser.login(user)
    assert is_signed_in(browser)
    return browser


def is_signed_in(browser: Browser) -> bool:
    r = browser.get("/profile")
    assert r.status_code in (200, 303), r.status_code
    return r.status_code == 200


class Footprint:
    """Everything a user holds: an OAuth token pair, a browser session and a personal access token."""

    def __init__(self, server, admin, client, user: User):
        self.server, self.client, self.user = server, client, user
        r = password_grant(server, client, user, scope="users:read users:write")
        assert r.status_code == 200, r.text
        self.tokens = r.json()
        self.browser = signed_in(server, user)
        self.pat = pat(admin, user)

    def assert_ended_except_pat(self) -> None:
        assert_token_error(refresh(self.server, self.client, self.tokens["refresh_token"]), "invalid_grant")
        assert_unauthenticated(users_me(self.server, self.tokens["access_token"]))
        assert not is_signed_in(self.browser)
        assert self.pat.get("/users/me").status_code == 200


def page_form(browser: Browser, page: str, action: str) -> dict:
    forms = [f for f in parse_page(browser.get(page).text).forms if f.action == action]
    assert len(forms) == 1, f"no form to {action} on {page}"
    return {"csrf_token": forms[0].input("csrf_token")["value"]}


def with_password(user: User, password: str) -> User:
    return User(user.username, password, user.email, user.id)


def test_self_change_through_the_api_needs_the_current_password(server, admin, client):
    user = user_via_api(admin)
    held = Footprint(server, admin, client, user)
    oauth_api = Api(server, held.tokens["access_token"])
    for api in (held.pat, oauth_api):
        new = "taken over " + unique("pw")
        assert_invalid(api.put(f"/users/{user.id}", json={"password": new}), "current_password")
        assert_invalid(api.put(f"/users/{user.id}", json={"password": new, "current_password": "not it at all"}),
                       "current_password")
        assert password_grant(server, client, with_password(user, new)).status_code != 200
    assert password_grant(server, client, user).status_code == 200


def test_self_change_through_the_api_ends_sessions_and_oauth_tokens_but_not_pats(server, admin, client):
    user = user_via_api(admin)
    held = Footprint(server, admin, client, user)
    new = "my new password " + unique("pw")
    held.pat.ok("PUT", f"/users/{user.id}", json={"password": new, "current_password": user.password})
    held.assert_ended_except_pat()
    assert password_grant(server, client, user).status_code != 200
    assert password_grant(server, client, with_password(user, new)).status_code == 200


def test_administrators_reset_through_the_api_ends_sessions_and_oauth_tokens(server, admin, client):
    user = user_via_api(admin)
    held = Footprint(server, admin, client, user)
    admin.ok("PUT", f"/users/{user.id}", json={"password": "reset by admin " + unique("pw")})
    held.assert_ended_except_pat()


@pytest.mark.parametrize("revoke_pats", [False, True])
def test_reset_on_the_admin_page_ends_sessions_and_oauth_tokens_and_pats_when_ticked(server, admin, client,
                                                                                     revoke_pats):
    user = user_via_api(admin)
    held = Footprint(server, admin, client, user)
    browser = signed_in(server, User("admin", server.admin_password, "", 1))
    page, action = f"/admin/users/{user.id}", f"/admin/users/{user.id}/password"
    new = "reset on page " + unique("pw")
    data = {**page_form(browser, page, action), "password": new, "password_confirmation": new}
    if revoke_pats:
        data["revoke_personal_tokens"] = "on"
    assert browser.post(action, data=data).status_code == 303
    assert_token_error(refresh(server, client, held.tokens["refresh_token"]), "invalid_grant")
    assert_unauthenticated(users_me(server, held.tokens["access_token"]))
    assert not is_signed_in(held.browser)
    assert is_signed_in(browser)
    if revoke_pats:
        assert_unauthenticated(held.pat.get("/users/me"))
    else:
        assert held.pat.get("/users/me").status_code == 200


def test_self_change_on_a_page_keeps_that_session_and_ends_the_others(server, admin, client):
    user = user_via_api(admin)
    grant(admin, user.id, "view-users", "edit-users")
    held = Footprint(server, admin, client, user)
    acting = signed_in(server, user)
    page, action = f"/admin/users/{user.id}", f"/admin/users/{user.id}/password"
    new = "changed on page " + unique("pw")
    wrong = {**page_form(acting, page, action), "current_password": "not my password",
             "password": new, "password_confirmation": new}
    r = acting.post(action, data=wrong)
    assert r.status_code == 422 and "current" in r.text
    assert is_signed_in(held.browser)
    right = {**page_form(acting, page, action), "current_password": user.password,
             "password": new, "password_confirmation": new}
    assert acting.post(action, data=right).status_code == 303
    assert is_signed_in(acting)
    held.assert_ended_except_pat()


def test_guessing_the_current_password_counts_towards_the_lockout_asvs_2_2_1(server_factory):
    """A token that may write the user is no way around the lockout: each wrong ``current_password``
    counts as a failed sign-in of that account, and once it is locked the right one is refused too
    (429 with Retry-After), as is signing in."""
    from support import admin_api

    srv = server_factory({"AUTHGATE_LOCKOUT": "3/900"})
    admin = admin_api(srv)
    user = user_via_api(admin)
    holder = pat(admin, user)
    for attempt in range(3):
        r = holder.put(f"/users/{user.id}", json={"password": "new " + unique("pw"), "current_password": f"guess {attempt}"})
        assert_invalid(r, "current_password")
    locked = holder.put(f"/users/{user.id}", json={"password": "new " + unique("pw"), "current_password": user.password})
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) > 0, locked.text
    assert "locked" in locked.json()["message"]
    client = srv.create_client(grants=["password"])
    assert password_grant(srv, client, user).status_code != 200
    admin.ok("PUT", f"/users/{user.id}", json={"firstname": "still editable by others"})
