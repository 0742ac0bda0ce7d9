"""The identity providers admin page in real headless Chromium (issue 18 item 1), on a server of its own so that
its list starts empty: an administrator adds an OpenID Connect provider through the form (its discovery document
read first, OpenID Connect Discovery 1.0 §4), its button appears on the sign-in page, a refused issuer is shown
next to its field, an edit is saved without the secret ever coming back, and disable, enable and delete go
through their confirmation pages.

With ``AUTHGATE_SCREENSHOTS=1`` the tests also write ``docs/screenshots/*.png``.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

import test_ui_browser
from support import unique
from test_ui_browser import admin_user, shot, sign_in

pytestmark = test_ui_browser.pytestmark
chromium = test_ui_browser.chromium  # the fixture, shared

SECRET_KEY = "test-secret-key-" + "b" * 32


@pytest.fixture(scope="module")
def srv(server_factory):
    return server_factory({"AUTHGATE_SECRET_KEY": SECRET_KEY})


def new_page(chromium, srv):
    context = chromium.new_context(base_url=srv.base_url, viewport={"width": 1000, "height": 720})
    context.set_default_timeout(15_000)
    return context.new_page()


@pytest.fixture
def page(chromium, srv):
    page = new_page(chromium, srv)
    yield page
    page.context.close()


def sign_in_buttons(chromium, srv) -> list[str]:
    visitor = new_page(chromium, srv)
    try:
        visitor.goto("/login")
        return [b.inner_text() for b in visitor.locator("button[data-provider]").all()]
    finally:
        visitor.context.close()


def test_an_administrator_adds_edits_disables_and_deletes_a_provider(page, chromium, srv, stub):
    name, secret = unique("Corp"), "corp-secret-" + unique("s") + "-zzzzzzzz"
    sign_in(page, admin_user(srv))
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Identity providers").click()
    expect(page.get_by_text("No identity providers yet.")).to_be_visible()

    page.get_by_role("link", name="+ Identity provider").click()
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("Issuer").fill("http://idp.example.org")
    page.get_by_label("Client ID").fill("authgate-at-corp")
    page.get_by_label("Client secret").fill(secret)
    page.get_by_label("Create an account at a first sign-in").check()
    page.get_by_label("It is inside the network").check()
    expect(page.get_by_label("Enabled: its button is on the sign-in page")).to_be_checked()
    page.get_by_role("button", name="Add").click()
    expect(page.locator("#issuer-error")).to_have_text("Issuer must be an https URL (http only on loopback).")
    expect(page.get_by_label("Issuer")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Client ID")).to_have_value("authgate-at-corp")  # kept
    expect(page.get_by_label("Client secret")).to_have_value("")  # never sent back
    assert secret not in page.content()

    page.get_by_label("Issuer").fill(stub.issuer)
    page.get_by_label("Client secret").fill(secret)
    shot(page, "admin-identity-provider-form")
    page.get_by_role("button", name="Add").click()
    expect(page.get_by_text(f"Identity provider “{name}” added.")).to_be_visible()
    expect(page.get_by_role("cell", name=stub.issuer)).to_be_visible()
    shot(page, "admin-identity-providers")
    assert sign_in_buttons(chromium, srv) == [f"Sign in with {name}"]

    page.get_by_role("link", name=name, exact=True).click()
    expect(page.get_by_text("one is set: leave empty to keep it")).to_be_visible()
    assert secret not in page.content()
    page.get_by_label("Client ID").fill("authgate-renamed")
    page.get_by_label("Scopes").fill("openid email")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text(f"Identity provider “{name}” saved.")).to_be_visible()
    expect(page.get_by_role("cell", name="authgate-renamed")).to_be_visible()
    shown = srv.commands.run_json("providers", "show", name)
    assert shown["client_id"] == "authgate-renamed" and shown["scopes"] == ["openid", "email"]
    assert shown["client_secret_set"] is True

    page.get_by_role("link", name=name, exact=True).click()
    page.locator("section.danger-zone").get_by_role("link", name="Disable").click()
    expect(page.get_by_text(f"Disable “{name}”?")).to_be_visible()
    page.get_by_role("button", name="Disable").click()
    expect(page.get_by_text(f"Identity provider “{name}” disabled.")).to_be_visible()
    expect(page.get_by_text("This identity provider is disabled")).to_be_visible()
    assert sign_in_buttons(chromium, srv) == []
    page.locator("section.danger-zone").get_by_role("link", name="Enable").click()
    page.get_by_role("button", name="Enable").click()
    expect(page.get_by_text(f"Identity provider “{name}” enabled.")).to_be_visible()
    assert sign_in_buttons(chromium, srv) == [f"Sign in with {name}"]

    page.locator("section.danger-zone").get_by_role("link", name="Delete").click()
    expect(page.get_by_text(f"Delete “{name}”?")).to_be_visible()
    page.get_by_role("link", name="Cancel").click()
    expect(page.get_by_role("heading", name=f"Edit “{name}”")).to_be_visible()  # Cancel deleted nothing
    page.locator("section.danger-zone").get_by_role("link", name="Delete").click()
    page.get_by_role("button", name="Delete identity provider").click()
    expect(page.get_by_text(f"Identity provider “{name}” deleted.")).to_be_visible()
    expect(page.get_by_text("No identity providers yet.")).to_be_visible()
    assert sign_in_buttons(chromium, srv) == []
