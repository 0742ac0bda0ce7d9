"""The lockout locks the account, not the typed string (issue 12 item 7; OWASP ASVS 2.2.1): failed
sign-ins count against the account whichever identifier was typed (username or email, any case),
on the pages and the password grant (RFC 6749 §4.3.2) alike; unknown names keep their own counter
and lock the same way, so the answer reveals nothing. An administrator ends a lockout from the
command line (without Redis too: the server learns of it through the database) or on the Users
page, which shows the account as locked; the unlock needs edit-users and is in the audit log."""

from __future__ import annotations

import json
import re
import secrets

import pytest
import requests

from support import (
    Browser, User, api_for, eventually, grant, parse_page, password_grant, token_request, unique, user_via_api,
)

LOCKOUT = {"AUTHGATE_LOCKOUT": "3/60", "AUTHGATE_LIMIT_LOGIN_PER_IP": "1000/60"}


@pytest.fixture(scope="module")
def srv(server_factory):
    return server_factory({**LOCKOUT, "AUTHGATE_REDIS_URL": None})


@pytest.fixture(scope="module")
def admin(srv):
    return api_for(srv, "admin")


def sign_in(srv, login: str, password: str) -> requests.Response:
    browser = Browser(srv)
    return browser.submit_login(*browser.login_page(), login, password)


def wrong(srv, login: str) -> requests.Response:
    return sign_in(srv, login, "wrong-" + secrets.token_hex(4))


def lock(srv, user: User) -> None:
    for _ in range(3):
        assert wrong(srv, user.username).status_code == 400
    assert sign_in(srv, user.username, user.password).status_code == 429


def test_failures_by_username_lock_sign_in_by_email(srv, admin):
    user = user_via_api(admin)
    for _ in range(3):
        assert wrong(srv, user.username).status_code == 400
    r = sign_in(srv, user.email, user.password)
    assert r.status_code == 429, "the right password by email still signs in after the username was locked"
    assert "locked" in parse_page(r.text).text.lower()
    assert sign_in(srv, user.email.upper(), user.password).status_code == 429


def test_every_identifier_and_case_counts_toward_one_lockout(srv, admin):
    user = user_via_api(admin)
    for login in (user.email.upper(), user.username.upper(), user.email):
        assert wrong(srv, login).status_code == 400
    assert sign_in(srv, user.username, user.password).status_code == 429


def test_the_password_grant_and_the_pages_lock_the_same_account_rfc6749_4_3_2(srv, admin):
    user = user_via_api(admin)
    client = srv.create_client(grants=["password"])
    for login in (user.email, user.email.upper(), user.username):
        r = token_request(srv, {"grant_type": "password", "username": login, "password": "nope-nope"}, auth=client.basic)
        assert r.status_code == 400 and r.json()["error"] == "invalid_grant", r.text
    r = password_grant(srv, client, User(user.email, user.password, user.email, user.id))
    assert r.status_code == 429 and r.json()["error"] == "too_many_requests"
    assert sign_in(srv, user.username, user.password).status_code == 429


def test_unknown_names_lock_alike_and_reveal_nothing(srv, admin):
    user, ghost = user_via_api(admin), unique("ghost") + "@example.org"
    for name in (user.email, ghost):
        for _ in range(3):
            assert wrong(srv, name).status_code == 400
    known, unknown = wrong(srv, user.email), wrong(srv, ghost)
    assert known.status_code == unknown.status_code == 429
    assert [re.sub(r"\d+", "N", parse_page(r.text).text) for r in (known, unknown)] == \
        [re.sub(r"\d+", "N", parse_page(unknown.text).text)] * 2
    assert wrong(srv, ghost.upper()).status_code == 429, "an unknown name's counter ignores case too"
    assert sign_in(srv, user.username + "x", "whatever-pw").status_code == 400, "a different name has its own count"


def test_a_name_postgresql_cannot_store_is_refused_not_a_500(srv):
    """A NUL character (which PostgreSQL text cannot hold) in the name is refused before the sign-in is
    tried (``web/http/no_nul.py``): the 400 page, or ``invalid_request`` from the password grant; never a 500."""
    r = sign_in(srv, "lu\x00cy", "whatever-pw")
    assert r.status_code == 400, r.text[:300]
    client = srv.create_client(grants=["password"])
    r = token_request(srv, {"grant_type": "password", "username": "lu\x00cy", "password": "x"}, auth=client.basic)
    assert r.status_code == 400 and r.json()["error"] == "invalid_request", r.text


def test_cli_unlock_works_without_redis(srv, admin):
    """The lockout lives in the server's memory; ``authgate users unlock`` reaches it through the database."""
    user = user_via_api(admin)
    lock(srv, user)
    proc = srv.cli("users", "unlock", user.email)
    assert proc.returncode == 0, proc.stderr
    assert user.username in proc.stdout
    r = eventually(lambda: sign_in(srv, user.username, user.password), lambda r: r.status_code == 303, timeout=2.5)
    assert r.status_code == 303, f"still locked after the CLI unlock: {r.status_code}"


