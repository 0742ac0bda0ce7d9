"""The web UI end to end in real headless Chromium (Debian's ``chromium``, driven by Playwright):
sign in and out (the old session cookie is useless afterwards), register a client through the
form and copy its secret, the authorization code flow (RFC 6749 §4.1) clicking Authorize and
Cancel, remembered consent (OpenID Connect Core §3.1.2.4), and a personal access token made,
used on the API, revoked and refused (RFC 6750 §3.1).

With ``AUTHGATE_SCREENSHOTS=1`` the tests also write ``docs/screenshots/*.png``.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from urllib.parse import urlencode

import pytest
import requests
from playwright.sync_api import expect

from support import User, exchange_code, query_params, unique

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCREENSHOTS = Path(__file__).resolve().parents[1] / "docs" / "screenshots"
TAKE_SCREENSHOTS = os.environ.get("AUTHGATE_SCREENSHOTS") == "1"

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} is missing (apt-get install chromium)")


@pytest.fixture(scope="module")
def chromium():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium, server):
    context = chromium.new_context(base_url=server.base_url, viewport={"width": 1000, "height": 720})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.base_url)
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


def shot(page, name: str) -> None:
    if TAKE_SCREENSHOTS:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def sign_in(page, user: User, screenshot: str | None = None) -> None:
    page.goto("/login")
    page.get_by_label("Username or email").fill(user.username)
    page.get_by_label("Password").fill(user.password)
    if screenshot:
        shot(page, screenshot)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url("**/")
    assert page.locator(".who").inner_text() == f"Signed in as {user.username}"


def session_cookie(page) -> str:
    return next(c["value"] for c in page.context.cookies() if c["name"] == "authgate_session")


def admin_user(server) -> User:
    return User("admin", server.admin_password, "", 1)


def register_client(page, name: str, redirect_uri: str) -> tuple[str, str]:
    """Through + Auth Client; returns (client ID, secret) as read from the page."""
    page.goto("/admin/auth-clients")
    page.get_by_role("link", name="+ Auth Client").click()
    page.get_by_label("Name", exact=True).fill(name)
    page.locator("#redirect_uris").fill(redirect_uri)
    page.get_by_label("Authorization code", exact=True).check()
    page.get_by_label("Refresh token", exact=True).check()
    page.get_by_label("users:read", exact=False).first.check()
    page.get_by_label("Confidential").check()
    shot(page, "auth-client-form")
    page.get_by_role("button", name="Create").click()
    expect(page.get_by_text("You won't be able to see it again")).to_be_visible()
    secret = page.get_by_label("Client secret").input_value()
    page.get_by_role("button", name="Copy").click()
    page.get_by_text("Copied to the clipboard.").wait_for()
    assert page.evaluate("navigator.clipboard.readText()") == secret
    client_id = page.locator("dl.details dd").first.inner_text()
    shot(page, "auth-client-secret")
    return client_id, secret


def authorize_url(client_id: str, redirect_uri: str, **extra) -> str:
    params = {"response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri,
              "scope": "users:read", "state": unique("st"), **extra}
    return "/oauth/authorize?" + urlencode(params)


def test_sign_out_ends_the_session(page, server, make_user):
    user = make_user()
    sign_in(page, user, screenshot="sign-in")
    cookie = session_cookie(page)
    assert requests.get(server.url("/profile"), cookies={"authgate_session": cookie}, allow_redirects=False,
                        timeout=10).status_code == 200
    page.get_by_role("link", name="Sign out").click()
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/login")
    old = requests.get(server.url("/profile"), cookies={"authgate_session": cookie}, allow_redirects=False, timeout=10)
    assert old.status_code == 303 and old.headers["Location"].startswith("/login")
    page.goto("/profile")
    assert "/login" in page.url


def test_client_form_code_flow_authorize_cancel_and_remembered_consent_rfc6749_4_1(page, chromium, server, make_user):
    redirect_uri = server.url("/oauth/code")
    sign_in(page, admin_user(server))
    client_id, secret = register_client(page, unique("Report app "), redirect_uri)
    page.goto("/admin/auth-clients")
    expect(page.get_by_role("cell", name=client_id)).to_be_visible()
    shot(page, "auth-clients")

    user = make_user()
    person = chromium.new_context(base_url=server.base_url, viewport={"width": 1000, "height": 720}).new_page()
    try:
        person.goto(authorize_url(client_id, redirect_uri))
        person.get_by_label("Username or email").fill(user.username)
        person.get_by_label("Password").fill(user.password)
        person.get_by_role("button", name="Sign in", exact=True).click()
        expect(person.get_by_text("is requesting permission to access your account")).to_be_visible()
        shot(person, "consent")
        person.get_by_role("button", name="Cancel").click()
        person.wait_for_url("**/oauth/code?**")
        assert query_params(person.url)["error"] == "access_denied"

        person.goto(authorize_url(client_id, redirect_uri))
        person.get_by_role("button", name="Authorize").click()
        person.wait_for_url("**/oauth/code?**")
        code = query_params(person.url)["code"]
        tokens = exchange_code(server, type("C", (), {"client_id": client_id, "client_secret": secret,
                                                      "basic": (client_id, secret), "redirect_uri": redirect_uri}),
                               code, redirect_uri=redirect_uri)
        assert tokens.status_code == 200, tokens.text
        me = requests.get(server.url("/api/1.0/users/me"), timeout=10,
                          headers={"Authorization": "Bearer " + tokens.json()["access_token"]})
        assert me.status_code == 200 and me.json()["username"] == user.username

        # remembered: no consent page this time, straight back with a code
        person.goto(authorize_url(client_id, redirect_uri))
        person.wait_for_url("**/oauth/code?**")
        assert "code" in query_params(person.url)

        # the profile lists the application; revoking it asks again next time
        person.goto("/profile")
        row = person.get_by_role("row").filter(has_text="Report app")
        shot(person, "profile")
        row.get_by_role("link", name="Revoke").click()
        person.get_by_role("button", name="Revoke access").click()
        expect(person.get_by_text("Access revoked.")).to_be_visible()
        person.goto(authorize_url(client_id, redirect_uri))
        expect(person.get_by_role("button", name="Authorize")).to_be_visible()
    finally:
        person.context.close()


def test_personal_access_token_made_used_revoked_refused_rfc6750(page, server, make_user):
    user = make_user()
    sign_in(page, user)
    page.get_by_role("link", name="Profile", exact=True).click()
    page.locator("summary", has_text="+ Token").click()
    name = unique("nightly script ")
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("users:read", exact=False).first.check()
    page.get_by_label("Expires in").select_option("90")
    page.get_by_role("button", name="Create token").click()
    expect(page.get_by_text("You won't be able to see it again")).to_be_visible()
    token = page.get_by_label("Your new token").input_value()
    assert token.startswith("agp_")
    shot(page, "token-created")
    assert page.url == server.url("/shown-once") and token not in page.url

    def me():
        return requests.get(server.url("/api/1.0/users/me"), headers={"Authorization": f"Bearer {token}"}, timeout=10)

    assert me().status_code == 200
    page.reload()  # repeats the GET, never the POST: no second token, and this one is not shown again
    expect(page.get_by_role("heading", name="This secret was already shown")).to_be_visible()
    assert token not in page.content()
    page.get_by_role("link", name="your profile").click()
    assert page.get_by_role("row").filter(has_text=name).count() == 1
    row = page.get_by_role("row").filter(has_text=name)

    def last_used_shown() -> bool:  # written off the request path, within about half a second
        return "never" not in row.inner_text().split("users:read")[1][:40]

    deadline = time.monotonic() + 5
    while not last_used_shown() and time.monotonic() < deadline:
        time.sleep(0.3)
        page.reload()
    assert "users:read" in row.inner_text() and last_used_shown()
    row.get_by_role("link", name="Revoke").click()
    page.get_by_role("button", name="Revoke token").click()
    expect(page.get_by_text(f"Token “{name}” revoked.")).to_be_visible()
    assert me().status_code == 401
    page.reload()
    expect(page.get_by_text(f"Token “{name}” revoked.")).not_to_be_visible()  # a flash is shown once


def test_administrator_creates_a_user_and_grants_a_permission_on_the_users_page(page, server):
    sign_in(page, admin_user(server))
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Users").click()
    page.get_by_role("link", name="+ User").click()
    username, password = unique("newhire"), "browser-made " + unique("pw")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Email").fill(f"{username}@example.org")
    page.get_by_label("First name").fill("Katherine")
    page.get_by_label("Last name").fill("Johnson")
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Create").click()
    expect(page.get_by_text(f"User “{username}” created.")).to_be_visible()
    page.get_by_label("view-users", exact=False).check()
    page.get_by_role("button", name="Save permissions").click()
    expect(page.get_by_text("Permissions saved.")).to_be_visible()
    assert page.get_by_label("view-users", exact=False).is_checked()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Users").click()
    page.get_by_label("Search by username, email or name").fill("Johnson")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("link", name=username)).to_be_visible()
    shot(page, "admin-users")
    person = page.context.browser.new_context(base_url=server.base_url).new_page()
    sign_in(person, User(username, password, "", 0))
    expect(person.get_by_role("navigation", name="Main").get_by_role("link", name="Users")).to_be_visible()
    person.context.close()


def test_api_documentation_signs_in_with_pkce_without_internet_rfc7636(chromium, server, admin, make_user):
    """Issue 12, item 12: on a machine with no internet (every request elsewhere is cut off), the
    docs page renders Swagger UI from authgate itself, breaks no rule of its CSP, and its Authorize
    dialog runs the code flow with PKCE through the popup and ``/api/oauth2-callback`` to a token."""
    redirect_uri = server.url("/api/oauth2-callback")
    client = admin.ok("POST", "/oauth/clients", 201, json={"name": unique("docs"), "public": True,
                                                           "redirect_uris": [redirect_uri],
                                                           "types": ["authorization_code_grant"]})
    context = chromium.new_context(base_url=server.base_url)
    context.set_default_timeout(15_000)
    elsewhere, console_errors = [], []

    def only_authgate(route):
        if route.request.url.startswith(server.base_url + "/"):
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    context.route("**/*", only_authgate)
    context.on("console", lambda message: console_errors.append(message.text) if message.type == "error" else None)
    try:
        page = context.new_page()
        sign_in(page, make_user())
        page.goto("/api/documentation")
        page.get_by_role("button", name="Authorize").first.click()
        dialog = page.locator(".auth-container").filter(has_text="authorizationCode with PKCE")
        dialog.get_by_label("client_id").fill(client["client_id"])
        with page.expect_popup() as popup:
            dialog.get_by_role("button", name="Apply given OAuth2 credentials").click()
        consent = popup.value
        consent.wait_for_load_state()
        assert consent.url.startswith(server.url("/oauth/authorize?")) and "code_challenge_method=S256" in consent.url
        with page.expect_response("**/oauth/token") as token_response:
            consent.get_by_role("button", name="Authorize").click()
        assert token_response.value.status == 200
        dialog.get_by_role("button", name="Remove authorization").wait_for()
        shot(page, "api-documentation")
    finally:
        context.close()
    assert elsewhere == []
    assert console_errors == []
