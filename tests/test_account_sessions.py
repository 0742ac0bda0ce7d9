"""A person's browser sessions and password on the account page, an administrator's view of them, the API
and the CLI (issue 15, items 6 and 7).

Two or more real browser sessions (``requests.Session``s that keep cookies) per test, each sending its own
``User-Agent``. Ending a session signs that browser out at its very next request (OWASP ASVS 3.3.1); a
password change ends the other sessions and the OAuth tokens (ASVS 3.3.3) and keeps the acting one; nobody
ends or lists another user's sessions without ``edit-users`` (ASVS 4.2.1, insecure direct object references),
over the API (403, or 404 for a session id that is not the named user's) and the pages alike.
"""

from __future__ import annotations

import re

import pytest

from support import (Api, Browser, User, admin_api, assert_forbidden, assert_invalid, assert_not_found,
                     assert_token_error, eventually, grant, parse_page, password_grant, refresh, unique,
                     user_via_api)

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
SAFARI_IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
                 "Version/18.1 Mobile/15E148 Safari/604.1")
EDGE = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 "
        "Safari/537.36 Edg/131.0.0.0")


def browser_of(server, user: User, user_agent: str = FIREFOX, headers: dict | None = None) -> Browser:
    browser = Browser(server)
    browser.session.headers.update({"User-Agent": user_agent, **(headers or {})})
    browser.login(user)
    assert signed_in(browser)
    return browser


def signed_in(browser: Browser) -> bool:
    r = browser.get("/profile")
    assert r.status_code in (200, 303), r.status_code
    return r.status_code == 200


def own_api(admin: Api, user: User) -> Api:
    made = admin.ok("POST", f"/users/{user.id}/tokens", 201,
                    json={"name": unique("pat"), "scopes": ["users:read", "users:write"]})
    return Api(admin.server, made["accessToken"])


def sessions(api: Api, user_id: int) -> list[dict]:
    """Newest first, as the pages show them."""
    return api.ok("GET", f"/users/{user_id}/sessions", params={"order_direction": "desc"})["data"]


def csrf(browser: Browser, path: str = "/profile") -> str:
    return parse_page(browser.get(path).text).forms[0].input("csrf_token")["value"]


def end_actions(html: str) -> list[str]:
    return [f.action for f in parse_page(html).forms if re.fullmatch(r".*/sessions/\d+/end", f.action or "")]


def events_of(admin: Api, user_id: int) -> list[dict]:
    r = admin.get("/security_logs", params={"per_page": 100, "order_direction": "desc"})
    assert r.status_code == 200, r.text
    return [e for e in r.json()["data"] if e["user_id"] == user_id]


@pytest.fixture(scope="module")
def client(server):
    return server.create_client(grants=["password", "refresh_token"])


def test_the_list_shows_each_session_with_its_browser_address_and_times(server, admin):
    user = user_via_api(admin)
    laptop, phone = browser_of(server, user, FIREFOX), browser_of(server, user, SAFARI_IPHONE)
    listed = sessions(own_api(admin, user), user.id)
    assert [s["device"] for s in listed] == ["Safari on iOS", "Firefox on Linux"]  # newest first
    assert [s["user_agent"] for s in listed] == [SAFARI_IPHONE, FIREFOX]
    for s in listed:
        assert s["user_id"] == user.id and s["ip"] == "127.0.0.1"
        assert s["started_at"] and s["last_seen_at"] and s["expires_at"] > s["started_at"]
        assert set(s) == {"id", "user_id", "device", "user_agent", "ip", "started_at", "last_seen_at", "expires_at"}
    cookie = laptop.session.cookies["authgate_session"]
    assert cookie not in str(listed)
    found = own_api(admin, user).ok("GET", f"/users/{user.id}/sessions", params={"filter": "iphone"})
    assert [s["device"] for s in found["data"]] == ["Safari on iOS"]
    assert found["meta"]["total"] == 1 and found["meta"]["filter"] == "iphone"

    page = laptop.get("/profile").text
    assert "Firefox on Linux" in page and "Safari on iOS" in page
    mine = parse_page(page).by_id[f"session-{listed[1]['id']}"]
    assert "this session" in mine and "this session" not in parse_page(page).by_id[f"session-{listed[0]['id']}"]
    assert end_actions(page) == [f"/profile/sessions/{listed[0]['id']}/end"]  # no button for this one
    assert signed_in(phone)


