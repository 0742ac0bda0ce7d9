"""Forgot password in real headless Chromium, with the letter taken from a real SMTP server on loopback
(aiosmtpd): the sign-in page's link, the request, the link from the mail, the new password, signing in with it;
and the profile's "Name and email" part, where a new address is unverified until its link is opened.

With ``AUTHGATE_SCREENSHOTS=1`` the tests also write ``docs/screenshots/*.png``.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

import test_ui_browser
from support import unique
from support.mailbox import Mailbox, link_in
from support.values import User
from test_ui_browser import shot

pytestmark = test_ui_browser.pytestmark
chromium = test_ui_browser.chromium  # the fixture, shared


@pytest.fixture(scope="module")
def mailbox():
    box = Mailbox().start()
    yield box
    box.stop()


@pytest.fixture(scope="module")
def mail_server(server_factory, mailbox):
    return server_factory({"AUTHGATE_SMTP_URL": mailbox.url, "AUTHGATE_MAIL_FROM": "authgate@example.org"})


@pytest.fixture
def page(chromium, mail_server):
    context = chromium.new_context(base_url=mail_server.base_url, viewport={"width": 1000, "height": 720})
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


def sign_in(page, user: User) -> None:
    page.goto("/login")
    page.get_by_label("Username or email").fill(user.username)
    page.get_by_label("Password").fill(user.password)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url("**/")
    expect(page.get_by_text(f"Signed in as {user.username}")).to_be_visible()


def test_forgot_password_then_sign_in_with_the_new_one(page, mail_server, mailbox):
    user = mail_server.create_user()
    console_errors = []
    page.on("console", lambda message: console_errors.append(message.text) if message.type == "error" else None)
    page.goto("/login")
    page.get_by_role("link", name="Forgot your password?").click()
    page.wait_for_url("**/password/forgot")
    page.get_by_label("Username or email").fill(user.email)
    shot(page, "forgot-password")
    page.get_by_role("button", name="Send me a link").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()

    page.goto(link_in(mailbox.wait_for(user.email, "Reset your password")[0]))
    expect(page.get_by_role("heading", name="Choose a new password")).to_be_visible()
    new = "chosen in chromium " + unique("pw")
    page.get_by_label("New password", exact=True).fill(new)
    page.get_by_label("New password again").fill(new)
    shot(page, "reset-password")
    page.get_by_role("button", name="Set new password").click()
    expect(page.get_by_text("Your password is set. Sign in with it.")).to_be_visible()
    sign_in(page, User(user.username, new, user.email, user.id))
    assert console_errors == [], "the pages break no rule of their CSP"


def test_a_new_address_on_the_profile_is_unverified_until_its_link_is_opened(page, mail_server, mailbox):
    user = mail_server.create_user()
    sign_in(page, user)
    page.goto("/profile")
    expect(page.get_by_text(f"Your address {user.email} is not verified yet.")).to_be_visible()
    new_email = f"{unique('moved')}@example.org"
    page.get_by_label("Email", exact=True).fill(new_email)
    page.get_by_label("Confirm with your password").fill(user.password)
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Your details are saved. Open the link we sent to your new address")).to_be_visible()

    page.goto(link_in(mailbox.wait_for(new_email, "Confirm your email address")[0]))
    page.get_by_role("button", name="Confirm my address").click()
    expect(page.get_by_text(f"Thank you: {new_email} is verified.")).to_be_visible()
    page.goto("/profile")
    expect(page.get_by_text(f"Your address {new_email} is verified")).to_be_visible()
