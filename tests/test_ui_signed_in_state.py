"""Every page shows who is signed in, error pages included, and none offers "Sign in" to someone who is; the
consent page says who registered the client and where it sends the user, and warns when it asks for ``*``;
the errors a person sees are sentences, the OAuth error code kept small for the developer (RFC 6749
§4.1.2.1: no redirect when the client or its redirect URI is unknown). Over HTTP, as a browser without
JavaScript sees the pages.
"""

from __future__ import annotations

import re
from urllib.parse import urlencode

import pytest
import requests

from support import Browser, authorization_params, parse_page, unique

SIGN_IN = re.compile(r"\bSign in\b")


def signed_in(server, user) -> Browser:
    browser = Browser(server)
    browser.login(user)
    return browser


def assert_shows_signed_in(page: requests.Response, username: str) -> None:
    text = parse_page(page.text).text
    assert f"Signed in as {username}" in text, (page.status_code, text[:600])
    assert not SIGN_IN.search(text), text[:600]
    assert 'href="/login"' not in page.text


@pytest.mark.parametrize("url, status", [
    ("/", 200), ("/profile", 200), ("/login", 200), ("/logout", 200), ("/device", 200), ("/shown-once", 410),
    ("/no-such-page", 404), ("/admin/users", 403), ("/admin/auth-clients/new", 403), ("/profile/tokens/999999/revoke", 404),
    ("/oauth/code?code=abc&state=xyz", 200), ("/oauth/code?error=access_denied", 200), ("/oauth/code", 200),
    ("/oauth/authorize?response_type=code&client_id=no-such-client", 400),
])
def test_every_page_shows_the_signed_in_user(server, make_user, url, status):
    user = make_user()
    page = signed_in(server, user).get(url)
    assert page.status_code == status, (url, page.status_code, page.text[:300])
    assert_shows_signed_in(page, user.username)


def test_a_refused_form_shows_the_signed_in_user(server, make_user):
    user = make_user()
    browser = signed_in(server, user)
    refused = browser.post("/profile/tokens", data={"name": "no csrf"})
    assert refused.status_code == 400 and "Expired form" in refused.text
    assert_shows_signed_in(refused, user.username)


def test_a_visitor_who_is_not_signed_in_is_offered_sign_in(server):
    page = requests.get(server.url("/no-such-page"), timeout=10)
    assert page.status_code == 404 and 'href="/login"' in page.text and "Signed in as" not in page.text


def test_consent_names_who_registered_the_client_and_where_it_sends_you_back(server, admin, make_user):
    made = admin.ok("POST", "/oauth/clients", 201, json={
        "name": unique("Everything app "), "redirect_uris": [f"https://{unique('rp')}.example.org/cb"],
        "types": ["authorization_code_grant"]})
    user = make_user()
    browser = signed_in(server, user)
    params = {"response_type": "code", "client_id": made["id"], "redirect_uri": made["redirect_uris"][0],
              "scope": "*", "state": "s"}
    consent = browser.get("/oauth/authorize?" + urlencode(params))
    assert consent.status_code == 200
    text = parse_page(consent.text).text
    host = made["redirect_uris"][0].split("/")[2]
    assert "Registered by admin" in text and f"Sends you back to {host}" in text
    assert "This application asks for everything." in text
    assert_shows_signed_in(consent, user.username)

    params["scope"] = "users:read"
    narrower = parse_page(browser.get("/oauth/authorize?" + urlencode(params)).text).text
    assert "asks for everything" not in narrower


def test_a_client_from_the_command_line_is_registered_by_the_operator(server, make_client, make_user):
    rp = make_client(redirect_uris=[f"https://{unique('cli')}.example.org/cb"], grants=["authorization_code"])
    consent = signed_in(server, make_user()).get("/oauth/authorize?" + urlencode(authorization_params(rp)))
    assert "Registered by the operator of this server" in parse_page(consent.text).text


def test_end_user_errors_are_sentences_not_raw_codes_rfc6749_4_1_2_1(server, make_user):
    browser = signed_in(server, make_user())
    unknown = browser.get("/oauth/authorize?" + urlencode({"response_type": "code", "client_id": "nope"}))
    assert unknown.status_code == 400 and "Location" not in unknown.headers
    text = parse_page(unknown.text).text
    assert "invalid_client:" not in text and "authgate does not know this application" in text
    assert "For the developer: invalid_client" in text

    cancelled = parse_page(browser.get("/oauth/code?error=access_denied").text).text
    assert "You cancelled, so the application was not given access" in cancelled
    assert "access_denied:" not in cancelled


def test_a_favicon(server):
    page = requests.get(server.url("/login"), timeout=10).text
    assert '<link rel="icon" href="/static/favicon.svg"' in page
    icon = requests.get(server.url("/static/favicon.svg"), timeout=10)
    assert icon.status_code == 200 and icon.headers["Content-Type"].startswith("image/svg+xml")
    legacy = requests.get(server.url("/favicon.ico"), allow_redirects=False, timeout=10)
    assert legacy.status_code == 301 and legacy.headers["Location"] == "/static/favicon.svg"
