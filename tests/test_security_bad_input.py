"""Bad input is the endpoint's own 4xx, never a 500 (issue 12, item 6), on SQLite and PostgreSQL.

Each class is fixed where the input is read, and each case below was a 500 before:
- **Basic credentials that do not decode** (RFC 6749 §2.3.1: base64 of the form-encoded
  ``client_id:client_secret``): bytes that are not UTF-8, or a NUL (raw or ``%00``) in either half,
  are a failed client authentication on every endpoint that authenticates clients: 401
  ``invalid_client`` with ``WWW-Authenticate: Basic`` (§5.2).
- **U+0000 anywhere in a request** (PostgreSQL text cannot hold it): refused before routing, as
  the page's 400 error page, the OAuth endpoint's ``invalid_request`` or the API's 422.
- **Times that leave the calendar once moved to UTC** (``9999-12-31T23:59:59-23:59``): the API's 422.
- **Record ids beyond the database's integers**, or not numbers, in a page's path or form: the 404
  page (path) or the form's error page (field).
- **A JSON body that is not UTF-8**: the API's 422, like any other body that is not JSON.
- **A wrong method or a path nothing answers**: in the error format of the endpoint's router (issue 13
  item 9), not by a list of path prefixes; a path no route matches answers as its namespace: JSON under
  ``/api/`` and ``/.well-known/``, the page elsewhere.
"""

from __future__ import annotations

import base64
import re
from datetime import datetime, timedelta, timezone
from urllib.parse import urlencode

import pytest
import requests

from support import HTTP_TIMEOUT, Browser, User, assert_invalid, assert_token_error, parse_page, unique, user_via_api

OAUTH_CLIENT_ENDPOINTS = {
    "/oauth/token": {"grant_type": "client_credentials"},
    "/oauth/revoke": {"token": "agr_x"},
    "/oauth/introspect": {"token": "agr_x"},
    "/oauth/device": {"scope": "users:read"},
}
UNREADABLE_BASIC = {
    "not-utf-8": base64.b64encode(b"\xff\xfe:\xff\xfe").decode(),
    "nul-byte": base64.b64encode(b"app\x00:secret").decode(),
    "percent-encoded-nul": base64.b64encode(b"%00:%00").decode(),
    "not-base64": "not*base64!",
}


@pytest.fixture(scope="module")
def admin_browser(server) -> Browser:
    browser = Browser(server)
    browser.login(User("admin", server.admin_password, "", 1))
    return browser


def assert_error_page(r: requests.Response, status: int, title: str) -> None:
    """The HTML error page with the page headers (CSP, no framing), naming what went wrong."""
    assert r.status_code == status, f"expected {status}, got {r.status_code}: {r.text[:300]}"
    assert r.headers["Content-Type"].startswith("text/html"), r.headers
    assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]
    page_title = re.search(r"<title>(.*?)</title>", r.text, re.S).group(1)
    assert title in page_title, page_title


@pytest.mark.parametrize("path", OAUTH_CLIENT_ENDPOINTS)
@pytest.mark.parametrize("credentials", UNREADABLE_BASIC.values(), ids=UNREADABLE_BASIC)
def test_basic_credentials_that_do_not_decode_are_invalid_client_rfc6749_2_3_1(server, path, credentials):
    r = requests.post(server.url(path), data=OAUTH_CLIENT_ENDPOINTS[path],
                      headers={"Authorization": "Basic " + credentials}, timeout=HTTP_TIMEOUT)
    assert_token_error(r, "invalid_client", 401)
    assert r.headers["WWW-Authenticate"].startswith("Basic"), r.headers
    assert r.headers["Cache-Control"] == "no-store"


NUL_IN_OAUTH_BODIES = [
    ("/oauth/token", "grant_type=password&username=%00&password=x&client_id=%00"),
    ("/oauth/token", "grant_type=client_credentials&client_id=app%00&client_secret=x"),
    ("/oauth/revoke", "token=x&client_id=%00"),
    ("/oauth/introspect", "token=%00&client_id=%00"),
    ("/oauth/device", "client_id=%00"),
]


