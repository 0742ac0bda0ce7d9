"""The Users and Groups admin pages over HTTP, as a browser without JavaScript uses them: every form
sent with its CSRF token. An administrator creates a user, deactivates them (they can no longer sign
in), resets a password, puts them in a group and grants permissions (the API then allows what the
page granted); someone without ``view-users`` gets the 403 page; a personal access token revoked on
a user's page is refused by the API at once (RFC 6750 §3.1 invalid_token).
"""

from __future__ import annotations

import re

import pytest
import requests

from support import Browser, User, api_for, parse_page, unique


@pytest.fixture(scope="module")
def admin_browser(server) -> Browser:
    browser = Browser(server)
    browser.login(User("admin", server.admin_password, "", 1))
    return browser


def submit(browser: Browser, page_url: str, action: str, data: dict | None = None) -> requests.Response:
    """Open ``page_url``, find the form posting to ``action`` and send ``data`` with the form's CSRF token."""
    page = browser.get(page_url)
    assert page.status_code == 200, f"GET {page_url}: {page.status_code} {page.text[:300]}"
    forms = [form for form in parse_page(page.text).forms if form.method == "post" and form.action == action]
    assert len(forms) == 1, f"no single form to {action} on {page_url}"
    return browser.post(action, data={"csrf_token": forms[0].input("csrf_token")["value"], **(data or {})})


def can_sign_in(server, username: str, password: str) -> bool:
    browser = Browser(server)
    r, form = browser.login_page()
    return browser.submit_login(r, form, username, password).status_code == 303


def create_user_on_page(server, admin_browser: Browser, **extra) -> User:
    username, password = unique("pageuser"), "page-pw-" + unique("x")
    r = submit(admin_browser, "/admin/users/new", "/admin/users/new",
               {"username": username, "email": f"{username}@example.org", "firstname": "Grace",
                "lastname": "Hopper", "password": password, **extra})
    assert r.status_code == 303, r.text[:500]
    user_id = int(re.fullmatch(r"/admin/users/(\d+)", r.headers["Location"]).group(1))
    return User(username, password, f"{username}@example.org", user_id)


def test_administrator_creates_then_deactivates_a_user(server, admin_browser):
    user = create_user_on_page(server, admin_browser)
    listing = admin_browser.get("/admin/users?" + requests.compat.urlencode({"q": user.username}))
    assert listing.status_code == 200 and "1 user matching" in parse_page(listing.text).text
    assert f'href="/admin/users/{user.id}"' in listing.text
    assert can_sign_in(server, user.username, user.password)

    page = f"/admin/users/{user.id}"
    r = submit(admin_browser, page, page, {"email": user.email, "firstname": "Grace", "lastname": "Brewster",
                                           "status": "INACTIVE"})
    assert r.status_code == 303 and r.headers["Location"] == page
    shown = admin_browser.get(page)
    assert f"User “{user.username}” saved." in shown.text and 'value="Brewster"' in shown.text
    assert not can_sign_in(server, user.username, user.password)

    submit(admin_browser, page, page, {"email": user.email, "status": "ACTIVE"})
    assert can_sign_in(server, user.username, user.password)


def test_bad_input_is_shown_on_the_form_not_a_500(server, admin_browser):
    taken = create_user_on_page(server, admin_browser)
    r = submit(admin_browser, "/admin/users/new", "/admin/users/new",
               {"username": taken.username, "email": "x@example.org", "password": "long enough pw"})
    assert r.status_code == 422 and "already taken" in r.text
    assert 'value="x@example.org"' in r.text  # what was typed is kept
    r = submit(admin_browser, "/admin/users/new", "/admin/users/new",
               {"username": unique("u"), "email": "not-an-email", "password": "long enough pw"})
    assert r.status_code == 422 and "Email must be an email address." in r.text


def test_reset_password_new_one_works_old_one_does_not(server, admin_browser):
    user = create_user_on_page(server, admin_browser)
    action = f"/admin/users/{user.id}/password"
    r = submit(admin_browser, f"/admin/users/{user.id}", action, {"password": "a new one", "password_confirmation": "different"})
    assert r.status_code == 422 and "The two passwords differ." in r.text
    new = "the new password " + unique("p")
    r = submit(admin_browser, f"/admin/users/{user.id}", action, {"password": new, "password_confirmation": new})
    assert r.status_code == 303
    assert can_sign_in(server, user.username, new)
    assert not can_sign_in(server, user.username, user.password)