def test_last_seen_is_written_at_most_once_a_minute(server, admin):
    """Page requests within the minute leave ``last_seen_at`` as it was (the design's write throttling)."""
    user = user_via_api(admin)
    browser = browser_of(server, user)
    api = own_api(admin, user)
    before = sessions(api, user.id)[0]
    assert before["last_seen_at"] == before["started_at"]
    for _ in range(5):
        assert signed_in(browser)
    after = eventually(lambda: sessions(api, user.id)[0], lambda s: s["last_seen_at"] != before["last_seen_at"],
                       timeout=1.5)
    assert after["last_seen_at"] == before["last_seen_at"]


def test_a_long_user_agent_is_kept_to_255_characters(server, admin):
    user = user_via_api(admin)
    browser_of(server, user, EDGE + " " + "x" * 2000)
    [listed] = sessions(own_api(admin, user), user.id)
    assert listed["device"] == "Edge on Windows"
    assert listed["user_agent"] == (EDGE + " " + "x" * 2000)[:255]


def test_signing_out_one_session_ends_it_at_once_and_only_it(server, admin):
    user = user_via_api(admin)
    laptop, phone = browser_of(server, user, FIREFOX), browser_of(server, user, SAFARI_IPHONE)
    [action] = end_actions(laptop.get("/profile").text)
    r = laptop.post(action, data={"csrf_token": csrf(laptop)})
    assert r.status_code == 303 and r.headers["Location"] == "/profile"
    assert not signed_in(phone)
    assert signed_in(laptop)
    assert [s["device"] for s in sessions(own_api(admin, user), user.id)] == ["Firefox on Linux"]
    again = laptop.post(action, data={"csrf_token": csrf(laptop)})
    assert again.status_code == 404, "the same request twice"
    ended = [e for e in events_of(admin, user.id) if e["event"] == "session.ended"]
    assert len(ended) == 1 and ended[0]["details"] == {"session_id": int(action.split("/")[3])}


def test_signing_out_all_other_sessions_keeps_this_one(server, admin):
    user = user_via_api(admin)
    here = browser_of(server, user, FIREFOX)
    others = [browser_of(server, user, SAFARI_IPHONE), browser_of(server, user, EDGE)]
    r = here.post("/profile/sessions/end-others", data={"csrf_token": csrf(here)})
    assert r.status_code == 303
    assert signed_in(here) and not any(signed_in(b) for b in others)
    assert "Sign out all other sessions" not in here.get("/profile").text
    [event] = [e for e in events_of(admin, user.id) if e["event"] == "sessions.ended"]
    assert event["details"] == {"count": 2, "kept_current": True}


def test_a_form_without_its_csrf_token_ends_nothing(server, admin):
    user = user_via_api(admin)
    laptop, phone = browser_of(server, user), browser_of(server, user, SAFARI_IPHONE)
    [action] = end_actions(laptop.get("/profile").text)
    assert laptop.post(action, data={}).status_code in (400, 403)
    assert laptop.post("/profile/sessions/end-others", data={"csrf_token": "forged"}).status_code in (400, 403)
    assert signed_in(phone)


def change_form(browser: Browser, current: str, new: str, again: str | None = None) -> dict:
    return {"csrf_token": csrf(browser, "/profile/password"), "current_password": current, "password": new,
            "password_confirmation": new if again is None else again}


