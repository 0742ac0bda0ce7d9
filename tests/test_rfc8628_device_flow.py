"""OAuth 2.0 Device Authorization Grant (RFC 8628): §3.1-3.2 the device
authorization request and response, §3.3 the user's page (sign-in, code
entry, CSRF-protected approval), §3.4-3.5 polling the token endpoint
(authorization_pending, slow_down, access_denied, expired_token, success
once), §4 metadata, §6.1 user codes of unambiguous characters.
"""

from __future__ import annotations

import re
import time
from urllib.parse import urlsplit

import pytest
import requests

from support import (
    Browser, assert_no_store, assert_token_error, authorization_params, from_address, query_params, token_request,
    unique, users_me,
)

GRANT = "urn:ietf:params:oauth:grant-type:device_code"
USER_CODE = re.compile(r"^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$")


@pytest.fixture(scope="module")
def user(server):
    return server.create_user()


@pytest.fixture(scope="module")
def tv(server):
    """A confidential device client."""
    return server.create_client(grants=["device_code"], scopes=["users:read", "profile"])


def start(server, client, scope="users:read") -> dict:
    data = {"scope": scope} if scope else {}
    resp = requests.post(server.url("/oauth/device"), data=data, auth=client.basic, timeout=10)
    assert resp.status_code == 200, resp.text
    assert_no_store(resp)
    return resp.json()


def poll(server, client, device_code):
    return token_request(server, {"grant_type": GRANT, "device_code": device_code}, auth=client.basic)


def decide(server, user, user_code: str, decision="approve") -> requests.Response:
    browser = Browser(server)
    page = browser.get("/device?user_code=" + user_code)
    if page.status_code == 303:
        assert urlsplit(page.headers["Location"]).path == "/login"
        login = browser.get(page.headers["Location"])
        resp = browser.submit_login(login, browser.single_form(login), user.username, user.password)
        page = browser.get(resp.headers["Location"])
    assert page.status_code == 200, page.text[:500]
    form = browser.single_form(page)
    return browser.post("/device", data={**form.fields(), "decision": decision})


def test_device_authorization_response_rfc8628_3_2(server, tv):
    body = start(server, tv)
    assert set(body) == {"device_code", "user_code", "verification_uri", "verification_uri_complete",
                         "expires_in", "interval"}
    assert len(body["device_code"]) >= 32
    assert USER_CODE.match(body["user_code"]), body["user_code"]  # §6.1
    assert body["verification_uri"] == server.url("/device")
    assert body["verification_uri_complete"] == server.url("/device?user_code=" + body["user_code"])
    assert body["expires_in"] == 600 and body["interval"] == 5


def test_full_flow_rfc8628_3_4_3_5(server, tv, user):
    body = start(server, tv, scope="users:read")
    assert_token_error(poll(server, tv, body["device_code"]), "authorization_pending")
    done = decide(server, user, body["user_code"])
    assert done.status_code == 200 and "Device connected" in done.text
    resp = poll(server, tv, body["device_code"])
    assert resp.status_code == 200, resp.text
    assert_no_store(resp)
    t = resp.json()
    assert t["token_type"] == "Bearer" and t["scope"] == "users:read" and t["refresh_token"]
    me = users_me(server, t["access_token"])
    assert me.status_code == 200 and me.json()["username"] == user.username
    assert_token_error(poll(server, tv, body["device_code"]), "invalid_grant")  # exchanged once only


def test_polling_too_fast_is_slow_down_rfc8628_3_5(server, tv):
    body = start(server, tv)
    assert_token_error(poll(server, tv, body["device_code"]), "authorization_pending")
    assert_token_error(poll(server, tv, body["device_code"]), "slow_down")
    assert_token_error(poll(server, tv, body["device_code"]), "slow_down")  # the interval grew by 5 s


def test_denied_is_access_denied_rfc8628_3_5(server, tv, user):
    body = start(server, tv)
    done = decide(server, user, body["user_code"], decision="deny")
    assert done.status_code == 200 and "cancelled" in done.text
    assert_token_error(poll(server, tv, body["device_code"]), "access_denied")


def test_expired_is_expired_token_rfc8628_3_5(server_factory):
    srv = server_factory({"AUTHGATE_DEVICE_CODE_TTL": "1"})
    client = srv.create_client(grants=["device_code"])
    body = start(srv, client)
    assert body["expires_in"] == 1
    time.sleep(1.5)
    assert_token_error(poll(srv, client, body["device_code"]), "expired_token")
    user = srv.create_user()
    browser = Browser(srv)
    browser.login(user)
    page = browser.get("/device?user_code=" + body["user_code"])
    assert page.status_code == 400 and "not valid" in page.text


def test_unknown_or_foreign_device_code_is_invalid_grant_rfc8628_3_4(server, tv):
    other = server.create_client(grants=["device_code"])
    body = start(server, tv)
    assert_token_error(poll(server, other, body["device_code"]), "invalid_grant")
    assert_token_error(poll(server, tv, "no-such-code"), "invalid_grant")
    assert_token_error(token_request(server, {"grant_type": GRANT}, auth=tv.basic), "invalid_request")


def test_public_device_client_rfc8628_3_1(server, user):
    public = server.create_client(grants=["device_code"], public=True)
    resp = requests.post(server.url("/oauth/device"), data={"client_id": public.client_id}, timeout=10)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    decide(server, user, body["user_code"])
    t = token_request(server, {"grant_type": GRANT, "device_code": body["device_code"], "client_id": public.client_id})
    assert t.status_code == 200, t.text