def test_cli_set_password_recovers_a_locked_out_administrator(srv, admin):
    """A lost administrator password, guessed at until locked: `users set-password --generate` gives a new
    one and ends the lockout, so it signs in at once."""
    user = user_via_api(admin)
    admin.ok("PUT", "/permissions", json={"user_id": user.id, "is_administrator": True}, status=204)
    lock(srv, user)
    proc = srv.cli("users", "set-password", user.username, "--generate", "--json")
    assert proc.returncode == 0, proc.stderr
    fresh = json.loads(proc.stdout)["password"]
    r = eventually(lambda: sign_in(srv, user.username, fresh), lambda r: r.status_code == 303, timeout=2.5)
    assert r.status_code == 303, f"still locked after set-password: {r.status_code}"


def test_cli_unlock_of_an_unknown_name_fails_cleanly(srv):
    proc = srv.cli("users", "unlock", unique("nobody"))
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    assert "no user" in proc.stderr.lower()


def _users_page(browser: Browser, user: User) -> requests.Response:
    r = browser.get("/admin/users?" + requests.compat.urlencode({"q": user.username}))
    assert r.status_code == 200, r.text[:300]
    return r


def _unlock_forms(page: requests.Response, user: User) -> list:
    return [f for f in parse_page(page.text).forms if f.method == "post" and f.action == f"/admin/users/{user.id}/unlock"]


def test_users_page_shows_a_locked_account_and_unlocks_it(srv, admin):
    user = user_via_api(admin)
    browser = Browser(srv)
    browser.login(User("admin", srv.admin_password, "", 1))
    assert "Locked" not in parse_page(_users_page(browser, user).text).text
    lock(srv, user)
    listing = _users_page(browser, user)
    assert "Locked" in parse_page(listing.text).text
    forms = _unlock_forms(listing, user)
    assert len(forms) == 1 and any(b["text"].strip() == "Unlock" for b in forms[0].buttons)
    done = browser.post(forms[0].action, data=forms[0].fields())
    assert done.status_code == 303, done.text[:300]
    assert sign_in(srv, user.username, user.password).status_code == 303
    assert "Locked" not in parse_page(_users_page(browser, user).text).text
    log = admin.get("/security_logs", params={"filter": "user.unlocked", "per_page": 100}).json()["data"]
    mine = [e for e in log if e["user_id"] == user.id]
    assert mine and mine[0]["event"] == "user.unlocked" and mine[0]["actor"] == "session"


def test_unlocking_needs_edit_users(srv, admin):
    """A viewer sees the lock but gets no button, and a forged POST (with a valid CSRF token) is refused."""
    user, viewer = user_via_api(admin), user_via_api(admin)
    grant(admin, viewer.id, "view-users")
    lock(srv, user)
    browser = Browser(srv)
    browser.login(viewer)
    listing = _users_page(browser, user)
    assert "Locked" in parse_page(listing.text).text and not _unlock_forms(listing, user)
    token = browser.single_form(browser.get("/logout")).input("csrf_token")["value"]
    refused = browser.post(f"/admin/users/{user.id}/unlock", data={"csrf_token": token})
    assert refused.status_code == 403, refused.text[:300]
    assert sign_in(srv, user.username, user.password).status_code == 429, "the refused unlock unlocked"


def test_a_reset_by_emailed_link_ends_the_lockout(srv, admin):
    """Whoever opens the reset link holds the account's mailbox (OWASP Forgot Password Cheat Sheet): the new
    password signs in at once, while the old one stays refused, however many wrong passwords came before."""
    user = user_via_api(admin)
    lock(srv, user)
    link = srv.cli_json("users", "reset-link", user.username, "--print")["link"]
    browser = Browser(srv)
    page = browser.get(link)
    action = requests.compat.urlparse(link).path
    fields = next(f for f in parse_page(page.text).forms if f.action == action).fields()
    new = "a new password after the lock " + unique("pw")
    done = browser.post(action, data={**fields, "password": new, "password_confirmation": new})
    assert done.status_code == 200, done.text[:300]
    assert sign_in(srv, user.username, new).status_code == 303, "the reset left the account locked"
    assert wrong(srv, user.username).status_code == 400


def test_an_administrators_password_reset_ends_the_lockout(srv, admin):
    """Setting another user's password over the API (edit-users, holding all their permissions) ends their
    lockout as `users unlock` would, since the administrator may unlock them anyway."""
    user = user_via_api(admin)
    lock(srv, user)
    new = "set by the administrator " + unique("pw")
    admin.ok("PUT", f"/users/{user.id}", json={"password": new})
    assert sign_in(srv, user.username, new).status_code == 303, "the administrator's reset left the account locked"


def test_an_administrators_password_reset_on_the_users_page_ends_the_lockout(srv, admin):
    """Guard (the API and the link are tested above): the Users page's password form, too, lets the user sign in
    with the new password at once."""
    user = user_via_api(admin)
    lock(srv, user)
    browser = Browser(srv)
    browser.login(User("admin", srv.admin_password, "", 1))
    action = f"/admin/users/{user.id}/password"
    form = next(f for f in parse_page(browser.get(f"/admin/users/{user.id}").text).forms if f.action == action)
    new = "set on the users page " + unique("pw")
    done = browser.post(action, data={**form.fields(), "password": new, "password_confirmation": new,
                                      "current_password": srv.admin_password})
    assert done.status_code == 303, done.text[:300]
    assert sign_in(srv, user.username, new).status_code == 303, "the reset on the page left the account locked"
    assert sign_in(srv, user.username, user.password).status_code == 400, "the old password still works"