def test_changing_the_password_ends_the_other_sessions_and_oauth_tokens_and_the_old_password(server, admin,
                                                                                             client):
    """ASVS 3.3.3: after a password change the other sessions and the refresh tokens end (RFC 6749 §6:
    ``invalid_grant``); the current session stays; the old password is refused."""
    user = user_via_api(admin)
    here, other = browser_of(server, user), browser_of(server, user, SAFARI_IPHONE)
    tokens = password_grant(server, client, user).json()
    new = "a new password " + unique("pw")

    wrong = here.post("/profile/password", data=change_form(here, "not my password", new))
    assert wrong.status_code == 422 and 'id="current_password-error"' in wrong.text
    differ = here.post("/profile/password", data=change_form(here, user.password, new, again=new + "!"))
    assert differ.status_code == 422 and 'id="password_confirmation-error"' in differ.text
    short = here.post("/profile/password", data=change_form(here, user.password, "short"))
    assert short.status_code == 422 and 'id="password-error"' in short.text
    assert signed_in(other)

    r = here.post("/profile/password", data=change_form(here, user.password, new))
    assert r.status_code == 303 and r.headers["Location"] == "/profile"
    assert signed_in(here) and not signed_in(other)
    assert_token_error(refresh(server, client, tokens["refresh_token"]), "invalid_grant")
    assert password_grant(server, client, user).status_code == 400
    stranger = Browser(server)
    login, form = stranger.login_page()
    assert stranger.submit_login(login, form, user.username, user.password).status_code != 303
    browser_of(server, User(user.username, new, user.email, user.id))
    changed = [e for e in events_of(admin, user.id) if e["event"] == "user.password_changed"]
    assert len(changed) == 1


def test_the_account_page_shows_the_accounts_own_recent_security_events(server, admin):
    user, someone_else = user_via_api(admin), user_via_api(admin)
    stranger = Browser(server)
    login, form = stranger.login_page()
    stranger.submit_login(login, form, user.username, "wrong password")
    browser_of(server, someone_else)
    page = browser_of(server, user).get("/profile").text
    events = parse_page(page).by_id["account-events-h"]
    assert events == "Recent security events"
    table = page.split('id="account-events-h"', 1)[1]
    assert table.index("login.succeeded") < table.index("login.failed") < table.index("user.created")  # newest first
    assert len(re.findall(r'<span class="event', table)) == 3, "another user's events, or routine ones, are not listed"


def test_an_administrator_ends_a_users_sessions_over_the_api(server, admin):
    user = user_via_api(admin)
    laptop, phone = browser_of(server, user), browser_of(server, user, SAFARI_IPHONE)
    newest, older = sessions(admin, user.id)
    assert admin.ok("DELETE", f"/users/{user.id}/sessions/{newest['id']}", 204) is None
    assert not signed_in(phone) and signed_in(laptop)
    assert_not_found(admin.delete(f"/users/{user.id}/sessions/{newest['id']}"))
    assert admin.ok("DELETE", f"/users/{user.id}/sessions", 204) is None
    assert not signed_in(laptop)
    assert sessions(admin, user.id) == []
    kinds = [(e["event"], e["details"].get("by_user_id")) for e in events_of(admin, user.id)]
    assert ("session.ended", 1) in kinds and ("sessions.ended", 1) in kinds


def test_an_administrator_ends_a_users_sessions_on_the_user_page(server, admin):
    user = user_via_api(admin)
    laptop, phone = browser_of(server, user), browser_of(server, user, SAFARI_IPHONE)
    chief = browser_of(server, User("admin", server.admin_password, "", 1), EDGE)
    page = chief.get(f"/admin/users/{user.id}").text
    assert "Safari on iOS" in page and "Firefox on Linux" in page and "last sign-in" in page
    first, second = end_actions(page)
    assert first.startswith(f"/admin/users/{user.id}/sessions/")
    token = csrf(chief, f"/admin/users/{user.id}")
    assert chief.post(first, data={"csrf_token": token}).status_code == 303
    assert not signed_in(phone) and signed_in(laptop)
    assert chief.post(first, data={"csrf_token": token}).status_code == 404
    assert chief.post(f"/admin/users/{user.id}/sessions/end", data={"csrf_token": token}).status_code == 303
    assert not signed_in(laptop) and signed_in(chief)


def test_the_cli_lists_and_ends_a_users_sessions(server, admin):
    user = user_via_api(admin)
    laptop = browser_of(server, user)
    listed = server.commands.run_json("users", "sessions", user.username)
    assert [s["device"] for s in listed["sessions"]] == ["Firefox on Linux"]
    assert server.commands.run_json("users", "end-sessions", user.username) == {"username": user.username, "ended": 1}
    assert not signed_in(laptop)
    assert server.commands.run_json("users", "sessions", user.username)["sessions"] == []


