"""Pushed authorization requests (RFC 9126): the push (§2), the authorization request by ``request_uri`` (§4),
the client's and the server's ``require_pushed_authorization_requests`` (§5, §6), with authgate's own browser and
with an independent client library (requests-oauth2client); and ``dpop_jkt`` carried by a pushed request
(RFC 9449 §10)."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import pytest
import requests
from requests_oauth2client import OAuth2Client

from support import Browser, authorization_params, exchange_code, parse_page, query_params, without_query

HTTP_TIMEOUT = 15


def push(server, client, auth: bool = True, **params) -> requests.Response:
    data = authorization_params(client, **params)
    if client.client_secret is None or not auth:
        return requests.post(server.url("/oauth/par"), data=data, timeout=HTTP_TIMEOUT)
    return requests.post(server.url("/oauth/par"), data=data, auth=client.basic, timeout=HTTP_TIMEOUT)


def pushed(server, client, **params) -> tuple[dict, str]:
    """The pushed parameters and the ``request_uri`` they are kept under."""
    data = authorization_params(client, **params)
    r = requests.post(server.url("/oauth/par"), data=data, auth=client.basic, timeout=HTTP_TIMEOUT)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["request_uri"].startswith("urn:ietf:params:oauth:request_uri:")
    return data, body["request_uri"]


def by_reference(client, request_uri: str, **extra) -> dict:
    return {"client_id": client.client_id, "request_uri": request_uri, **extra}


def assert_error_page(r: requests.Response, error: str) -> None:
    assert r.status_code == 400, (r.status_code, r.headers.get("Location"), r.text[:300])
    assert error in parse_page(r.text).text, r.text[:1000]


@pytest.fixture(scope="module")
def app(server):
    return server.create_client(grants=["authorization_code"], redirect_uris=["https://par.example.org/cb"])


@pytest.fixture(scope="module")
def user(server):
    return server.create_user()


def test_push_answers_201_with_a_request_uri_and_the_code_flow_completes(server, app, user):
    """§2.2: 201 ``request_uri`` and ``expires_in`` (at most 60 s by default); §4: the authorization request with
    ``client_id`` and ``request_uri`` alone signs in, asks consent and returns the code with the pushed ``state``."""
    r = push(server, app)
    assert r.status_code == 201, r.text
    assert r.headers["Cache-Control"] == "no-store"
    body = r.json()
    assert 0 < body["expires_in"] <= 60
    location = Browser(server).authorize(by_reference(app, body["request_uri"]), user)
    assert without_query(location) == app.redirect_uri
    code = query_params(location)["code"]
    token = exchange_code(server, app, code)
    assert token.status_code == 200, token.text
    assert token.json()["scope"] == "users:read"


def test_a_request_uri_works_for_one_authorization_only(server, app, user):
    """§4: one-time use: once the authorization ended with a code, the same ``request_uri`` is refused."""
    _, request_uri = pushed(server, app)
    browser = Browser(server)
    browser.authorize(by_reference(app, request_uri), user)
    assert_error_page(browser.open_authorize(by_reference(app, request_uri)), "invalid_request_uri")


def test_another_clients_request_uri_is_refused(server, app, user):
    """§4: the ``request_uri`` is bound to the client that pushed it; ``client_id`` must be that client."""
    other = server.create_client(grants=["authorization_code"], redirect_uris=["https://other.example.org/cb"])
    _, request_uri = pushed(server, app)
    browser = Browser(server)
    browser.login(user)
    assert_error_page(browser.open_authorize(by_reference(other, request_uri)), "invalid_request_uri")
    assert_error_page(browser.open_authorize({"request_uri": request_uri}), "invalid_request")
    assert_error_page(browser.open_authorize(by_reference(app, "urn:ietf:params:oauth:request_uri:made-up")),
                      "invalid_request_uri")


def test_parameters_outside_the_pushed_request_are_ignored(server, app, user):
    """§4: only the pushed parameters count: another ``redirect_uri``, ``scope`` or ``state`` in the query change
    nothing."""
    sent, request_uri = pushed(server, app, scope="users:read")
    location = Browser(server).authorize(
        by_reference(app, request_uri, redirect_uri="https://evil.example.net/cb", scope="users:write", state="theirs"),
        user)
    assert without_query(location) == app.redirect_uri
    assert query_params(location)["state"] == sent["state"]
    token = exchange_code(server, app, query_params(location)["code"])
    assert token.json()["scope"] == "users:read"


def test_a_request_uri_inside_a_push_is_refused(server, app):
    """§2.1: ``request_uri`` must not be pushed; §2.3: the error is OAuth JSON."""
    r = push(server, app, request_uri="urn:ietf:params:oauth:request_uri:x")
    assert r.status_code == 400, r.text
    assert r.json()["error"] == "invalid_request"


def test_a_push_is_validated_and_authenticated_like_the_authorization_and_token_endpoints(server, app):
    """§2.1: the client authenticates as at the token endpoint; the request is checked as ``/authorize`` checks it
    (redirect URI, response type, PKCE); errors are JSON (§2.3), never a redirect."""
    assert push(server, app, auth=False).status_code == 401
    wrong = requests.post(server.url("/oauth/par"), data=authorization_params(app),
                          auth=(app.client_id, "wrong"), timeout=HTTP_TIMEOUT)
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"
    r = push(server, app, redirect_uri="https://evil.example.net/cb")
    assert r.status_code == 400 and "error" in r.json(), r.text
    r = push(server, app, response_type="token")
    assert r.status_code == 400 and r.json()["error"] == "unsupported_response_type", r.text
    r = push(server, app, scope="no-such-scope")
    assert r.status_code == 400 and r.json()["error"] == "invalid_scope", r.text
    r = push(server, app, challenge="x" * 43, code_challenge_method="plain")
    assert r.status_code == 400 and r.json()["error"] == "invalid_request", r.text


def test_a_public_client_pushes_with_its_client_id_and_pkce(server, user):
    """§2.1: a public client authenticates with ``none``: its ``client_id``; PKCE stays required for it."""
    from support import pkce_pair
    native = server.create_client(grants=["authorization_code"], redirect_uris=["http://127.0.0.1/cb"], public=True)
    assert push(server, native).status_code == 400
    verifier, challenge = pkce_pair()
    r = push(server, native, challenge=challenge)
    assert r.status_code == 201, r.text
    location = Browser(server).authorize(by_reference(native, r.json()["request_uri"]), user)
    token = exchange_code(server, native, query_params(location)["code"], verifier=verifier)
    assert token.status_code == 200, token.text


def test_a_client_that_must_push_is_refused_without_a_request_uri(server, user):
    """§5/§6 ``require_pushed_authorization_requests`` per client (``clients update --require-par``); the server
    hears of the change through its cache bus (within a poll)."""
    strict = server.create_client(grants=["authorization_code"], redirect_uris=["https://strict.example.org/cb"])
    shown = server.cli_json("clients", "update", strict.client_id, "--require-par")
    assert shown["require_pushed_authorization_requests"] is True
    browser = Browser(server)
    browser.login(user)
    assert_error_page(browser.open_authorize(authorization_params(strict)), "invalid_request")
    _, request_uri = pushed(server, strict)
    location = browser.authorize(by_reference(strict, request_uri), user)
    assert "code" in query_params(location)
    server.cli_json("clients", "update", strict.client_id, "--no-require-par")
    deadline = time.monotonic() + 5
    while browser.open_authorize(authorization_params(strict)).status_code == 400 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert "code" in query_params(browser.authorize(authorization_params(strict), user))


@pytest.mark.parametrize("reauthenticate", [{"prompt": "login"}, {"max_age": "0"}])
def test_prompt_login_or_max_age_in_a_pushed_request_completes_after_signing_in_again(server, app, reauthenticate):
    """OpenID Connect Core §3.1.2.1 in a pushed request: the browser comes back with only ``request_uri``, so the
    re-authentication asked for is recorded on the pushed request: one sign-in, then consent, then the code."""
    user = server.create_user()
    browser = Browser(server)
    browser.login(user)
    time.sleep(1.1)
    _, request_uri = pushed(server, app, scope="openid users:read", **reauthenticate)
    r = browser.open_authorize(by_reference(app, request_uri))
    assert r.status_code == 303 and urlsplit(r.headers["Location"]).path == "/login", r.headers.get("Location")
    login = browser.get(r.headers["Location"])
    back = browser.submit_login(login, browser.single_form(login), user.username, user.password)
    assert back.status_code == 303
    consent = browser.get(back.headers["Location"])
    assert consent.status_code == 200, (consent.status_code, consent.headers.get("Location"))
    answer = browser.decide(consent)
    assert answer.status_code == 302 and "code" in query_params(answer.headers["Location"]), answer.headers
    token = exchange_code(server, app, query_params(answer.headers["Location"])["code"])
    assert token.status_code == 200 and "id_token" in token.json(), token.text


def test_requests_oauth2client_does_par_with_dpop(server, user):
    """An independent client: requests-oauth2client pushes the request (§2) with a DPoP proof and ``dpop_jkt``
    (RFC 9449 §10), the browser authorizes by reference, and the code is exchanged with a proof by that key."""
    app = server.create_client(grants=["authorization_code"], redirect_uris=["https://lib.example.org/cb"])
    client = OAuth2Client(token_endpoint=server.url("/oauth/token"),
                          authorization_endpoint=server.url("/oauth/authorize"),
                          pushed_authorization_request_endpoint=server.url("/oauth/par"),
                          client_id=app.client_id, client_secret=app.client_secret,
                          redirect_uri=app.redirect_uri, testing=True)
    request = client.authorization_request(scope="users:read", dpop=True)
    by_uri = client.pushed_authorization_request(request)
    location = Browser(server).authorize(by_uri.uri, user)
    token = client.authorization_code(request.validate_callback(location))
    assert token.token_type.lower() == "dpop"


@pytest.fixture(scope="module")
def strict_server(server_factory):
    """Pushed requests required of every client, and a ``request_uri`` that waits one second for its use."""
    return server_factory({"AUTHGATE_PAR_SECONDS": "1", "AUTHGATE_REQUIRE_PAR": "1"})


def test_an_expired_request_uri_is_refused(strict_server):
    """§2.2 ``expires_in`` (``AUTHGATE_PAR_SECONDS``): after it the ``request_uri`` is refused."""
    app = strict_server.create_client(grants=["authorization_code"], redirect_uris=["https://late.example.org/cb"])
    user = strict_server.create_user()
    r = push(strict_server, app)
    assert r.status_code == 201 and r.json()["expires_in"] == 1
    browser = Browser(strict_server)
    browser.login(user)
    time.sleep(2)
    assert_error_page(browser.open_authorize(by_reference(app, r.json()["request_uri"])), "invalid_request_uri")


def test_the_server_can_require_pushed_requests_of_every_client(strict_server):
    """§5 ``require_pushed_authorization_requests`` server-wide (``AUTHGATE_REQUIRE_PAR``), in the metadata."""
    meta = requests.get(strict_server.url("/.well-known/oauth-authorization-server"), timeout=HTTP_TIMEOUT).json()
    assert meta["require_pushed_authorization_requests"] is True
    assert meta["pushed_authorization_request_endpoint"] == strict_server.url("/oauth/par")
    app = strict_server.create_client(grants=["authorization_code"], redirect_uris=["https://all.example.org/cb"])
    user = strict_server.create_user()
    browser = Browser(strict_server)
    browser.login(user)
    assert_error_page(browser.open_authorize(authorization_params(app)), "invalid_request")


def test_metadata_names_the_endpoint_and_cors_allows_it(server):
    """RFC 9126 §5 metadata on the default server; the endpoint answers CORS preflights like the token endpoint."""
    meta = requests.get(server.url("/.well-known/openid-configuration"), timeout=HTTP_TIMEOUT).json()
    assert meta["pushed_authorization_request_endpoint"] == server.url("/oauth/par")
    assert meta["require_pushed_authorization_requests"] is False
    r = requests.options(server.url("/oauth/par"), headers={"Origin": "https://spa.example.org",
                                                            "Access-Control-Request-Method": "POST"},
                         timeout=HTTP_TIMEOUT)
    assert r.status_code == 204 and r.headers["Access-Control-Allow-Origin"] == "*"


def test_the_admin_client_form_sets_both_requirements(server):
    """The Auth Clients edit form has the two requirements (RFC 9126 §6, RFC 9449 §5.2) as checkboxes."""
    admin_user = server.create_user(admin=True)
    app = server.create_client(grants=["authorization_code"], redirect_uris=["https://form.example.org/cb"])
    browser = Browser(server)
    browser.login(admin_user)
    page = browser.get(f"/admin/auth-clients/{app.client_id}")
    assert page.status_code == 200, page.text[:300]
    form = [f for f in parse_page(page.text).forms if f.method == "post" and f.input("require_par")][0]
    hidden = {i["name"]: i.get("value") or "" for i in form.inputs if i.get("type") == "hidden" and i.get("name")}
    data = [*hidden.items(), ("name", app.name), ("redirect_uris", app.redirect_uri), ("grants", "authorization_code"),
            ("grants", "refresh_token"), ("require_par", "1"), ("require_dpop", "1")]
    saved = browser.post(f"/admin/auth-clients/{app.client_id}", data=data)
    assert saved.status_code == 303, saved.text[:500]
    shown = server.cli_json("clients", "show", app.client_id)
    assert shown["require_pushed_authorization_requests"] is True and shown["dpop_bound_access_tokens"] is True
    assert 'name="require_par" value="1" checked' in browser.get(f"/admin/auth-clients/{app.client_id}").text
