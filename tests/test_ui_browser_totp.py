"""The second factor in real headless Chromium (the fixtures of ``test_ui_browser``): set up an authenticator app
from the profile page (the QR code drawn as SVG under the pages' CSP, the secret to type by hand, a first code),
see the recovery codes once, then sign in with the password and a TOTP code (RFC 6238) computed here from the
secret, as the app would.

With ``AUTHGATE_SCREENSHOTS=1`` the tests also write ``docs/screenshots/*.png``.
"""

from __future__ import annotations

import time

import pyotp
from playwright.sync_api import expect

import test_ui_browser
from test_ui_browser import shot, sign_in

pytestmark = test_ui_browser.pytestmark
chromium = test_ui_browser.chromium  # the fixtures, shared
page = test_ui_browser.page


def test_enrol_an_authenticator_app_then_sign_in_with_a_code_rfc6238(page, chromium, server, make_user):
    user = make_user()
    console_errors = []
    page.on("console", lambda message: console_errors.append(message.text) if message.type == "error" else None)
    sign_in(page, user)
    page.goto("/profile")
    page.get_by_role("button", name="Set up an authenticator app").click()
    page.wait_for_url("**/profile/factors/totp")
    qr = page.get_by_role("img", name="QR code of your authenticator secret")
    assert qr.locator("svg").bounding_box()["width"] > 100
    secret = page.get_by_label("Secret key").input_value()
    shot(page, "totp-enrol")
    totp = pyotp.TOTP(secret)
    page.get_by_label("Code from the app").fill(totp.now())
    page.get_by_label("Your current password").fill(user.password)
    page.get_by_role("button", name="Turn on").click()
    page.wait_for_url("**/shown-once")
    codes = page.get_by_label("Your recovery codes (each works once)").input_value().split()
    assert len(codes) == 10
    shot(page, "totp-recovery-codes")
    page.get_by_role("link", name="Back to your profile").click()
    expect(page.get_by_text("10 recovery codes left")).to_be_visible()
    assert console_errors == [], "the enrolment pages break no rule of their CSP"

    context = chromium.new_context(base_url=server.base_url)
    other = context.new_page()
    try:
        other.goto("/login")
        other.get_by_label("Username or email").fill(user.username)
        other.get_by_label("Password").fill(user.password)
        other.get_by_role("button", name="Sign in", exact=True).click()
        other.wait_for_url("**/login/second-step**")
        assert not [c for c in context.cookies() if c["name"] == "authgate_session"]
        shot(other, "totp-sign-in")
        other.get_by_label("Code").fill(totp.at(time.time() + 30))
        other.get_by_role("button", name="Verify").click()
        other.wait_for_url(server.base_url + "/")
        assert other.locator(".who").inner_text() == f"Signed in as {user.username}"
    finally:
        context.close()