@pytest.mark.parametrize("path,body", NUL_IN_OAUTH_BODIES)
def test_nul_in_an_oauth_request_is_invalid_request_rfc6749_5_2(server, path, body):
    r = requests.post(server.url(path), data=body, headers={"Content-Type": "application/x-www-form-urlencoded"},
                      timeout=HTTP_TIMEOUT)
    body = assert_token_error(r, "invalid_request", 400)
    assert "NUL" in body["error_description"]
    assert r.headers["Cache-Control"] == "no-store"


NUL_ON_PAGES = [
    ("GET", "/oauth/authorize?response_type=%00&client_id=%00&redirect_uri=%00", None),
    ("GET", "/oauth/authorize?response_type=code&client_id=%00", None),
    ("GET", "/oauth/authorize?response_type=code&client_id=x&login_hint=%00", None),
    ("GET", "/login?next=%00", None),
    ("POST", "/login", "username=%00&password=x&csrf_token=x"),
    ("GET", "/device?user_code=%00", None),
    ("GET", "/profile/apps/%00/revoke", None),
    ("POST", "/profile/apps/%00/revoke", "csrf_token=x"),
    ("GET", "/admin/users?q=%00", None),
    ("GET", "/admin/auth-clients/%00", None),
]


@pytest.mark.parametrize("method,path,body", NUL_ON_PAGES)
def test_nul_on_a_page_is_the_400_error_page(admin_browser, method, path, body):
    """Signed in, so that the request reaches what would otherwise look the value up."""
    headers = {"Content-Type": "application/x-www-form-urlencoded"} if body else {}
    r = admin_browser.session.request(method, admin_browser.server.url(path), data=body, headers=headers,
                                      allow_redirects=False, timeout=HTTP_TIMEOUT)
    assert_error_page(r, 400, "Invalid request")
    assert "NUL" in parse_page(r.text).text


NUL_IN_THE_API = [
    ("GET", "/users?filter=a%00b", None, "filter"),
    ("GET", "/oauth/clients/ab%00cd", None, "path"),
    ("POST", "/groups", b'{"name": "nul\\u0000name"}', "body"),
    ("PUT", "/users/1", b'{"firstname": "a\\u0000"}', "body"),
]


@pytest.mark.parametrize("method,path,body,field", NUL_IN_THE_API)
def test_nul_in_the_api_is_422(admin, method, path, body, field):
    r = admin.request(method, path, data=body, headers={"Content-Type": "application/json"})
    assert "NUL" in assert_invalid(r, field)["errors"][field][0]


@pytest.mark.parametrize("expires_at", ["9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+23:59"])
def test_a_time_out_of_range_in_utc_is_422(admin, expires_at):
    user = user_via_api(admin)
    r = admin.post(f"/users/{user.id}/tokens", json={"name": "far", "expires_at": expires_at})
    assert_invalid(r, "expires_at")
    # within the lifetime of the administrator's own token, which no token it makes may outlive
    day = (datetime.now(timezone.utc) + timedelta(days=30)).date().isoformat()
    kept = admin.ok("POST", f"/users/{user.id}/tokens", 201, json={"name": "ok", "expires_at": f"{day}T00:00:00-23:59"})
    assert kept["token"]["expires_at"].startswith(f"{day}T23:59:00+00:00"), kept["token"]


def test_a_json_body_that_is_not_utf8_is_422(admin):
    r = admin.request("POST", "/groups", data=b'{"name": "caf\xe9"}', headers={"Content-Type": "application/json"})
    assert_invalid(r, "body")


