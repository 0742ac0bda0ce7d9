"""Remembered consent (OpenID Connect Core 1.0 §3.1.2.4, RFC 6749 §4.1.1): once a user clicks
Authorize for a client and a scope set, later requests for no more than those scopes skip the page;
``prompt=consent`` shows it anyway; ``prompt=none`` succeeds when consent is remembered
(§3.1.2.6 otherwise ``consent_required``); revoking the authorized application forgets it.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from support import Api, Browser, authorization_params, exchange_code, query_params, unique


@pytest.fixture
def rp(server):
    return server.create_client(redirect_uris=[f"https://{unique('rp')}.example.org/cb"],
                                grants=["authorization_code"])


def signed_in(server, user) -> Browser:
    browser = Browser(server)
    browser.login(user)
    return browser


def approve(browser, rp, user, **params) -> str:
    consent = browser.consent_page(authorization_params(rp, **params), user)
    location = browser.decide(consent, "approve").headers["Location"]
    assert "code" in query_params(location), location
    return location


def test_second_request_skips_the_consent_page_oidc_core_3_1_2_4(server, rp, make_user):
    user = make_user()
    browser = signed_in(server, user)
    approve(browser, rp, user, scope="users:read groups:read")
    params = authorization_params(rp, scope="users:read")
    resp = browser.open_authorize(params)
    assert resp.status_code == 302, resp.text[:300]
    q = query_params(resp.headers["Location"])
    assert q["state"] == params["state"] and q["iss"] == server.issuer
    assert exchange_code(server, rp, q["code"]).status_code == 200
    # a new browser (a new sign-in) of the same user: still remembered
    assert signed_in(server, user).open_authorize(authorization_params(rp, scope="groups:read")).status_code == 302


def test_more_scopes_or_another_user_or_client_ask_again_rfc6749_4_1_1(server, rp, make_user, make_client):
    user = make_user()
    browser = signed_in(server, user)
    approve(browser, rp, user, scope="users:read")
    assert browser.open_authorize(authorization_params(rp, scope="users:read users:write")).status_code == 200
    other = make_client(redirect_uris=[rp.redirect_uri], grants=["authorization_code"])
    assert browser.open_authorize(authorization_params(other, scope="users:read")).status_code == 200
    assert signed_in(server, make_user()).open_authorize(authorization_params(rp, scope="users:read")).status_code == 200


def test_prompt_consent_shows_the_page_again_oidc_core_3_1_2_1(server, rp, make_user):
    user = make_user()
    browser = signed_in(server, user)
    approve(browser, rp, user, scope="openid")
    resp = browser.open_authorize(authorization_params(rp, scope="openid", prompt="consent"))
    assert resp.status_code == 200 and "Authorize" in resp.text
    assert browser.open_authorize(authorization_params(rp, scope="openid")).status_code == 302


def test_prompt_none_succeeds_when_consent_is_remembered_oidc_core_3_1_2_6(server, rp, make_user):
    user = make_user()
    browser = signed_in(server, user)
    none = authorization_params(rp, scope="openid", prompt="none")
    assert query_params(browser.open_authorize(none).headers["Location"])["error"] == "consent_required"
    approve(browser, rp, user, scope="openid")
    resp = browser.open_authorize(authorization_params(rp, scope="openid", prompt="none"))
    assert resp.status_code == 302 and "code" in query_params(resp.headers["Location"])
    assert query_params(Browser(server).open_authorize(none).headers["Location"])["error"] == "login_required"


def test_cancel_is_not_remembered_rfc6749_4_1_2_1(server, rp, make_user):
    user = make_user()
    browser = signed_in(server, user)
    consent = browser.consent_page(authorization_params(rp), user)
    assert query_params(browser.decide(consent, "deny").headers["Location"])["error"] == "access_denied"
    assert browser.open_authorize(authorization_params(rp)).status_code == 200


def test_revoking_the_application_forgets_the_consent(server, rp, make_user):
    user = make_user()
    browser = signed_in(server, user)
    code = query_params(approve(browser, rp, user, scope="users:read tokens:write"))["code"]
    token = exchange_code(server, rp, code).json()["access_token"]
    api = Api(server, token)
    assert api.delete(f"/users/me/authorizations/{rp.client_id}").status_code in (200, 204)
    resp = browser.open_authorize(authorization_params(rp, scope="users:read"))
    assert resp.status_code == 200 and urlsplit(resp.url).path == "/oauth/authorize"
    assert api.get("/users/me").status_code == 401
