"""Property tests on the OAuth endpoints' parameter handling (RFC 6749 §3.1, §3.2, §5.2; RFC 7009,
RFC 7662, RFC 8628): whatever parameters arrive — unknown, repeated, empty, huge, any Unicode,
any content type — the answer is never a 5xx, and errors come in the endpoint's own format."""

from __future__ import annotations

from urllib.parse import urlencode

import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from support import HTTP_TIMEOUT

OAUTH_ERRORS = {
    "invalid_request", "invalid_client", "invalid_grant", "unauthorized_client", "unsupported_grant_type",
    "invalid_scope", "unsupported_token_type", "authorization_pending", "slow_down", "access_denied",
    "expired_token", "too_many_requests", "temporarily_unavailable",
}
NAMES = ["grant_type", "code", "redirect_uri", "client_id", "client_secret", "username", "password", "scope",
         "refresh_token", "code_verifier", "token", "token_type_hint", "device_code", "response_type", "state",
         "code_challenge", "code_challenge_method", "nonce", "prompt", "max_age"]
GRANTS = ["authorization_code", "password", "refresh_token", "client_credentials",
          "urn:ietf:params:oauth:grant-type:device_code", "implicit", ""]

names = st.one_of(st.sampled_from(NAMES), st.text(max_size=20))
values = st.one_of(st.sampled_from(GRANTS), st.text(max_size=300), st.text(alphabet="\x00\ud7ff\ufffd%&=+", max_size=50))
params = st.lists(st.tuples(names, values), max_size=12)
content_types = st.sampled_from([None, "application/x-www-form-urlencoded", "application/json", "text/plain",
                                 "multipart/form-data; boundary=x", "application/x-www-form-urlencoded; charset=latin-1"])

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                          HealthCheck.too_slow])


def body_of(pairs) -> bytes:
    return urlencode(pairs, errors="surrogatepass").encode("utf-8", "surrogatepass")


def assert_oauth_answer(response: requests.Response) -> None:
    assert response.status_code < 500, response.text[:500]
    if response.status_code >= 400:
        body = response.json()
        assert body["error"] in OAUTH_ERRORS, body


@FUZZ
@given(pairs=params, content_type=content_types, basic=st.booleans())
def test_token_endpoint_never_fails(server, pairs, content_type, basic):
    headers = {"Content-Type": content_type} if content_type else {}
    if basic:
        headers["Authorization"] = "Basic " + "Zm9vOmJhcg=="
    r = requests.post(server.url("/oauth/token"), data=body_of(pairs), headers=headers, timeout=HTTP_TIMEOUT)
    assert_oauth_answer(r)
    assert r.headers["Cache-Control"] == "no-store"


@FUZZ
@given(path=st.sampled_from(["/oauth/revoke", "/oauth/introspect", "/oauth/device"]), pairs=params,
       content_type=content_types)
def test_other_oauth_endpoints_never_fail(server, path, pairs, content_type):
    headers = {"Content-Type": content_type} if content_type else {}
    r = requests.post(server.url(path), data=body_of(pairs), headers=headers, timeout=HTTP_TIMEOUT)
    assert r.status_code < 500, r.text[:500]
    if r.status_code >= 400:
        assert r.json()["error"] in OAUTH_ERRORS | {"Unauthenticated."}, r.text[:300]


@FUZZ
@given(pairs=params)
def test_authorization_endpoint_never_fails(server, pairs):
    r = requests.get(server.url("/oauth/authorize?" + body_of(pairs).decode("utf-8", "replace")),
                     allow_redirects=False, timeout=HTTP_TIMEOUT)
    assert r.status_code < 500, r.text[:500]
    if r.status_code in (302, 303):
        assert r.headers["Location"].startswith("/login") or "error=" in r.headers["Location"]
