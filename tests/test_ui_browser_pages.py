"""The finished pages in real headless Chromium (the fixtures of ``test_ui_browser``): error pages show who is
signed in, links wear the accent colour, the consent page warns about ``*`` and names the client's maker.

With ``AUTHGATE_SCREENSHOTS=1`` the tests also write ``docs/screenshots/*.png``.
"""

from __future__ import annotations

from playwright.sync_api import expect

from urllib.parse import urlencode

import test_ui_browser
from support import unique
from test_ui_browser import admin_user, shot, sign_in

pytestmark = test_ui_browser.pytestmark
chromium = test_ui_browser.chromium  # the fixtures, shared
page = test_ui_browser.page

ACCENT = "rgb(31, 111, 235)"


def test_error_pages_show_the_signed_in_user_and_links_wear_the_accent(page, make_user):
    user = make_user()
    sign_in(page, user)
    for url in ("/no-such-page", "/admin/users", "/oauth/authorize?client_id=nope&response_type=code"):
        page.goto(url)
        assert page.locator(".who").inner_text() == f"Signed in as {user.username}", url
        assert page.get_by_role("link", name="Sign in").count() == 0, url
    assert "invalid_client:" not in page.content()
    expect(page.get_by_text("authgate does not know this application")).to_be_visible()
    shot(page, "authorize-error")
    link = page.get_by_role("link", name="Back to the start page")
    assert link.evaluate("a => getComputedStyle(a).color") == ACCENT
    page.goto("/admin/users")
    shot(page, "not-allowed")


def test_consent_warns_about_everything_and_names_the_maker(page, server, admin, make_user):
    made = admin.ok("POST", "/oauth/clients", 201, json={
        "name": unique("Reporting "), "redirect_uris": ["https://reports.example.org/oauth/callback"],
        "types": ["authorization_code_grant"]})
    sign_in(page, make_user())
    page.goto("/oauth/authorize?" + urlencode({"response_type": "code", "client_id": made["id"], "scope": "*",
                                               "redirect_uri": made["redirect_uris"][0], "state": "s"}))
    expect(page.get_by_text("This application asks for everything.")).to_be_visible()
    assert page.locator("dl.details").inner_text().split() == \
        ["Registered", "by", "admin", "Sends", "you", "back", "to", "reports.example.org"]
    shot(page, "consent-everything")


def test_group_member_removal_asks_first_and_the_user_page_explains_permissions(page, server, make_user):
    member = make_user()
    sign_in(page, admin_user(server))
    page.goto("/admin/groups/new")
    name = unique("Support ")
    page.get_by_label("Name").fill(name)
    page.get_by_role("button", name="Create").click()
    page.get_by_label("view-users", exact=False).check()
    page.get_by_role("button", name="Save permissions").click()
    page.get_by_label("Add a user by username").fill(member.username)
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.get_by_text(f"“{member.username}” added.")).to_be_visible()
    shot(page, "admin-group")

    page.get_by_role("link", name=member.username, exact=True).click()
    effective = page.locator("section", has=page.get_by_role("heading", name="Effective permissions"))
    assert effective.get_by_role("row").filter(has_text="view-users").inner_text().endswith(f"through {name}")
    zone = page.locator("section.danger-zone")
    assert zone.get_by_role("link", name="Delete").evaluate("a => getComputedStyle(a).backgroundColor") \
        == "rgb(180, 35, 24)"
    shot(page, "admin-user")

    page.go_back()
    page.get_by_role("link", name=f"Remove {member.username}").click()
    expect(page.get_by_text(f"Remove “{member.username}” from this group?")).to_be_visible()
    page.get_by_role("link", name="Cancel").click()
    expect(page.get_by_role("link", name=member.username, exact=True)).to_be_visible()  # Cancel removed nobody
    page.get_by_role("link", name=f"Remove {member.username}").click()
    page.get_by_role("button", name="Remove member").click()
    expect(page.get_by_text(f"“{member.username}” removed from the group.")).to_be_visible()
    assert page.get_by_role("link", name=member.username, exact=True).count() == 0


def test_home_security_log_and_lists_in_the_browser(page, server, admin, make_user):
    prefix = unique("Ops")
    for n in range(26):
        admin.ok("POST", "/groups", 201, json={"name": f"{prefix} {n:02d}", "description": "on call, rota " + str(n)})
    client = admin.ok("POST", "/oauth/clients", 201, json={
        "name": unique("Billing "), "types": ["authorization_code_grant"],
        "redirect_uris": ["https://billing.example.org/a/very/long/path/to/the/oauth/callback/handler"]})
    user = make_user()
    server.create_pat(user.username, name="nightly export", scopes=["users:read"])
    sign_in(page, user)
    expect(page.get_by_role("heading", name=f"Welcome, {user.username}")).to_be_visible()
    expect(page.get_by_text("nightly export")).to_be_visible()
    shot(page, "home-user")

    failing = page.context.browser.new_context(base_url=server.base_url).new_page()
    failing.goto("/login")
    failing.get_by_label("Username or email").fill(user.username)
    failing.get_by_label("Password").fill("wrong password")
    failing.get_by_role("button", name="Sign in", exact=True).click()
    failing.context.close()

    page.context.clear_cookies()
    sign_in(page, admin_user(server))
    overview = page.locator("ul.stats")
    assert "failed sign-in" in overview.inner_text()
    shot(page, "home-admin")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Security log").click()
    page.get_by_label("Event").select_option("login.failed")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_role("cell", name=user.username).first).to_be_visible()
    page.get_by_label("Event").select_option("")
    page.get_by_role("button", name="Filter").click()
    shot(page, "security-log")

    page.goto("/admin/groups?" + urlencode({"q": prefix}))
    page.get_by_label("Per page").select_option("10")
    page.get_by_role("button", name="Show").click()
    page.get_by_role("link", name="Next →").click()
    expect(page.get_by_text("11–20 of 26")).to_be_visible()
    assert page.locator("th[aria-sort=ascending]").inner_text().startswith("Name")  # the default order
    page.get_by_role("link", name="Name").click()
    assert page.locator("th[aria-sort=descending]").inner_text().startswith("Name")
    assert page.get_by_role("row").nth(1).inner_text().startswith(f"{prefix} 25")
    shot(page, "admin-groups")

    page.goto("/admin/auth-clients?" + urlencode({"q": client["name"]}))
    cell = page.locator("code.id", has_text=client["id"])
    assert cell.evaluate("c => getComputedStyle(c).whiteSpace") == "nowrap"
    assert cell.evaluate("c => c.getClientRects().length") == 1  # one line: not broken mid-string
