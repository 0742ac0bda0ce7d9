"""Passkeys in real headless Chromium with the DevTools virtual authenticator (a CTAP2 platform authenticator
with resident keys and user verification, ``WebAuthn.addVirtualAuthenticator``): register one from the profile
page (W3C WebAuthn Level 2 §7.1, a discoverable credential, §6.2.2), sign out, sign in with the passkey alone —
no username, no password (§7.2) — and reach the profile; an authorization code flow then gives an ID token whose
``amr`` says so (RFC 8176 §2: ``hwk mfa``); after the password the passkey is the second step (``pwd hwk mfa``); and
removing it (with the password) makes the password enough again.

The server's issuer is ``http://localhost:PORT``: browsers refuse WebAuthn on an IP address (an RP ID is a
domain, §5.1.2). With ``AUTHGATE_SCREENSHOTS=1`` the test also writes ``docs/screenshots/passkey-*.png``.
"""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from playwright.sync_api import expect

import test_ui_browser
from support import exchange_code, jwt_parts, query_params, unique
from test_ui_browser import shot, sign_in

pytestmark = test_ui_browser.pytestmark
chromium = test_ui_browser.chromium  # the fixture, shared


@pytest.fixture(scope="module")
def localhost_server(server_factory):
    return server_factory({"AUTHGATE_LIMIT_LOGIN_PER_IP": "10000/300"}, host="localhost")


@pytest.fixture
def page(chromium, localhost_server):
    context = chromium.new_context(base_url=localhost_server.base_url, viewport={"width": 1000, "height": 720})
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


def virtual_authenticator(page) -> tuple[object, str]:
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    added = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "internal", "hasResidentKey": True, "hasUserVerification": True,
        "isUserVerified": True, "automaticPresenceSimulation": True}})
    return cdp, added["authenticatorId"]


def sign_out(page) -> None:
    page.goto("/logout")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/login")


def id_token_amr(page, server, client) -> list[str]:
    """An authorization code flow in the browser (consent approved when asked), the code exchanged here."""
    params = {"response_type": "code", "client_id": client.client_id, "redirect_uri": client.redirect_uris[0],
              "scope": "openid", "state": unique("st"), "nonce": unique("n")}
    page.goto("/oauth/authorize?" + urlencode(params))
    if "/oauth/code" not in page.url:
        page.get_by_role("button", name="Authorize").click()
    page.wait_for_url("**/oauth/code?**")
    tokens = exchange_code(server, client, query_params(page.url)["code"], redirect_uri=client.redirect_uris[0])
    assert tokens.status_code == 200, tokens.text
    return jwt_parts(tokens.json()["id_token"])[1].get("amr")


NO_AUTOFILL = """if (sessionStorage.getItem("no-autofill") && window.PublicKeyCredential) {
  PublicKeyCredential.isConditionalMediationAvailable = function () { return Promise.resolve(false); };
}"""


def autofill(page, offered: bool) -> None:
    """Whether the sign-in page offers the passkey in the username's autofill (conditional mediation): the virtual
    authenticator answers such a request at once, so the steps that type a password turn it off."""
    page.evaluate("offered => offered ? sessionStorage.removeItem('no-autofill') : "
                  "sessionStorage.setItem('no-autofill', '1')", offered)


