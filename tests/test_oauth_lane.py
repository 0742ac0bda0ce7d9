"""The form-posting OAuth endpoints answered on the plain ASGI path (``web/oauth_lane.py``) behave as the FastAPI
routes they stand in front of: the token endpoint (RFC 6749 §3.2), introspection (RFC 7662) and revocation
(RFC 7009). Answers counted on ``/metrics`` under the route's template, form errors as OAuth JSON (RFC 6749
§5.2) and never cached (§5.1), the wrong method still the route's 405, a failed client authentication a 401
with ``WWW-Authenticate`` (§5.2), CORS where the route has it. Guards: these held before the lane too. Real
server over HTTP."""

from __future__ import annotations

import re

import pytest
import requests

from support import assert_no_store, assert_token_error, introspect, revoke, token_request
from support.server import HTTP_TIMEOUT

POSTS = ("/oauth/introspect", "/oauth/revoke")
FORM_LIMIT = 64 * 1024


@pytest.fixture(scope="module")
def app(server):
    return server.create_client(grants=["client_credentials"])


def access_token(server, app) -> str:
    r = token_request(server, {"grant_type": "client_credentials"}, auth=app.basic)
    assert r.status_code == 200, r.text
    return r.json()["access_token"]


def answered_count(server, route: str, status: int) -> float:
    text = requests.get(server.url("/metrics"), timeout=5).text
    found = re.findall(rf'authgate_http_requests_total\{{[^}}]*route="{route}"[^}}]*status="{status}"[^}}]*\}} (\S+)',
                       text)
    return sum(float(v) for v in found)


def test_answers_are_counted_under_the_token_route(server, app):
    before = answered_count(server, "/oauth/token", 200)
    r = token_request(server, {"grant_type": "client_credentials"}, auth=app.basic)
    assert r.status_code == 200 and r.json()["token_type"] == "Bearer"
    assert_no_store(r)
    assert answered_count(server, "/oauth/token", 200) >= before + 1


def test_a_body_that_is_not_a_form_is_invalid_request_rfc6749_5_2(server, app):
    r = requests.post(server.url("/oauth/token"), data=b'{"grant_type": "client_credentials"}', auth=app.basic,
                      headers={"Content-Type": "application/json"}, timeout=10)
    assert "application/x-www-form-urlencoded" in assert_token_error(r, "invalid_request")["error_description"]
    r = requests.post(server.url("/oauth/token"), data=b"grant_type=\xff", auth=app.basic, timeout=10)
    assert "UTF-8" in assert_token_error(r, "invalid_request")["error_description"]


def test_the_wrong_method_is_still_the_routes_405_rfc6749_3_2(server):
    assert_token_error(requests.get(server.url("/oauth/token"), timeout=10), "invalid_request", 405)


def test_introspection_and_revocation_are_counted_under_their_routes(server, app):
    """RFC 7662 §2.2 and RFC 7009 §2.2: each answer is one request of its route on ``/metrics``."""
    token = access_token(server, app)
    before = answered_count(server, "/oauth/introspect", 200)
    r = introspect(server, app, token)
    assert r.status_code == 200 and r.json()["active"] is True
    assert_no_store(r)
    assert answered_count(server, "/oauth/introspect", 200) >= before + 1
    before = answered_count(server, "/oauth/revoke", 200)
    r = revoke(server, app, token)
    assert r.status_code == 200
    assert answered_count(server, "/oauth/revoke", 200) >= before + 1
    assert introspect(server, app, token).json() == {"active": False}


@pytest.mark.parametrize("path", POSTS)
@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_the_wrong_method_is_the_routes_405_with_allow_rfc9110_15_5_6(server, path, method):
    """RFC 9110 §15.5.6: a 405 names the allowed methods; in RFC 6749 §5.2's format."""
    r = requests.request(method, server.url(path), timeout=HTTP_TIMEOUT)
    assert_token_error(r, "invalid_request", 405)
    assert r.headers["Allow"] == "POST"


