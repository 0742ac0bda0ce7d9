"""One rule for acting on another user's account: their sessions as their second factors (CWE-269, ASVS 4.1.3).

Seeing or ending someone else's browser sessions tells where they sign in from and locks them out; resetting
their second factors weakens their account. Both need ``edit-users`` and, as changing their password does,
every permission the user holds (an administrator's: an administrator), on the API and the Users admin page.
A holder of ``view-users`` + ``edit-users`` is refused for a user who also holds ``edit-groups``, and the
refusal names what they lack; against a user who holds nothing more, both work.
"""

from __future__ import annotations

import pytest

from support import Api, Browser, assert_forbidden, grant, parse_page, unique, user_via_api

EDITOR = ("view-users", "edit-users")


def signed_in_browser(server, user) -> Browser:
    browser = Browser(server)
    browser.login(user)
    assert browser.get("/profile").status_code == 200
    return browser


def still_signed_in(browser: Browser) -> bool:
    return browser.get("/profile").status_code == 200


def csrf(browser: Browser, path: str) -> str:
    return parse_page(browser.get(path).text).forms[0].input("csrf_token")["value"]


@pytest.fixture(scope="module")
def editor(server, admin):
    user = user_via_api(admin)
    grant(admin, user.id, *EDITOR)
    made = admin.ok("POST", f"/users/{user.id}/tokens", 201,
                    json={"name": unique("pat"), "scopes": ["users:read", "users:write"]})
    return user, Api(server, made["accessToken"])


def stronger_user(admin):
    user = user_via_api(admin)
    grant(admin, user.id, *EDITOR, "edit-groups")
    return user


def test_sessions_and_factors_of_a_more_powerful_user_are_refused_over_the_api(server, admin, editor):
    _, editor_api = editor
    stronger = stronger_user(admin)
    browser = signed_in_browser(server, stronger)
    [session] = admin.ok("GET", f"/users/{stronger.id}/sessions")["data"]
    for r in (editor_api.get(f"/users/{stronger.id}/sessions"),
              editor_api.delete(f"/users/{stronger.id}/sessions"),
              editor_api.delete(f"/users/{stronger.id}/sessions/{session['id']}"),
              editor_api.get(f"/users/{stronger.id}/factors"),
              editor_api.delete(f"/users/{stronger.id}/factors")):
        assert "edit-groups" in assert_forbidden(r)["reason"]
    assert still_signed_in(browser)


def test_sessions_and_factors_of_an_equal_user_are_the_editors_to_manage(server, admin, editor):
    _, editor_api = editor
    equal = user_via_api(admin)
    grant(admin, equal.id, *EDITOR)
    browser = signed_in_browser(server, equal)
    assert editor_api.ok("GET", f"/users/{equal.id}/factors")["data"] == []
    [session] = editor_api.ok("GET", f"/users/{equal.id}/sessions")["data"]
    editor_api.ok("DELETE", f"/users/{equal.id}/sessions/{session['id']}", 204)
    assert not still_signed_in(browser)


def test_the_user_page_neither_shows_nor_ends_a_more_powerful_users_sessions(server, admin, editor):
    editor_user, _ = editor
    stronger = stronger_user(admin)
    victims_browser = signed_in_browser(server, stronger)
    [session] = admin.ok("GET", f"/users/{stronger.id}/sessions")["data"]
    browser = signed_in_browser(server, editor_user)
    page = browser.get(f"/admin/users/{stronger.id}")
    assert page.status_code == 200
    assert 'id="user-sessions-h"' not in page.text and 'id="factors-h"' not in page.text
    token = csrf(browser, f"/admin/users/{stronger.id}")
    for action in (f"/admin/users/{stronger.id}/sessions/end", f"/admin/users/{stronger.id}/sessions/{session['id']}/end",
                   f"/admin/users/{stronger.id}/factors/reset"):
        r = browser.post(action, data={"csrf_token": token})
        assert r.status_code == 403 and "edit-groups" in r.text, (action, r.status_code, r.text[:300])
    assert still_signed_in(victims_browser)
