"""Linked sign-ins on the account page in real headless Chromium (issue 18, item 3): a person signed in with a
password presses **Link NAME**, goes through the upstream (the loopback OpenID Provider of
``support/oidc_stub.py``, which answers at once) and comes back to ``/profile`` with the identity listed; **Unlink**
asks first, and the row is gone."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

import test_ui_browser
from support import unique

pytestmark = test_ui_browser.pytestmark
chromium = test_ui_browser.chromium  # the fixture, shared


def sign_in(page, user) -> None:
    """With a password, on a sign-in page that has provider buttons too."""
    page.goto("/login")
    page.get_by_label("Username or email").fill(user.username)
    page.get_by_label("Password").fill(user.password)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url("**/")
    expect(page.locator(".who")).to_have_text(f"Signed in as {user.username}")


@pytest.fixture(scope="module")
def srv(server_factory):
    return server_factory()


@pytest.fixture
def page(chromium, srv):
    context = chromium.new_context(base_url=srv.base_url, viewport={"width": 1000, "height": 720})
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


def test_a_person_links_an_upstream_identity_then_unlinks_it(page, srv, stub):
    name = unique("Corp")
    srv.commands.run_json("providers", "add", "--kind", "oidc", "--name", name, "--issuer", stub.issuer,
                          "--client-id", "downstream-at-stub", "--client-secret-stdin", "--allow-private-network",
                          input="stub-secret\n")
    email = unique("ann") + "@corp.example"
    stub.claims = {"sub": unique("sub"), "email": email, "email_verified": True}
    try:
        sign_in(page, srv.create_user())
        page.goto("/profile")
        section = page.locator("#linked-identities")
        expect(section.get_by_text("No account elsewhere is linked to yours.")).to_be_visible()
        section.get_by_role("button", name=f"Link {name}").click()
        page.wait_for_url("**/profile")
        expect(page.locator(".flash")).to_have_text(f"Your {name} account is linked: sign in with it from now on.")
        row = section.get_by_role("row").filter(has_text=email)
        expect(row.get_by_role("cell", name=name, exact=True)).to_be_visible()
        expect(section.get_by_role("button", name=f"Link {name}")).to_have_count(0)

        row.get_by_role("link", name=f"Unlink {name}").click()
        expect(page.get_by_role("heading", name="Unlink sign-in")).to_be_visible()
        expect(page.get_by_text(f"Unlink your {name} account? It will no longer sign you in here.")).to_be_visible()
        page.get_by_role("button", name="Unlink").click()
        page.wait_for_url("**/profile")
        expect(page.locator(".flash")).to_have_text(f"Your {name} account is unlinked: it no longer signs you in here.")
        expect(section.get_by_text(email)).to_have_count(0)
        expect(section.get_by_role("button", name=f"Link {name}")).to_be_visible()
    finally:
        stub.claims = {}
