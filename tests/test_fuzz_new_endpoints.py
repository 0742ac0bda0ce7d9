"""Property tests on the newest endpoints, thought of as an attacker sending whatever they like: the identity
providers API (``/api/1.0/providers``), the federation callback (RFC 6749 §4.1.2 ``code``/``state``/``error``,
RFC 9207 §2 ``iss``: missing, repeated, garbage, with a real round trip's ``state`` or not), signed request objects
(RFC 9101 §5-§6: ``request`` a malformed JWT) at the authorization endpoint and at PAR (RFC 9126 §2.1), and PAR with
huge or repeated parameters. The answer is never a 5xx, and an error is in the endpoint's own format: JSON
``error`` for the OAuth endpoints, the JSON:API-like ``message`` for the API, a page for the browser's routes."""

from __future__ import annotations

import base64
import json
import re
from urllib.parse import urlencode, urlsplit, parse_qs

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from support import HTTP_TIMEOUT, api_for, parse_page, pkce_pair, unique
from test_fuzz_oauth_params import OAUTH_ERRORS, body_of

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                         HealthCheck.too_slow])
REDIRECT = "https://app.example.org/cb"

garbage = st.one_of(st.text(max_size=200), st.text(alphabet="\x00\ud7ff\ufffd%&=+./_-", max_size=40),
                    st.sampled_from(["", "null", "[]", "{}", "a" * 5000, "..", "%00", "é" * 200]))


@pytest.fixture(scope="module")
def authgate(server_factory):
    return server_factory({"AUTHGATE_LIMIT_LOGIN_PER_IP": "100000/300", "AUTHGATE_LIMIT_TOKEN_PER_IP": "100000/60"})


@pytest.fixture(scope="module")
def provider(authgate, stub) -> str:
    name = unique("idp")
    authgate.commands.run_json("providers", "add", "--kind", "oidc", "--name", name, "--issuer", stub.issuer,
                               "--client-id", "fuzz", "--client-secret-stdin", "--allow-private-network", "--jit",
                               input="stub-secret\n")
    return name


@pytest.fixture(scope="module")
def client(authgate):
    return authgate.create_client(redirect_uris=[REDIRECT], grants=("authorization_code",))


def assert_page(r: requests.Response) -> None:
    assert r.status_code < 500, r.text[:800]
    assert r.status_code in (200, 303, 302) or r.headers["Content-Type"].startswith("text/html"), r.text[:300]


def assert_oauth(r: requests.Response) -> None:
    assert r.status_code < 500, r.text[:800]
    if r.status_code >= 400:
        assert r.json().get("error") in OAUTH_ERRORS | {"invalid_request_object", "invalid_request_uri", "invalid_target"}, (r.status_code, r.text[:300])


# -- the federation callback --------------------------------------------------------------------------------------


def started(authgate, name: str) -> tuple[requests.Session, str]:
    """A browser that pressed "Sign in with NAME" on the sign-in page: its cookies, and the round trip's state."""
    http = requests.Session()
    login = http.get(authgate.url("/login?next=/"), timeout=HTTP_TIMEOUT)
    [form] = [f for f in parse_page(login.text).forms if f.method == "post" and f.action == f"/login/federated/{name}"] \
        or [f for f in parse_page(login.text).forms if f.method == "post"]
    r = http.post(authgate.url(f"/login/federated/{name}"), data={**form.fields(), "next": "/"},
                  allow_redirects=False, timeout=HTTP_TIMEOUT)
    assert r.status_code == 303, r.text[:500]
    return http, parse_qs(urlsplit(r.headers["Location"]).query)["state"][0]


callback_names = st.sampled_from(["state", "code", "iss", "error", "error_description", "session_state"])


@FUZZ
@given(pairs=st.lists(st.tuples(callback_names, garbage), max_size=8),
       state_use=st.sampled_from(["none", "first", "last", "twice", "only"]))
def test_the_federation_callback_never_fails_rfc6749_4_1_2_rfc9207_2(authgate, provider, stub, pairs, state_use):
    """Whatever ``code``, ``iss``, ``error`` arrive, with the round trip's own ``state`` (first, last, twice, alone)
    or none: a page, never a 5xx."""
    http, state = started(authgate, provider)
    own = [("state", state)]
    pairs = {"none": pairs, "first": own + pairs, "last": pairs + own, "twice": own + pairs + own,
             "only": own}[state_use]
    r = http.get(authgate.url(f"/login/federated/{provider}/callback?" + body_of(pairs).decode("utf-8", "replace")),
                 allow_redirects=False, timeout=HTTP_TIMEOUT)
    assert_page(r)


@FUZZ
@given(name=garbage, pairs=st.lists(st.tuples(callback_names, garbage), max_size=6), cookie=st.booleans())
def test_a_callback_nobody_started_never_fails(authgate, name, pairs, cookie):
    """A callback for any provider name, the federation cookie set to the ``state`` the attacker sends."""
    states = [v for k, v in pairs if k == "state"]
    cookies = {"authgate_federation": re.sub(r"[^A-Za-z0-9_-]", "", states[0])} if cookie and states else {}
    path = "/login/federated/" + requests.utils.quote(name, safe="") + "/callback"
    r = requests.get(authgate.url(path + "?" + body_of(pairs).decode("utf-8", "replace")), cookies=cookies,
                     allow_redirects=False, timeout=HTTP_TIMEOUT)
    assert_page(r)


# -- the providers API -------------------------------------------------------------------------------------------

json_values = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False),
                                     garbage), lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=10), inner, max_size=4), max_leaves=8)
provider_fields = st.sampled_from(["kind", "name", "issuer", "client_id", "client_secret", "scopes", "enabled",
                                   "allow_jit", "link_verified_email", "allow_private_network"])
