"""The home page, the security log and the admin lists, as a browser without JavaScript uses them: a user's
home shows their API tokens and applications at a glance, an administrator's also the server's counts and the
latest security events (a failed sign-in counts at once); the security log filters by user, client, event and
date, pages, and answers 403 to anyone but an administrator; the Users list shows each last sign-in and
filters by status; lists sort by their columns, say "11–20 of 26", change page size, and say what to do next
when empty.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from urllib.parse import urlencode

import pytest

from support import Browser, User, code_flow_tokens, parse_page, unique, user_via_api


@pytest.fixture(scope="module")
def admin_browser(server) -> Browser:
    browser = Browser(server)
    browser.login(User("admin", server.admin_password, "", 1))
    return browser


def text_of(browser: Browser, url: str, status: int = 200) -> str:
    page = browser.get(url)
    assert page.status_code == status, (url, page.status_code, page.text[:300])
    return parse_page(page.text).text


def stat(text: str, words: str) -> int:
    return int(re.search(r"(\d+) " + words, text).group(1))


def failed_sign_in(server, username: str) -> None:
    browser = Browser(server)
    r, form = browser.login_page()
    assert browser.submit_login(r, form, username, "not the password").status_code == 400


def test_a_users_home_shows_their_tokens_and_applications(server, make_user, make_client):
    user = make_user()
    pat = server.create_pat(user.username, name=unique("home script "), scopes=["users:read"])
    rp = make_client(redirect_uris=[f"https://{unique('rp')}.example.org/cb"], grants=["authorization_code"])
    code_flow_tokens(server, rp, user)
    browser = Browser(server)
    browser.login(user)
    home = text_of(browser, "/")
    assert f"Welcome, {user.username}" in home and pat["name"] in home and rp.name in home
    assert "Overview" not in home and "failed sign-in" not in home and "Security log" not in home

    fresh = make_user()
    browser = Browser(server)
    browser.login(fresh)
    home = text_of(browser, "/")
    assert "No API tokens yet." in home and "No application holds access to your account." in home


def test_an_administrators_home_counts_and_shows_the_latest_events(server, admin_browser, admin):
    before = text_of(admin_browser, "/")
    assert "Overview" in before and "Latest security events" in before
    users = admin.ok("GET", "/users?per_page=1")["meta"]["total"]
    assert stat(before, "users?") == users
    assert stat(before, "sign-ins? today") >= 1  # the administrator's own
    victim = user_via_api(admin)
    failed_sign_in(server, victim.username)
    after = text_of(admin_browser, "/")
    assert stat(after, "users?") == users + 1
    assert stat(after, "failed sign-ins? today") == stat(before, "failed sign-ins? today") + 1
    latest = after.split("Latest security events", 1)[1]
    assert "login.failed" in latest and victim.username in latest


def test_the_security_log_filters_pages_and_is_for_administrators_only(server, admin_browser, admin, make_user):
    person = user_via_api(admin)
    for _ in range(3):
        failed_sign_in(server, person.username)
    browser = Browser(server)
    browser.login(person)

    mine = text_of(admin_browser, "/admin/security-log?" + urlencode({"user": person.username}))
    assert mine.count("login.failed") == 3 + 1 and "login.succeeded" in mine  # + the filter's own option
    assert "user.created" in mine.split("Clear", 1)[1]
    assert "1–5 of 5" in mine  # made, three failures, one success
    failed = text_of(admin_browser, "/admin/security-log?" + urlencode({"user": person.username, "event": "login.failed"}))
    assert "1–3 of 3" in failed and "login.succeeded" not in failed.split("Clear", 1)[1]
    by_id = text_of(admin_browser, "/admin/security-log?" + urlencode({"user": str(person.id), "per_page": "10"}))
    assert "1–5 of 5" in by_id

    today = date.today()
    yesterday = (today - timedelta(days=1)).isoformat()
    none = text_of(admin_browser, "/admin/security-log?" + urlencode({"user": person.username, "until": yesterday}))
    assert "No event matches these filters." in none
    paged = text_of(admin_browser, "/admin/security-log?" + urlencode(
        {"user": person.username, "since": today.isoformat(), "until": (today + timedelta(days=1)).isoformat(),
         "per_page": "10", "page": "1"}))
    assert "1–5 of 5" in paged

    bad = admin_browser.get("/admin/security-log?since=yesterday")
    assert bad.status_code == 422 and 'id="since-error"' in bad.text

    client = admin.ok("POST", "/oauth/clients", 201, json={"name": unique("logged"), "types": ["client_credentials"]})
    by_client = text_of(admin_browser, "/admin/security-log?" + urlencode({"client_id": client["id"]}))
    assert "client.created" in by_client.split("Clear", 1)[1] and "1–1 of 1" in by_client

    refused = browser.get("/admin/security-log")
    assert refused.status_code == 403 and "Not allowed" in refused.text and "login.failed" not in refused.text
    assert 'href="/admin/security-log"' not in browser.get("/").text
    assert Browser(server).get("/admin/security-log").headers["Location"].startswith("/login")


def test_the_users_list_shows_last_sign_in_and_filters_by_status(server, admin_browser, admin):
    prefix = unique("stat")
    active, inactive = (admin.ok("POST", "/users", 201, json={
        "username": f"{prefix}{n}", "email": f"{prefix}{n}@example.org", "password": "long enough pw"}) for n in "ab")
    admin.ok("PUT", f"/users/{inactive['id']}", 200, json={"status": "INACTIVE"})
    Browser(server).login(User(active["username"], "long enough pw", "", active["id"]))

    listing = admin_browser.get("/admin/users?" + urlencode({"q": prefix})).text
    rows = {m.group(1): m.group(2) for m in re.finditer(
        r'<a href="/admin/users/\d+">(' + prefix + r'\w)</a>.*?<td class="nowrap">(.*?)</td>', listing, re.S)}
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", rows[active["username"]])
    assert "never" in rows[inactive["username"]]

    only = text_of(admin_browser, "/admin/users?" + urlencode({"q": prefix, "status": "INACTIVE"}))
    assert "1 inactive user matching" in only and inactive["username"] in only and active["username"] not in only
    assert "1 active user matching" in text_of(admin_browser, "/admin/users?" + urlencode({"q": prefix, "status": "ACTIVE"}))
    assert "2 users matching" in text_of(admin_browser, "/admin/users?" + urlencode({"q": prefix, "status": "odd"}))


def test_lists_sort_page_and_change_page_size(server, admin_browser, admin):
    prefix = unique("Team")
    for n in range(26):
        admin.ok("POST", "/groups", 201, json={"name": f"{prefix} {n:02d}"})

    def names(url: str) -> list[str]:
        return re.findall(r'<a href="/admin/groups/\d+">(' + prefix + r' \d\d)</a>', admin_browser.get(url).text)

    base = "/admin/groups?" + urlencode({"q": prefix})
    assert names(base) == [f"{prefix} {n:02d}" for n in range(20)]
    second = text_of(admin_browser, base + "&per_page=10&page=2")
    assert "11–20 of 26" in second
    assert names(base + "&per_page=10&page=2") == [f"{prefix} {n:02d}" for n in range(10, 20)]
    assert names(base + "&sort=name&dir=desc&per_page=10") == [f"{prefix} {n:02d}" for n in range(25, 15, -1)]
    assert "21–26 of 26" in text_of(admin_browser, base + "&page=2")

    page = admin_browser.get(base + "&sort=name&dir=desc&per_page=10&page=2").text
    assert 'aria-sort="descending"' in page
    nxt = re.search(r'href="([^"]+)" rel="next"', page).group(1).replace("&amp;", "&")
    assert "sort=name" in nxt and "dir=desc" in nxt and "per_page=10" in nxt and "page=3" in nxt
    assert re.search(r'<option value="10" selected>', page)
    flip = re.search(r'<a class="sort" href="([^"]+)">Name', page).group(1).replace("&amp;", "&")
    assert "dir=asc" in flip and "&page=" not in flip  # a new order starts on the first page

    for odd in ("&sort=password_hash", "&dir=sideways", "&per_page=7", "&per_page=x", "&page=-3"):
        assert admin_browser.get(base + odd).status_code == 200, odd


def test_empty_lists_say_what_to_do_next(server, admin_browser):
    nothing = unique("nothing")
    assert "No group matches. Check the spelling or clear the search." in text_of(admin_browser, f"/admin/groups?q={nothing}")
    assert "No user matches." in text_of(admin_browser, f"/admin/users?q={nothing}")
    assert "No client matches" in text_of(admin_browser, f"/admin/auth-clients?q={nothing}")