@pytest.mark.parametrize("method,path", [
    ("GET", "/profile/tokens/99999999999999999999/revoke"),
    ("POST", "/profile/tokens/99999999999999999999/revoke"),
    ("GET", "/profile/tokens/abc/revoke"),
    ("GET", "/profile/tokens/2147483648/revoke"),
    ("GET", "/admin/users/99999999999999999999"),
    ("GET", "/admin/groups/99999999999999999999/delete"),
    ("GET", "/admin/users/1/tokens/99999999999999999999/revoke"),
])
def test_a_record_id_out_of_range_in_a_page_url_is_404(admin_browser, method, path):
    r = admin_browser.session.request(method, admin_browser.server.url(path), data={"csrf_token": "x"},
                                      allow_redirects=False, timeout=HTTP_TIMEOUT)
    assert_error_page(r, 404, "Not Found")


@pytest.mark.parametrize("group_id", ["99999999999999999999", "2147483648", "-1", "one"])
def test_a_record_id_out_of_range_in_a_page_form_is_the_forms_error(admin_browser, admin, group_id):
    user = user_via_api(admin)
    admin.ok("POST", "/groups", 201, json={"name": unique("group")})
    page = admin_browser.get(f"/admin/users/{user.id}")
    action = f"/admin/users/{user.id}/groups"
    form = next(f for f in parse_page(page.text).forms if f.action == action)
    r = admin_browser.post(action, data=urlencode({"csrf_token": form.input("csrf_token")["value"],
                                                   "group_id": group_id}),
                           headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert_error_page(r, 422, "Cannot do that")
    assert "Choose a group" in parse_page(r.text).text


WRONG_METHOD = [
    ("GET", "/oauth/token", "oauth"),
    ("GET", "/oauth/revoke", "oauth"),
    ("GET", "/oauth/introspect", "oauth"),
    ("GET", "/oauth/device", "oauth"),
    ("POST", "/oauth/jwks", "json"),
    ("POST", "/.well-known/openid-configuration", "json"),
    ("PUT", "/oauth/userinfo", "json"),
    ("POST", "/healthz", "json"),
    ("POST", "/readyz", "json"),
    ("PATCH", "/api/1.0/users", "api"),
    ("POST", "/api/documentation", "api"),
    ("POST", "/metrics", "page"),
    ("PUT", "/oauth/authorize", "page"),
    ("POST", "/oauth/code", "page"),
    ("PUT", "/login", "page"),
    ("POST", "/profile", "page"),
    ("PUT", "/admin/users", "page"),
    ("PUT", "/device", "page"),
]


@pytest.mark.parametrize("method,path,kind", WRONG_METHOD)
def test_a_wrong_method_is_405_in_the_format_of_the_endpoint_rfc6749_5_2(server, method, path, kind):
    """The client-authenticated POST endpoints answer RFC 6749 §5.2's ``invalid_request``; the other
    machine endpoints plain JSON; the API its envelope; the pages the 405 error page."""
    r = requests.request(method, server.url(path), timeout=HTTP_TIMEOUT)
    if kind == "oauth":
        assert_token_error(r, "invalid_request", 405)
    elif kind == "json":
        assert r.status_code == 405 and r.json() == {"error": "Method Not Allowed"}, (r.status_code, r.text[:300])
    elif kind == "api":
        assert r.status_code == 405 and "is not supported for this path" in r.json()["message"], r.text[:300]
    else:
        assert_error_page(r, 405, "Method Not Allowed")


@pytest.mark.parametrize("path,kind", [
    ("/api/2.0/users", "json"), ("/api/1.0/no-such-thing", "json"), ("/.well-known/no-such-thing", "json"),
    ("/no-such-page", "page"), ("/admin/no-such-page", "page"), ("/static/no-such-file.css", "page"),
])
def test_a_path_nothing_answers_is_404_in_the_format_of_its_namespace(server, path, kind):
    r = requests.get(server.url(path), timeout=HTTP_TIMEOUT)
    if kind == "json":
        assert r.status_code == 404 and r.json() == {"error": "Not Found"}, (r.status_code, r.text[:300])
    else:
        assert_error_page(r, 404, "Not Found")