plausible = st.fixed_dictionaries({"name": garbage, "issuer": st.sampled_from(
    ["https://idp.example.org", "http://127.0.0.1:1", "https://", "not a url", "https://[::1", "https://a:99999",
     "javascript:alert(1)", "https://idp.example.org/" + "x" * 1990]), "client_id": garbage, "client_secret": garbage},
    optional={"kind": st.sampled_from(["oidc", "github", "", "OIDC", "saml"]), "scopes": st.lists(garbage, max_size=5),
              "enabled": json_values, "allow_jit": json_values})


@pytest.fixture(scope="module")
def admin(authgate):
    return api_for(authgate, "admin", scopes=("security:read", "security:write"))


def assert_api(r: requests.Response) -> None:
    assert r.status_code < 500, r.text[:800]
    if r.status_code >= 400:
        assert {"message", "error"} & set(r.json()), r.text[:300]


@FUZZ
@given(body=st.one_of(st.dictionaries(provider_fields, json_values, max_size=10), plausible, json_values))
def test_the_providers_api_never_fails_on_a_new_provider(admin, body):
    r = admin.post("/providers", json=body)
    assert_api(r)
    if r.status_code == 201:
        assert admin.delete(f"/providers/{r.json()['id']}").status_code == 204


@FUZZ
@given(key=garbage, body=st.one_of(st.dictionaries(provider_fields, json_values, max_size=10), json_values))
def test_the_providers_api_never_fails_on_a_change(admin, provider, key, body):
    existing = admin.ok("GET", "/providers")["data"][0]["id"]
    for target in (existing, requests.utils.quote(key, safe="") or "x"):
        assert_api(admin.put(f"/providers/{target}", json=body))
        assert_api(admin.get(f"/providers/{target}"))


# -- signed request objects (RFC 9101) and PAR (RFC 9126) -----------------------------------------------------------


def b64(value) -> str:
    raw = value if isinstance(value, bytes) else json.dumps(value).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


jose_headers = st.one_of(st.fixed_dictionaries({"alg": st.sampled_from(["none", "RS256", "HS256", "ES256", "PS256",
                                                                        "EdDSA", "", "RSA-OAEP"])},
                                               optional={"kid": garbage, "typ": garbage, "crit": json_values,
                                                         "jku": garbage, "enc": garbage}), json_values)
malformed_jwts = st.one_of(
    garbage,
    st.builds(lambda h, p, sig: f"{b64(h)}.{b64(p)}.{sig}", jose_headers, json_values, garbage),
    st.builds(lambda h, p: f"{b64(h)}.{b64(p)}.", jose_headers,
              st.fixed_dictionaries({}, optional={"client_id": garbage, "iss": garbage, "aud": json_values,
                                                  "exp": json_values, "response_type": garbage,
                                                  "redirect_uri": garbage, "request": garbage})),
    st.builds(lambda parts: ".".join(parts), st.lists(st.text(alphabet="AZaz09-_=", max_size=30), min_size=2,
                                                      max_size=7)),
)


@FUZZ
@given(request_object=malformed_jwts, with_params=st.booleans())
def test_the_authorization_endpoint_never_fails_on_a_malformed_request_object_rfc9101_6(authgate, client,
                                                                                       request_object, with_params):
    params = [("client_id", client.client_id), ("request", request_object)]
    if with_params:
        params += [("response_type", "code"), ("redirect_uri", REDIRECT), ("code_challenge", pkce_pair()[1]),
                   ("code_challenge_method", "S256")]
    r = requests.get(authgate.url("/oauth/authorize?" + body_of(params).decode("utf-8", "replace")),
                     allow_redirects=False, timeout=HTTP_TIMEOUT)
    assert r.status_code < 500, r.text[:800]


@FUZZ
@given(request_object=malformed_jwts)
def test_par_never_fails_on_a_malformed_request_object_rfc9126_3(authgate, client, request_object):
    r = requests.post(authgate.url("/oauth/par"), data=body_of([("request", request_object),
                                                                 ("client_id", client.client_id)]),
                      headers={"Content-Type": "application/x-www-form-urlencoded"}, auth=client.basic,
                      timeout=HTTP_TIMEOUT)
    assert_oauth(r)


par_names = st.sampled_from(["response_type", "client_id", "redirect_uri", "scope", "state", "code_challenge",
                             "code_challenge_method", "nonce", "prompt", "max_age", "request_uri", "request",
                             "resource", "acr_values", "claims", "login_hint", "ui_locales", "authorization_details"])


@FUZZ
@given(pairs=st.lists(st.tuples(par_names, st.one_of(garbage, st.sampled_from(["x" * 70000, "code", REDIRECT]))),
                      max_size=15),
       repeat=st.integers(min_value=1, max_value=200))
def test_par_never_fails_on_huge_or_repeated_parameters_rfc9126_2_1(authgate, client, pairs, repeat):
    base = [("response_type", "code"), ("redirect_uri", REDIRECT), ("code_challenge", pkce_pair()[1]),
            ("code_challenge_method", "S256")]
    r = requests.post(authgate.url("/oauth/par"), data=body_of(base + pairs * repeat),
                      headers={"Content-Type": "application/x-www-form-urlencoded"}, auth=client.basic,
                      timeout=HTTP_TIMEOUT)
    assert r.status_code < 500, r.text[:800]
    assert_oauth(r)  # a body over 1 MiB too: the body limit answers an OAuth error (413 invalid_request)
    if r.status_code == 201:
        uri = r.json()["request_uri"]
        page = requests.get(authgate.url("/oauth/authorize?" + urlencode({"client_id": client.client_id,
                                                                          "request_uri": uri})),
                            allow_redirects=False, timeout=HTTP_TIMEOUT)
        assert page.status_code < 500, page.text[:800]
