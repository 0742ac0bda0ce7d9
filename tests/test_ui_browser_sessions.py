"""The account page's sessions and password change in real headless Chromium (the fixtures of ``test_ui_browser``):
a second browser, on another "device", is listed by its user agent, signed out from the first with one button,
and a password change keeps the first signed in (OWASP ASVS 3.3.1, 3.3.3).

With ``AUTHGATE_SCREENSHOTS=1`` the test also writes ``docs/screenshots/account-sessions.png``.
"""

from __future__ import annotations

from playwright.sync_api import expect

import test_ui_browser
from support import unique
from test_ui_browser import shot, sign_in

pytestmark = test_ui_browser.pytestmark
chromium = test_ui_browser.chromium  # the fixtures, shared
page = test_ui_browser.page

PHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
         "Version/18.1 Mobile/15E148 Safari/604.1")


def test_sign_out_another_browser_then_change_the_password(page, chromium, server, make_user):
    user = make_user()
    phone_context = chromium.new_context(base_url=server.base_url, user_agent=PHONE)
    phone_context.set_default_timeout(15_000)
    phone = phone_context.new_page()
    try:
        sign_in(phone, user)
        sign_in(page, user)
        page.goto("/profile")
        sessions = page.get_by_role("table", name="Your sessions")
        expect(sessions.get_by_role("row").filter(has_text="this session")).to_have_count(1)
        expect(sessions.get_by_text("Safari on iOS")).to_be_visible()
        shot(page, "account-sessions")
        sessions.get_by_role("button", name="Sign out Safari on iOS").click()
        expect(page.get_by_text("Session signed out.")).to_be_visible()
        expect(sessions.get_by_text("Safari on iOS")).to_have_count(0)
        phone.goto("/profile")
        phone.wait_for_url("**/login**")

        page.get_by_role("link", name="Change password").click()
        new = "a new password " + unique("pw")
        page.get_by_label("Current password").fill(user.password)
        page.get_by_label("New password", exact=True).fill(new)
        page.get_by_label("New password again").fill(new)
        page.get_by_role("button", name="Change password").click()
        expect(page.get_by_text("Password changed.")).to_be_visible()
        events = page.get_by_role("table", name="The latest security events of your account, newest first")
        expect(events.get_by_text("user.password_changed")).to_be_visible()
    finally:
        phone_context.close()