@pytest.mark.parametrize("path", POSTS)
def test_a_body_that_is_not_a_form_is_invalid_request(server, app, path):
    """RFC 7662 §2.1, RFC 7009 §2.1: the request is a form; anything else is RFC 6749 §5.2's invalid_request."""
    r = requests.post(server.url(path), data=b'{"token": "x"}', auth=app.basic,
                      headers={"Content-Type": "application/json"}, timeout=HTTP_TIMEOUT)
    assert "application/x-www-form-urlencoded" in assert_token_error(r, "invalid_request")["error_description"]
    assert_no_store(r)
    r = requests.post(server.url(path), data=b"token=\xff", auth=app.basic, timeout=HTTP_TIMEOUT)
    assert "UTF-8" in assert_token_error(r, "invalid_request")["error_description"]


@pytest.mark.parametrize("path", POSTS)
def test_a_form_over_the_form_limit_is_invalid_request_and_over_the_body_limit_413(server, app, path):
    """RFC 6749 §5.2's format for both: a form larger than the form reader takes (400), a body larger than any
    route takes (413, streamed, so no Content-Length refuses it first)."""
    r = requests.post(server.url(path), data={"token": "x" * FORM_LIMIT}, auth=app.basic, timeout=HTTP_TIMEOUT)
    assert "larger than" in assert_token_error(r, "invalid_request")["error_description"]
    assert_no_store(r)
    chunks = (b"token=" + b"x" * (256 * 1024) if i == 0 else b"x" * (256 * 1024) for i in range(6))
    r = requests.post(server.url(path), data=chunks, auth=app.basic, timeout=HTTP_TIMEOUT,
                      headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert "larger than" in assert_token_error(r, "invalid_request", 413)["error_description"]
    assert_no_store(r)


@pytest.mark.parametrize("path", POSTS)
def test_a_request_without_token_is_invalid_request(server, app, path):
    """RFC 7662 §2.1 and RFC 7009 §2.1: ``token`` is REQUIRED."""
    r = requests.post(server.url(path), data={"token_type_hint": "access_token"}, auth=app.basic,
                      timeout=HTTP_TIMEOUT)
    assert_token_error(r, "invalid_request")
    assert_no_store(r)


@pytest.mark.parametrize("path", POSTS)
def test_a_wrong_secret_of_a_cached_client_is_401_with_www_authenticate_rfc6749_5_2(server, app, path):
    """The client is cached by the answers before; its wrong secret is still ``invalid_client``, with the
    challenge RFC 6749 §5.2 asks for when the client used HTTP Basic, and no answer about the token."""
    token = access_token(server, app)
    assert introspect(server, app, token).json()["active"] is True
    r = requests.post(server.url(path), data={"token": token}, auth=(app.client_id, app.client_secret + "x"),
                      timeout=HTTP_TIMEOUT)
    assert_token_error(r, "invalid_client", 401)
    assert r.headers["WWW-Authenticate"].lower().startswith("basic")
    assert "active" not in r.json()
    assert introspect(server, app, token).json()["active"] is True


def test_cors_as_the_routes_have_it(server, app):
    """Revocation may be called by a browser app (CORS, any origin, no credentials); introspection, a resource
    server's back channel, sends no CORS headers."""
    origin = {"Origin": "https://spa.example.org"}
    token = access_token(server, app)
    r = requests.post(server.url("/oauth/introspect"), data={"token": token}, auth=app.basic, headers=origin,
                      timeout=HTTP_TIMEOUT)
    assert r.status_code == 200 and "Access-Control-Allow-Origin" not in r.headers
    r = requests.post(server.url("/oauth/revoke"), data={"token": token}, auth=app.basic, headers=origin,
                      timeout=HTTP_TIMEOUT)
    assert r.status_code == 200 and r.headers["Access-Control-Allow-Origin"] == "*"

