"""Deactivating a user ends what they hold, at once (issue 12, item 2; RFC 6749 §6, RFC 6750 §3.1).

Setting ``status`` to INACTIVE (API or Users page) revokes the user's refresh-token families and
their access tokens and ends their browser sessions; reactivating them does not bring any of it
back. Their personal access tokens and access tokens are refused while they are inactive.
"""

from __future__ import annotations

import pytest

from support import (Api, Browser, User, assert_token_error, assert_unauthenticated, parse_page, password_grant,
                     refresh, unique, user_via_api, users_me)


@pytest.fixture(scope="module")
def client(server):
    return server.create_client(grants=["password", "refresh_token"])


def is_signed_in(browser: Browser) -> bool:
    r = browser.get("/profile")
    assert r.status_code in (200, 303), r.status_code
    return r.status_code == 200


def holdings(server, admin, client, user: User):
    r = password_grant(server, client, user, scope="users:read")
    assert r.status_code == 200, r.text
    browser = Browser(server)
    browser.login(user)
    made = admin.ok("POST", f"/users/{user.id}/tokens", 201, json={"name": unique("pat"), "scopes": ["users:read"]})
    return r.json(), browser, Api(server, made["accessToken"])


def set_status_on_page(server, user: User, status: str) -> None:
    browser = Browser(server)
    browser.login(User("admin", server.admin_password, "", 1))
    page = f"/admin/users/{user.id}"
    form = next(f for f in parse_page(browser.get(page).text).forms if f.action == page)
    r = browser.post(page, data={"csrf_token": form.input("csrf_token")["value"], "email": user.email,
                                 "status": status})
    assert r.status_code == 303, r.text[:500]


@pytest.mark.parametrize("where", ["api", "page"])
def test_deactivation_revokes_tokens_and_sessions_for_good(server, admin, client, where):
    user = user_via_api(admin)
    tokens, browser, pat = holdings(server, admin, client, user)
    if where == "api":
        admin.ok("PUT", f"/users/{user.id}", json={"status": "INACTIVE"})
    else:
        set_status_on_page(server, user, "INACTIVE")
    assert_unauthenticated(users_me(server, tokens["access_token"]))
    assert_unauthenticated(pat.get("/users/me"))
    assert not is_signed_in(browser)
    assert_token_error(refresh(server, client, tokens["refresh_token"]), "invalid_grant")

    admin.ok("PUT", f"/users/{user.id}", json={"status": "ACTIVE"})
    assert_unauthenticated(users_me(server, tokens["access_token"]))
    assert not is_signed_in(browser)
    assert_token_error(refresh(server, client, tokens["refresh_token"]), "invalid_grant")
    assert pat.get("/users/me").status_code == 200
    assert password_grant(server, client, user).status_code == 200


def test_an_inactive_users_pat_and_access_token_are_refused_rfc6750_3_1(server, admin, client):
    user = user_via_api(admin)
    tokens, _, pat = holdings(server, admin, client, user)
    assert pat.get("/users/me").status_code == 200 and users_me(server, tokens["access_token"]).status_code == 200
    admin.ok("PUT", f"/users/{user.id}", json={"status": "INACTIVE"})
    for _ in range(3):  # the answer from memory (the fast lane) as well as the first one
        assert_unauthenticated(pat.get("/users/me"))
        assert_unauthenticated(users_me(server, tokens["access_token"]))
