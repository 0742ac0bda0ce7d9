"""Authorization server issuer identification (RFC 9207): §2 every
authorization response — success and error redirects alike — carries `iss`,
the issuer identifier of the metadata (§2.4); error pages that do not
redirect carry nothing.
"""

from __future__ import annotations

import pytest
import requests

from support import Browser, authorization_params, query_params, unique, user_via_api


@pytest.fixture(scope="module")
def user(server):
    return server.create_user()


@pytest.fixture(scope="module")
def app(server):
    return server.create_client(redirect_uris=[f"https://{unique('iss')}.example.org/cb"])


def issuer(server) -> str:
    return requests.get(server.url("/.well-known/oauth-authorization-server"), timeout=10).json()["issuer"]


def test_success_response_has_iss_rfc9207_2(server, app, user):
    location = Browser(server).authorize(authorization_params(app), user)
    q = query_params(location)
    assert q["code"] and q["iss"] == issuer(server) == server.issuer


def test_access_denied_response_has_iss_rfc9207_2(server, app, admin):
    """A user who has not approved this client yet (consent is remembered once given)."""
    location = Browser(server).authorize(authorization_params(app), user_via_api(admin), decision="deny")
    q = query_params(location)
    assert q["error"] == "access_denied" and q["iss"] == server.issuer


def test_error_found_before_consent_has_iss_rfc9207_2(server, app, user):
    browser = Browser(server)
    browser.login(user)
    resp = browser.open_authorize(authorization_params(app, scope="no-such-scope"))
    assert resp.status_code == 302
    q = query_params(resp.headers["Location"])
    assert q["error"] == "invalid_scope" and q["iss"] == server.issuer


def test_no_redirect_no_iss_rfc9207_2(server, app, user):
    resp = Browser(server).open_authorize(authorization_params(app, redirect_uri="https://evil.example.org/cb"))
    assert resp.status_code == 400 and "Location" not in resp.headers