def test_group_membership_and_permissions_decide_what_the_api_allows(server, admin_browser):
    user = create_user_on_page(server, admin_browser)
    api = api_for(server, user.username)
    assert api.get("/users").status_code == 403 and api.get("/groups").status_code == 403

    user_page = f"/admin/users/{user.id}"
    r = submit(admin_browser, user_page, f"{user_page}/permissions", {"permissions": ["view-users"]})
    assert r.status_code == 303
    assert api.get("/users").status_code == 200
    checked = admin_browser.get(user_page).text
    assert re.search(r'value="view-users" checked', checked) and not re.search(r'value="edit-users" checked', checked)

    name = unique("Readers ")
    r = submit(admin_browser, "/admin/groups/new", "/admin/groups/new", {"name": name, "description": "may read groups"})
    assert r.status_code == 303
    group_page = r.headers["Location"]
    group_id = int(group_page.rsplit("/", 1)[1])
    assert submit(admin_browser, group_page, f"{group_page}/permissions", {"permissions": ["view-groups"]}).status_code == 303
    assert api.get("/groups").status_code == 403

    assert submit(admin_browser, user_page, f"{user_page}/groups", {"group_id": str(group_id)}).status_code == 303
    assert api.get("/groups").status_code == 200
    assert f'href="/admin/groups/{group_id}"' in admin_browser.get(user_page).text
    assert user.username in admin_browser.get(group_page).text

    remove = f"{group_page}/members/{user.id}/remove"
    assert f'href="{remove}"' in admin_browser.get(group_page).text  # a link to the confirmation, not a POST
    assert "They lose the permissions it gives at once." in admin_browser.get(remove).text
    assert api.get("/groups").status_code == 200  # asking removed nothing
    assert submit(admin_browser, remove, remove).status_code == 303
    assert api.get("/groups").status_code == 403

    assert submit(admin_browser, group_page, f"{group_page}/members", {"username": user.username}).status_code == 303
    assert api.get("/groups").status_code == 200
    r = submit(admin_browser, group_page, f"{group_page}/members", {"username": "nobody-" + unique("n")})
    assert r.status_code == 422 and "No user named" in r.text

    r = submit(admin_browser, f"{group_page}/delete", f"{group_page}/delete")
    assert r.status_code == 303 and r.headers["Location"] == "/admin/groups"
    assert admin_browser.get(group_page).status_code == 404
    assert api.get("/groups").status_code == 403


def test_group_edit_and_list(server, admin_browser):
    name = unique("Editors ")
    group_page = submit(admin_browser, "/admin/groups/new", "/admin/groups/new", {"name": name}).headers["Location"]
    renamed = name + " renamed"
    r = submit(admin_browser, group_page, group_page, {"name": renamed, "description": "d", "status": "INACTIVE"})
    assert r.status_code == 303
    listing = admin_browser.get("/admin/groups?" + requests.compat.urlencode({"q": renamed}))
    assert "1 group matching" in parse_page(listing.text).text and "inactive" in listing.text


def test_without_view_users_the_pages_answer_403(server, make_user):
    person = make_user()
    browser = Browser(server)
    browser.login(person)
    for url, needed in (("/admin/users", "view-users"), ("/admin/users/new", "create-users"),
                        ("/admin/users/1", "view-users"), ("/admin/groups", "view-groups"),
                        ("/admin/groups/new", "create-groups")):
        r = browser.get(url)
        assert r.status_code == 403, url
        assert "Not allowed" in r.text and f"You need the permission {needed}." in r.text, url
    home = browser.get("/profile").text
    assert 'href="/admin/users"' not in home and 'href="/admin/groups"' not in home


def test_post_without_csrf_token_is_refused(server, admin_browser):
    user = create_user_on_page(server, admin_browser)
    r = admin_browser.post(f"/admin/users/{user.id}", data={"email": user.email, "status": "INACTIVE"})
    assert r.status_code == 400 and "Expired form" in r.text
    assert can_sign_in(server, user.username, user.password)