def test_nobody_lists_or_ends_another_users_sessions_over_the_api(server, admin):
    """Refused from the side that must be refused: a user with no permission, and one with ``edit-users``
    against an administrator; a session id of someone else's under one's own user id is 404."""
    victim, intruder = user_via_api(admin), user_via_api(admin)
    victims_browser = browser_of(server, victim)
    [target] = sessions(admin, victim.id)
    browser_of(server, intruder)
    api = own_api(admin, intruder)
    assert_forbidden(api.get(f"/users/{victim.id}/sessions"))
    assert_forbidden(api.delete(f"/users/{victim.id}/sessions"))
    assert_forbidden(api.delete(f"/users/{victim.id}/sessions/{target['id']}"))
    assert_not_found(api.delete(f"/users/{intruder.id}/sessions/{target['id']}"))
    assert_forbidden(api.get("/users/999999/sessions"))  # no permission: no answer about who exists
    assert signed_in(victims_browser)

    grant(admin, intruder.id, "view-users")
    assert_forbidden(api.get(f"/users/{victim.id}/sessions"))
    grant(admin, intruder.id, "view-users", "edit-users")
    assert_forbidden(api.get("/users/1/sessions"))
    assert_forbidden(api.delete("/users/1/sessions"))
    assert [s["id"] for s in sessions(api, victim.id)] == [target["id"]]


def test_nobody_ends_another_users_session_on_the_pages(server, admin):
    victim, intruder = user_via_api(admin), user_via_api(admin)
    victims_browser = browser_of(server, victim)
    [target] = sessions(admin, victim.id)
    intruders_browser = browser_of(server, intruder)
    token = csrf(intruders_browser)
    assert intruders_browser.post(f"/profile/sessions/{target['id']}/end", data={"csrf_token": token}).status_code == 404
    r = intruders_browser.post(f"/admin/users/{victim.id}/sessions/{target['id']}/end", data={"csrf_token": token})
    assert r.status_code == 403
    assert intruders_browser.post(f"/admin/users/{victim.id}/sessions/end", data={"csrf_token": token}).status_code == 403
    grant(admin, intruder.id, "view-users")
    page = intruders_browser.get(f"/admin/users/{victim.id}")
    assert page.status_code == 200 and 'id="user-sessions-h"' not in page.text, "the sessions need edit-users"
    assert intruders_browser.post(f"/admin/users/{victim.id}/sessions/end", data={"csrf_token": token}).status_code == 403
    assert signed_in(victims_browser)
    assert not [e for e in events_of(admin, victim.id) if e["event"].startswith("session")]


def test_bad_ids_are_404_or_422_never_500(server, admin):
    user = user_via_api(admin)
    browser = browser_of(server, user)
    api = own_api(admin, user)
    assert_not_found(api.delete(f"/users/{user.id}/sessions/2147483647"))
    assert_not_found(admin.get("/users/2147483647/sessions"))
    assert_not_found(admin.delete("/users/2147483647/sessions"))
    for path in (f"/users/{user.id}/sessions/0", f"/users/{user.id}/sessions/abc", f"/users/{user.id}/sessions/99999999999"):
        assert_invalid(api.delete(path))
    token = csrf(browser)
    for path in ("/profile/sessions/2147483647/end", "/profile/sessions/abc/end", "/profile/sessions/0/end",
                 "/admin/users/2147483647/sessions/1/end"):
        r = browser.post(path, data={"csrf_token": token})
        assert r.status_code in (403, 404), (path, r.status_code)
    assert browser.post("/profile/sessions/2147483647/end", data={"csrf_token": token}).status_code == 404
    assert signed_in(browser)


@pytest.fixture(scope="module")
def proxied(server_factory):
    return server_factory({"AUTHGATE_TRUSTED_PROXIES": "127.0.0.1"})


def test_behind_a_trusted_proxy_the_session_records_the_forwarded_address(proxied):
    """``AUTHGATE_TRUSTED_PROXIES``: the address is the last one in ``X-Forwarded-For`` not in the list."""
    admin = admin_api(proxied)
    user = user_via_api(admin)
    browser_of(proxied, user, headers={"X-Forwarded-For": "198.51.100.9, 203.0.113.7"})
    assert [s["ip"] for s in sessions(admin, user.id)] == ["203.0.113.7"]