def test_device_authorization_errors_rfc8628_3_1(server, tv):
    url = server.url("/oauth/device")
    assert_token_error(requests.post(url, data={}, timeout=10), "invalid_client", 401)
    web_only = server.create_client(grants=["password"])
    assert_token_error(requests.post(url, data={}, auth=web_only.basic, timeout=10), "unauthorized_client")
    assert_token_error(requests.post(url, data={"scope": "users:write"}, auth=tv.basic, timeout=10), "invalid_scope")
    assert_token_error(requests.post(url, data={"scope": "bogus"}, auth=tv.basic, timeout=10), "invalid_scope")
    assert_token_error(requests.get(url, timeout=10), "invalid_request", 405)


def test_device_page_needs_sign_in_and_accepts_sloppy_typing_rfc8628_3_3(server, tv, user):
    body = start(server, tv)
    anonymous = Browser(server).get("/device")
    assert anonymous.status_code == 303 and urlsplit(anonymous.headers["Location"]).path == "/login"
    browser = Browser(server)
    browser.login(user)
    entry = browser.get("/device")
    assert entry.status_code == 200 and browser.single_form(entry, "get").input("user_code") is not None
    typed = body["user_code"].replace("-", " ").lower()
    page = browser.get("/device", params={"user_code": typed})
    assert page.status_code == 200 and tv.name in page.text and body["user_code"] in page.text
    wrong = browser.get("/device", params={"user_code": "BCDF-BCDF"})
    assert wrong.status_code == 400 and "not valid" in wrong.text


def test_approval_is_csrf_protected_rfc8628_3_3(server, tv, user):
    body = start(server, tv)
    browser = Browser(server)
    browser.login(user)
    forged = browser.post("/device", data={"user_code": body["user_code"], "decision": "approve"})
    assert "Expired form" in forged.text
    assert_token_error(poll(server, tv, body["device_code"]), "authorization_pending")


def test_remembered_consent_never_skips_the_device_page_rfc8628_5_4(server, make_user):
    """Remote phishing (§5.4): the person compares the code every time, so consent remembered on the
    authorization endpoint shows the device page all the same, and a device approval remembers nothing."""
    both = server.create_client(redirect_uris=[f"https://{unique('tv')}.example.org/cb"],
                                grants=["authorization_code", "device_code"], scopes=["users:read"])
    user = make_user()
    browser = Browser(server)
    browser.login(user)
    consent = browser.consent_page(authorization_params(both), user)
    assert "code" in query_params(browser.decide(consent, "approve").headers["Location"])
    assert browser.open_authorize(authorization_params(both)).status_code == 302
    body = start(server, both)
    page = browser.get("/device", params={"user_code": body["user_code"]})
    assert page.status_code == 200 and both.name in page.text
    assert "Only continue if you started this on your own device" in page.text
    assert decide(server, user, body["user_code"]).status_code == 200
    assert poll(server, both, body["device_code"]).status_code == 200

    other = server.create_client(redirect_uris=[f"https://{unique('tv')}.example.org/cb"],
                                 grants=["authorization_code", "device_code"], scopes=["users:read"])
    body = start(server, other)
    assert decide(server, user, body["user_code"]).status_code == 200
    assert browser.open_authorize(authorization_params(other)).status_code == 200


def test_metadata_advertises_the_device_flow_rfc8628_4(server):
    meta = requests.get(server.url("/.well-known/oauth-authorization-server"), timeout=10).json()
    assert meta["device_authorization_endpoint"] == server.url("/oauth/device")
    assert GRANT in meta["grant_types_supported"]


def test_wrong_user_codes_are_limited_per_address_rfc8628_5_1(server_factory):
    """§5.1: user codes are short, so guessing them must be rate limited."""
    srv = server_factory({"AUTHGATE_LIMIT_DEVICE_PER_IP": "3/60"})
    browser = Browser(srv)
    browser.login(srv.create_user())
    for _ in range(3):
        assert browser.get("/device?user_code=BCDF-GHJK").status_code == 400
    refused = browser.get("/device?user_code=BCDF-GHJK")
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0


def _device_request(srv, client, address="127.0.0.1", auth=None) -> requests.Response:
    return from_address(address).post(srv.url("/oauth/device"), data={"scope": "users:read"},
                                      auth=auth or client.basic, timeout=10)


def test_device_authorization_is_limited_per_address_and_per_client_rfc8628_3_1(server_factory):
    """Every device authorization request stores a row: they are limited per address and, once the
    client authenticated, per client; refusals are 429 with Retry-After in the error format of RFC 6749 §5.2."""
    srv = server_factory({"AUTHGATE_LIMIT_DEVICE_CODES_PER_IP": "3/60", "AUTHGATE_LIMIT_DEVICE_CODES_PER_CLIENT": "5/60",
                          "AUTHGATE_LIMIT_CLIENT_AUTH_FAILURES_PER_IP": "2/60"})
    tv, other = srv.create_client(grants=["device_code"]), srv.create_client(grants=["device_code"])
    assert [_device_request(srv, c).status_code for c in (tv, tv, other)] == [200] * 3
    refused = _device_request(srv, other)
    body = assert_token_error(refused, "too_many_requests", 429)
    assert body["error_description"]
    assert int(refused.headers["Retry-After"]) > 0
    assert_no_store(refused)

    assert [_device_request(srv, tv, "127.0.0.2").status_code for _ in range(3)] == [200] * 3
    assert_token_error(_device_request(srv, tv, "127.0.0.3"), "too_many_requests", 429)
    assert _device_request(srv, other, "127.0.0.3").status_code == 200, "one client's count is not another's"

    wrong = [_device_request(srv, other, "127.0.0.4", auth=(other.client_id, "wrong")).status_code for _ in range(3)]
    assert wrong == [401, 401, 429], "failed client authentications are limited per client and address"
    assert _device_request(srv, other, "127.0.0.5").status_code == 200, \
        "a stranger's failures never count against the client"