def test_register_a_passkey_sign_in_with_it_alone_use_it_after_the_password_and_remove_it_webauthn_7_1_7_2(
        page, localhost_server):
    server = localhost_server
    user = server.create_user()
    client = server.create_client(redirect_uris=[server.url("/oauth/code")], grants=["authorization_code"])
    console_errors = []
    page.on("console", lambda message: console_errors.append(message.text) if message.type == "error" else None)
    page.add_init_script(NO_AUTOFILL)
    cdp, authenticator = virtual_authenticator(page)

    sign_in(page, user)
    page.goto("/profile")
    page.get_by_label("Name of the new passkey").fill("This laptop")
    page.get_by_label("Your password, to add a passkey").fill(user.password)
    page.get_by_role("button", name="Add a passkey").click()
    expect(page.get_by_text("Passkey “This laptop” added")).to_be_visible()
    expect(page.get_by_role("cell", name="This laptop", exact=True)).to_be_visible()
    [credential] = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})["credentials"]
    assert credential["isResidentCredential"], "a discoverable credential (§6.2.2), for a sign-in without a name"
    shot(page, "passkey-enrol")

    autofill(page, offered=False)
    sign_out(page)
    page.goto("/login?next=/profile")
    passkey_button = page.get_by_role("button", name="Use a passkey")
    expect(passkey_button).to_be_visible()
    assert page.get_by_label("Username or email").get_attribute("autocomplete") == "username webauthn"
    shot(page, "passkey-sign-in")
    passkey_button.click()
    page.wait_for_url("**/profile")
    assert page.locator(".who").inner_text() == f"Signed in as {user.username}"
    assert id_token_amr(page, server, client) == ["hwk", "mfa"]
    used = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})["credentials"][0]
    assert used["signCount"] > credential["signCount"]

    sign_out(page)
    page.get_by_label("Username or email").fill(user.username)
    page.get_by_label("Password").fill(user.password)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url("**/login/second-step**")
    page.get_by_role("button", name="Use a passkey").click()
    page.wait_for_url(server.base_url + "/")
    assert id_token_amr(page, server, client) == ["pwd", "hwk", "mfa"]

    autofill(page, offered=True)
    sign_out(page)  # the sign-in page offers the passkey in the username's autofill: chosen, it signs in
    page.wait_for_url(server.base_url + "/")
    assert page.locator(".who").inner_text() == f"Signed in as {user.username}"

    autofill(page, offered=False)  # the authenticator would offer the removed passkey again
    page.goto("/profile")
    page.get_by_role("link", name="Remove This laptop").click()
    page.get_by_label("Your current password").fill(user.password)
    page.get_by_role("button", name="Remove passkey").click()
    expect(page.get_by_text("Passkey “This laptop” removed")).to_be_visible()
    sign_out(page)
    sign_in(page, user)  # the password alone again
    assert console_errors == [], "the passkey pages break no rule of their CSP"


def test_the_enrolment_page_of_a_sign_in_under_the_policy_adds_a_passkey_webauthn_7_1(page, localhost_server):
    """A user the second-factor policy covers, with no factor, is taken to ``/login/enrol`` after the password: the
    page offers a passkey next to the authenticator app; the virtual authenticator registers one (§7.1, user
    verified), the recovery codes are shown once, and Continue goes on signed in, with ``pwd hwk mfa``."""
    server = localhost_server
    client = server.create_client(redirect_uris=[server.url("/oauth/code")], grants=["authorization_code"])
    user = server.create_user()
    console_errors = []
    page.on("console", lambda message: console_errors.append(message.text) if message.type == "error" else None)
    page.add_init_script(NO_AUTOFILL)
    cdp, authenticator = virtual_authenticator(page)
    server.commands.run_json("policy", "second-factor", "--require", "everyone")
    try:
        page.goto("/login")
        autofill(page, offered=False)
        page.goto("/login?next=/profile")
        page.get_by_label("Username or email").fill(user.username)
        page.get_by_label("Password").fill(user.password)
        page.get_by_role("button", name="Sign in", exact=True).click()
        page.wait_for_url("**/login/enrol?**")
        expect(page.get_by_role("heading", name="Set up a second factor")).to_be_visible()
        expect(page.get_by_label("Code from the app")).to_be_visible()
        page.get_by_label("Name of the new passkey").fill("Work laptop")
        shot(page, "passkey-enrolment")
        page.get_by_role("button", name="Add a passkey").click()
        expect(page.get_by_role("heading", name="Two-step sign-in is on")).to_be_visible()
        expect(page.get_by_text("when your passkey is not at hand")).to_be_visible()
        assert len(page.get_by_label("Your recovery codes (each works once)").input_value().split()) == 10
        [credential] = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})["credentials"]
        assert credential["isResidentCredential"]
        page.get_by_role("link", name="Continue").click()
        page.wait_for_url("**/profile")
        expect(page.get_by_role("cell", name="Work laptop", exact=True)).to_be_visible()
        assert id_token_amr(page, server, client) == ["pwd", "hwk", "mfa"]
    finally:
        server.commands.run_json("policy", "second-factor", "--require", "off")
    assert console_errors == [], "the enrolment page breaks no rule of its CSP"
