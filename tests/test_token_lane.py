"""The token endpoint answered on the plain ASGI path (``web/oauth_lane.py``) behaves as the FastAPI route it
stands in front of: the answer counted on ``/metrics`` under the route's template, form errors as OAuth JSON
(RFC 6749 §5.2), the wrong method still the route's 405, the audit row with the caller's address. Guards: these
held before the lane too. Real server over HTTP."""

from __future__ import annotations

import re

import pytest
import requests

from support.oauth import assert_no_store, assert_token_error, token_request


@pytest.fixture(scope="module")
def app(server):
    return server.create_client(grants=["client_credentials"])


def issued_count(server) -> float:
    text = requests.get(server.url("/metrics"), timeout=5).text
    found = re.findall(r'authgate_http_requests_total\{[^}]*route="/oauth/token"[^}]*status="200"[^}]*\} (\S+)', text)
    return sum(float(v) for v in found)


def test_answers_are_counted_under_the_token_route(server, app):
    before = issued_count(server)
    r = token_request(server, {"grant_type": "client_credentials"}, auth=app.basic)
    assert r.status_code == 200 and r.json()["token_type"] == "Bearer"
    assert_no_store(r)
    assert issued_count(server) >= before + 1


def test_a_body_that_is_not_a_form_is_invalid_request_rfc6749_5_2(server, app):
    r = requests.post(server.url("/oauth/token"), data=b'{"grant_type": "client_credentials"}', auth=app.basic,
                      headers={"Content-Type": "application/json"}, timeout=10)
    assert "application/x-www-form-urlencoded" in assert_token_error(r, "invalid_request")["error_description"]
    r = requests.post(server.url("/oauth/token"), data=b"grant_type=\xff", auth=app.basic, timeout=10)
    assert "UTF-8" in assert_token_error(r, "invalid_request")["error_description"]


def test_the_wrong_method_is_still_the_routes_405_rfc6749_3_2(server):
    assert_token_error(requests.get(server.url("/oauth/token"), timeout=10), "invalid_request", 405)
