"""The admin and profile forms as a browser without JavaScript uses them: a refused field's error stands next
to that field (a sentence, tied to it by ``aria-describedby``); destructive actions live in a "Danger zone"
and look destructive; removing a group member asks first, from the group's page and from the user's; a
user's page shows what they may do and why (directly, through which active group).
"""

from __future__ import annotations

import re

import pytest

from support import Browser, User, api_for, parse_page, unique
from test_ui_admin_pages import create_user_on_page, submit


@pytest.fixture(scope="module")
def admin_browser(server) -> Browser:
    browser = Browser(server)
    browser.login(User("admin", server.admin_password, "", 1))
    return browser


def error_after(html: str, field_id: str) -> str:
    """The field error that follows the control ``field_id``, which must point at it."""
    control = re.search(r'<(input|select|textarea|fieldset)[^>]*\bid="' + field_id + r'"[^>]*>', html)
    if control is None:  # a fieldset has no id: find it by its error's id
        control = re.search(r'<fieldset[^>]*aria-describedby="' + field_id + r'-error"[^>]*>', html)
    assert control, f"no control {field_id}"
    assert 'aria-invalid="true"' in control.group(0) and f'aria-describedby="{field_id}-error"' in control.group(0)
    after = html[control.end():]
    found = re.search(r'<p class="field-error" id="' + field_id + r'-error">([^<]+)</p>', after)
    assert found, after[:500]
    assert after.find("<label") == -1 or found.start() < after.find("<label") or field_id in ("grants", "scopes")
    return found.group(1)


def test_a_taken_username_is_reported_next_to_the_username(server, admin_browser):
    taken = create_user_on_page(server, admin_browser)
    r = submit(admin_browser, "/admin/users/new", "/admin/users/new",
               {"username": taken.username, "email": f"{unique('x')}@example.org", "password": "long enough pw"})
    assert r.status_code == 422
    assert "already taken" in error_after(r.text, "username")
    assert 'class="alert"' not in r.text  # not (also) above the form

    r = submit(admin_browser, "/admin/users/new", "/admin/users/new",
               {"username": unique("u"), "email": "not-an-email", "password": "long enough pw"})
    assert error_after(r.text, "email").endswith(".")


def test_passwords_that_differ_are_reported_under_the_second_one(server, admin_browser):
    user = create_user_on_page(server, admin_browser)
    page = f"/admin/users/{user.id}"
    r = submit(admin_browser, page, f"{page}/password", {"password": "one password", "password_confirmation": "two"})
    assert r.status_code == 422 and error_after(r.text, "new-password-2") == "The two passwords differ."


def test_client_and_token_form_errors_stand_by_their_fields(server, admin_browser):
    r = submit(admin_browser, "/admin/auth-clients/new", "/admin/auth-clients/new",
               {"name": unique("bad"), "redirect_uris": "not a url", "grants": "authorization_code",
                "kind": "confidential"})
    assert r.status_code == 422 and error_after(r.text, "redirect_uris")
    r = submit(admin_browser, "/profile", "/profile/tokens", {"name": "t", "expires_in_days": "3"})
    assert r.status_code == 422
    assert error_after(r.text, "token-expiry") == "Choose one of the offered expiry periods."


def test_destructive_actions_live_in_a_danger_zone(server, admin_browser, make_user, admin):
    user = create_user_on_page(server, admin_browser)
    group = submit(admin_browser, "/admin/groups/new", "/admin/groups/new", {"name": unique("Zone ")}).headers["Location"]
    client = admin.ok("POST", "/oauth/clients", 201, json={"name": unique("zone"), "types": ["client_credentials"]})
    for page, actions in ((f"/admin/users/{user.id}", [f"/admin/users/{user.id}/delete"]),
                          (group, [f"{group}/delete"]),
                          (f"/admin/auth-clients/{client['id']}", [f"/admin/auth-clients/{client['id']}/secret",
                                                                   f"/admin/auth-clients/{client['id']}/delete"])):
        html = admin_browser.get(page).text
        zone = html.split('<section class="card danger-zone"', 1)[1].split("</section>", 1)[0]
        assert "Danger zone" in zone, page
        for action in actions:
            assert f'class="button danger" href="{action}"' in zone, (page, action)
            assert action not in html.split('<section class="card danger-zone"', 1)[0], (page, action)

    reader = make_user()
    submit(admin_browser, f"/admin/users/{reader.id}", f"/admin/users/{reader.id}/permissions",
           {"permissions": ["view-users", "view-groups"]})
    browser = Browser(server)
    browser.login(reader)
    for page in (f"/admin/users/{user.id}", group):
        assert "Danger zone" not in browser.get(page).text, page


def test_leaving_a_group_from_the_users_page_asks_first(server, admin_browser):
    user = create_user_on_page(server, admin_browser)
    group_page = submit(admin_browser, "/admin/groups/new", "/admin/groups/new", {"name": unique("Leavers ")}).headers["Location"]
    group_id = group_page.rsplit("/", 1)[1]
    user_page = f"/admin/users/{user.id}"
    assert submit(admin_browser, user_page, f"{user_page}/groups", {"group_id": group_id}).status_code == 303
    remove = re.search(r'href="(' + user_page + r'/groups/\d+/remove)"', admin_browser.get(user_page).text).group(1)
    question = parse_page(admin_browser.get(remove).text).text
    assert "Remove this user from the group" in question and "lose the permissions" in question
    assert user.username in admin_browser.get(group_page).text  # asking removed nothing
    r = submit(admin_browser, remove, remove)
    assert r.status_code == 303 and r.headers["Location"] == user_page
    assert f'href="/admin/users/{user.id}"' not in admin_browser.get(group_page).text
    assert admin_browser.get(remove).status_code == 404


def test_a_users_page_shows_effective_permissions_and_where_they_come_from(server, admin_browser):
    user = create_user_on_page(server, admin_browser)
    user_page = f"/admin/users/{user.id}"
    assert "No permissions" in parse_page(admin_browser.get(user_page).text).text
    submit(admin_browser, user_page, f"{user_page}/permissions", {"permissions": ["view-users"]})
    name = unique("Auditors ")
    group_page = submit(admin_browser, "/admin/groups/new", "/admin/groups/new", {"name": name}).headers["Location"]
    submit(admin_browser, group_page, f"{group_page}/permissions", {"permissions": ["view-users", "view-groups"]})
    submit(admin_browser, user_page, f"{user_page}/groups", {"group_id": group_page.rsplit("/", 1)[1]})

    def effective() -> dict[str, str]:
        html = admin_browser.get(user_page).text
        section = html.split('id="effective-h"', 1)[1].split("</section>", 1)[0]
        rows = re.findall(r'<tr>\s*<td><code class="id">([^<]+)</code></td>\s*<td>[^<]*</td>\s*<td>(.*?)</td>', section, re.S)
        return {perm: re.sub(r"<[^>]+>", "", given) for perm, given in rows}

    assert effective() == {"view-users": f"directly, through {name}", "view-groups": f"through {name}"}
    api = api_for(server, user.username)
    assert api.get("/groups").status_code == 200  # the page says what the API allows

    submit(admin_browser, group_page, group_page, {"name": name, "description": "", "status": "INACTIVE"})
    assert effective() == {"view-users": "directly"}
    assert api.get("/groups").status_code == 403