def test_administrator_revokes_a_users_token_and_the_api_refuses_it_rfc6750_3_1(server, admin_browser):
    user = create_user_on_page(server, admin_browser)
    pat = server.create_pat(user.username)
    me = lambda: requests.get(server.url("/api/1.0/users/me"), headers={"Authorization": f"Bearer {pat['token']}"},
                              timeout=10)
    assert me().status_code == 200
    user_page = f"/admin/users/{user.id}"
    assert pat["name"] in admin_browser.get(user_page).text
    confirm = f"{user_page}/tokens/{pat['id']}/revoke"
    assert f'href="{confirm}"' in admin_browser.get(user_page).text
    r = submit(admin_browser, confirm, confirm)
    assert r.status_code == 303
    assert f"Token “{pat['name']}” revoked." in admin_browser.get(user_page).text
    response = me()
    assert response.status_code == 401 and "invalid_token" in response.headers["WWW-Authenticate"]


def test_administrator_makes_a_token_for_a_user_shown_once(server, admin_browser):
    user = create_user_on_page(server, admin_browser)
    user_page = f"/admin/users/{user.id}"
    r = submit(admin_browser, user_page, f"{user_page}/tokens",
               {"name": "deploy bot", "scopes": ["users:read"], "expires_in_days": "7"})
    assert r.status_code == 303 and r.headers["Location"] == "/shown-once"
    r = admin_browser.get("/shown-once")
    assert r.status_code == 200 and "You won't be able to see it again" in r.text
    token = re.search(r'value="(agp_[^"]+)"', r.text).group(1)
    me = requests.get(server.url("/api/1.0/users/me"), headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert me.status_code == 200 and me.json()["username"] == user.username
    assert token not in admin_browser.get(user_page).text


def test_delete_user_with_confirmation(server, admin_browser):
    user = create_user_on_page(server, admin_browser)
    confirm = f"/admin/users/{user.id}/delete"
    assert "Delete user" in admin_browser.get(confirm).text
    r = submit(admin_browser, confirm, confirm)
    assert r.status_code == 303 and r.headers["Location"] == "/admin/users"
    assert admin_browser.get(f"/admin/users/{user.id}").status_code == 404
    assert not can_sign_in(server, user.username, user.password)


def test_a_non_administrator_with_edit_users_sees_no_administrator_controls(server, admin_browser, make_user):
    manager = make_user()
    grant_page = f"/admin/users/{manager.id}"
    submit(admin_browser, grant_page, f"{grant_page}/permissions",
           {"permissions": ["view-users", "create-users", "edit-users", "view-groups"]})
    browser = Browser(server)
    browser.login(manager)
    new = browser.get("/admin/users/new")
    assert new.status_code == 200 and "is_administrator" not in new.text
    target = create_user_on_page(server, browser)
    page = browser.get(f"/admin/users/{target.id}").text
    assert "API Tokens" not in page and "is_administrator" not in page
    csrf = parse_page(browser.get(f"/admin/users/{target.id}").text).forms[0].input("csrf_token")["value"]
    r = browser.post(f"/admin/users/{target.id}/tokens", data={"csrf_token": csrf, "name": "n", "expires_in_days": "7"})
    assert r.status_code == 403 and "Only an administrator may manage another user" in r.text
    admin_page = browser.get("/admin/users/1")
    assert admin_page.status_code == 200
    r = submit(browser, "/admin/users/1", "/admin/users/1", {"email": "admin@example.org", "status": "INACTIVE"})
    assert r.status_code == 403 and "Only an administrator" in r.text


@pytest.mark.parametrize("url", ["/admin/users/abc", "/admin/users/99999999999999999999", "/admin/users/0",
                                 "/admin/groups/12345678901", "/admin/users/1/tokens/x/revoke"])
def test_odd_ids_are_the_404_page(admin_browser, url):
    r = admin_browser.get(url)
    assert r.status_code == 404 and r.headers["Content-Type"].startswith("text/html"), r.text[:300]
