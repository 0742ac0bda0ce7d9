"""The same OAuth credential presented by several requests at the same instant (threads released by one
``threading.Barrier``, real HTTP, one server): an authorization code (RFC 6749 §4.1.2), a refresh token
without a grace window (RFC 9700 §4.14.2), an approved device code (RFC 8628 §3.5), a pushed request's
``request_uri`` (RFC 9126 §2.2, §4), a consent form posted twice, an initial access token good for one
registration (RFC 7591 §3), and a client assertion's ``jti`` (RFC 7523 §3). Each works for exactly one request; the others get the protocol's refusal, and
the database holds what one use makes. Run on SQLite and PostgreSQL."""

from __future__ import annotations

import secrets
from urllib.parse import urlencode, urljoin, urlsplit

import pytest
import requests

from support import (Browser, assert_token_error, authorization_params, exchange_code, get_code, parse_page,
                     eventually, password_grant, query_params, refresh, token_request, unique, users_me, without_query)
from support.race import at_once
from support.registration import assert_registration_error, register
from test_rfc7523_private_key_jwt import assertion, key_client, refused, token_with
from test_security_bruteforce import redis_url

N = 8
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
REDIRECT = "https://races.example.org/cb"


@pytest.fixture(scope="module")
def srv(server_factory):
    """Two server processes, each with its thread pool: the requests of a race meet in the database, and in
    Redis (what the README asks of several workers, for the ``jti``s) when it runs here."""
    shared = {"AUTHGATE_REDIS_URL": redis_url(), "AUTHGATE_REDIS_PREFIX": unique("races") + ":"} if redis_url() else {}
    return server_factory({"AUTHGATE_REFRESH_GRACE_SECONDS": "0", "AUTHGATE_REGISTRATION": "token", **shared},
                          workers=2)


@pytest.fixture(scope="module")
def app(srv):
    return srv.create_client(redirect_uris=[REDIRECT], grants=["authorization_code", "refresh_token", "password"])


def count(srv, sql: str) -> int:
    return srv.db.rows(sql)[0][0]


def events(srv, name: str, where: str = "") -> int:
    return count(srv, f"SELECT COUNT(*) FROM audit_events WHERE event = '{name}'{where}")


def revoked(srv, access_token: str) -> bool:
    """Refused by every worker: the other one learns of a revocation within its poll interval."""
    refused = [401] * 4
    return eventually(lambda: [users_me(srv, access_token).status_code for _ in refused], refused.__eq__) == refused


def split(responses, ok: int = 200):
    won = [r for r in responses if r.status_code == ok]
    lost = [r for r in responses if r.status_code != ok]
    assert len(won) == 1, [(r.status_code, r.text[:200]) for r in responses]
    return won[0], lost


def signed_in(srv, user) -> Browser:
    browser = Browser(srv)
    browser.login(user)
    return browser


def twins(browser: Browser) -> list[Browser]:
    """``N`` browsers holding the same cookies: one person's tabs, or a thief's copy of them."""
    copies = [Browser(browser.server) for _ in range(N)]
    for copy in copies:
        copy.session.cookies.update(browser.session.cookies)
    return copies


def test_one_code_exchanged_at_once_gives_one_token_and_its_replays_revoke_it_rfc6749_4_1_2(srv, app):
    """§4.1.2: a code is used once; used twice, what it issued is revoked. One request gets the token, every
    other ``invalid_grant``; one token family is made from the code, and it is revoked, access token included."""
    user = srv.create_user()
    code = get_code(srv, app, user, redirect_uri=REDIRECT)
    won, lost = split(at_once([lambda: exchange_code(srv, app, code)] * N))
    for r in lost:
        assert_token_error(r, "invalid_grant")
    assert revoked(srv, won.json()["access_token"])
    assert_token_error(refresh(srv, app, won.json()["refresh_token"]), "invalid_grant")
    families = srv.db.rows("SELECT f.revoked_at IS NOT NULL FROM oauth_token_families f JOIN oauth_authorization_codes c"
                           f" ON c.id = f.authorization_code_id WHERE c.user_id = {user.id}")
    assert families == [(True,)], families
    assert count(srv, f"SELECT COUNT(*) FROM oauth_access_tokens WHERE user_id = {user.id} AND revoked_at IS NULL") == 0
    assert events(srv, "code.replayed", f" AND user_id = {user.id}") == N - 1


def test_one_refresh_token_used_at_once_rotates_once_rfc9700_4_14_2(srv, app):
    """Without a grace window, one request rotates the token and every other one is reuse (``invalid_grant``),
    which revokes the family: the winner's new pair too. One rotation is recorded, one family stays, revoked."""
    user = srv.create_user()
    first = password_grant(srv, app, user).json()
    won, lost = split(at_once([lambda: refresh(srv, app, first["refresh_token"])] * N))
    for r in lost:
        assert_token_error(r, "invalid_grant")
    assert revoked(srv, won.json()["access_token"])
    assert_token_error(refresh(srv, app, won.json()["refresh_token"]), "invalid_grant")
    assert srv.db.rows(f"SELECT revoked_at IS NOT NULL FROM oauth_token_families WHERE user_id = {user.id}") == [(True,)]
    assert count(srv, f"SELECT COUNT(*) FROM oauth_refresh_tokens WHERE user_id = {user.id}") == 2, "one rotation"
    assert count(srv, f"SELECT COUNT(*) FROM oauth_refresh_tokens WHERE user_id = {user.id} AND rotated_at IS NOT NULL") == 1


def test_an_approved_device_code_polled_at_once_gives_one_token_rfc8628_3_5(srv):
    """§3.5: once approved, the device code is exchanged once; the other polls get ``invalid_grant``, and the
    request is ``used`` with one token family."""
    tv = srv.create_client(grants=["device_code"], scopes=["users:read"])
    user = srv.create_user()
    started = requests.post(srv.url("/oauth/device"), data={"scope": "users:read"}, auth=tv.basic, timeout=15).json()
    browser = signed_in(srv, user)
    page = browser.get("/device?user_code=" + started["user_code"])
    approved = browser.post("/device", data={**browser.single_form(page).fields(), "decision": "approve"})
    assert approved.status_code == 200 and "Device connected" in approved.text, approved.text[:500]
    poll = {"grant_type": DEVICE_GRANT, "device_code": started["device_code"]}
    won, lost = split(at_once([lambda: token_request(srv, poll, auth=tv.basic)] * N))
    for r in lost:
        assert_token_error(r, "invalid_grant")
    assert users_me(srv, won.json()["access_token"]).status_code == 200
    assert count(srv, f"SELECT COUNT(*) FROM oauth_token_families WHERE user_id = {user.id}") == 1
    assert count(srv, f"SELECT COUNT(*) FROM oauth_device_codes WHERE user_id = {user.id} AND status = 'used'") == 1


def test_a_device_code_approved_in_two_tabs_at_once_is_decided_once_rfc8628_3_3(srv):
    """The approval form posted from several tabs at once: one decision is recorded (audited once), the other
    tabs are told the code was already used, and the device gets one token."""
    tv = srv.create_client(grants=["device_code"], scopes=["users:read"])
    user = srv.create_user()
    started = requests.post(srv.url("/oauth/device"), data={"scope": "users:read"}, auth=tv.basic, timeout=15).json()
    browser = signed_in(srv, user)
    form = browser.single_form(browser.get("/device?user_code=" + started["user_code"])).fields()
    answers = at_once([lambda b=b: b.post("/device", data={**form, "decision": "approve"}) for b in twins(browser)])
    connected = [r for r in answers if r.status_code == 200 and "Device connected" in r.text]
    assert len(connected) == 1, [(r.status_code, parse_page(r.text).text[:200]) for r in answers]
    assert all(r.status_code < 500 for r in answers)
    poll = {"grant_type": DEVICE_GRANT, "device_code": started["device_code"]}
    assert token_request(srv, poll, auth=tv.basic).status_code == 200
    assert count(srv, f"SELECT COUNT(*) FROM oauth_device_codes WHERE user_id = {user.id}") == 1


def push(srv, app, **params) -> str:
    data = authorization_params(app, redirect_uri=REDIRECT, **params)
    r = requests.post(srv.url("/oauth/par"), data=data, auth=app.basic, timeout=15)
    assert r.status_code == 201, r.text
    return r.json()["request_uri"]


def code_of(response) -> str | None:
    location = response.headers.get("Location", "") if response.status_code == 302 else ""
    return query_params(location).get("code") if without_query(location) == REDIRECT else None


def assert_request_uri_refused(response) -> None:
    """RFC 9126 §4 with RFC 6749 §4.1.2.1: a ``request_uri`` that cannot be used is an error page, no redirect."""
    assert response.status_code == 400, (response.status_code, response.headers.get("Location"))
    assert "invalid_request_uri" in parse_page(response.text).text, response.text[:500]


def codes_of(srv, user) -> int:
    return count(srv, f"SELECT COUNT(*) FROM oauth_authorization_codes WHERE user_id = {user.id}")


def test_one_request_uri_opened_at_once_gives_one_code_rfc9126_2_2(srv, app):
    """§2.2 and §4: a ``request_uri`` is for one authorization. A signed-in user whose consent is remembered gets
    the code at once, so the same ``request_uri`` opened in several tabs at once must still give one code: the
    other tabs get the ``invalid_request_uri`` page, and one code is stored."""
    user = srv.create_user()
    browser = signed_in(srv, user)
    get_code(srv, app, user, browser=browser, redirect_uri=REDIRECT)  # consent remembered
    request_uri = push(srv, app)
    query = "/oauth/authorize?" + urlencode({"client_id": app.client_id, "request_uri": request_uri})
    answers = at_once([lambda b=b: b.get(query) for b in twins(browser)])
    codes = [code_of(r) for r in answers if code_of(r)]
    assert len(codes) == 1, [(r.status_code, r.headers.get("Location")) for r in answers]
    for r in answers:
        if not code_of(r):
            assert_request_uri_refused(r)
    assert codes_of(srv, user) == 2, "the first authorization's code and one from the request_uri"
    assert exchange_code(srv, app, codes[0], redirect_uri=REDIRECT).status_code == 200


def consent_page(browser: Browser, query: str):
    page = browser.get(query)
    assert page.status_code == 200, (page.status_code, page.headers.get("Location"), page.text[:300])
    form = browser.single_form(page)
    return urljoin(page.url, form.action or page.url), form.fields()


def test_a_pushed_requests_consent_approved_in_tabs_at_once_gives_one_code_rfc9126_4(srv, app):
    """The consent page of a pushed request approved from several tabs at once: one code, one consent
    remembered, one ``consent.granted``; the other tabs get the ``invalid_request_uri`` page."""
    user = srv.create_user()
    browser = signed_in(srv, user)
    request_uri = push(srv, app)
    action, fields = consent_page(browser, "/oauth/authorize?" + urlencode({"client_id": app.client_id,
                                                                            "request_uri": request_uri}))
    posts = [lambda b=b: b.post(action, data={**fields, "decision": "approve"}) for b in twins(browser)]
    answers = at_once(posts)
    codes = [code_of(r) for r in answers if code_of(r)]
    assert len(codes) == 1, [(r.status_code, r.headers.get("Location")) for r in answers]
    for r in answers:
        if not code_of(r):
            assert_request_uri_refused(r)
    assert codes_of(srv, user) == 1
    assert count(srv, f"SELECT COUNT(*) FROM oauth_consents WHERE user_id = {user.id}") == 1
    assert events(srv, "consent.granted", f" AND user_id = {user.id}") == 1


def test_a_consent_form_posted_twice_at_once_remembers_one_consent(srv, app):
    """An authorization request is not itself single-use (the same URL opened again asks again), so the same
    consent form posted from several tabs at once answers each with a code, but never an error: one consent is
    remembered (one row, not a duplicate refused by the database), and each code is good once."""
    user = srv.create_user()
    browser = signed_in(srv, user)
    params = authorization_params(app, redirect_uri=REDIRECT, state=secrets.token_urlsafe(8))
    action, fields = consent_page(browser, "/oauth/authorize?" + urlencode(params))
    answers = at_once([lambda b=b: b.post(action, data={**fields, "decision": "approve"}) for b in twins(browser)])
    codes = [code_of(r) for r in answers]
    assert all(codes), [(r.status_code, r.headers.get("Location"), r.text[:200]) for r in answers]
    assert len(set(codes)) == N
    assert count(srv, f"SELECT COUNT(*) FROM oauth_consents WHERE user_id = {user.id}") == 1
    assert urlsplit(browser.get("/oauth/authorize?" + urlencode(params)).headers["Location"]).netloc == \
        urlsplit(REDIRECT).netloc, "remembered: no page this time"


def test_an_initial_access_token_for_one_registration_registers_one_client_rfc7591_3(srv):
    """§3: an initial access token made for one use, sent by several registrations at once, registers one client;
    the others are refused as RFC 6750 §3.1 says (401 ``invalid_token``), and the token counts one use."""
    made = srv.commands.run_json("registration", "token", "create", "--uses", "1")
    metadata = {"client_name": "race", "redirect_uris": [REDIRECT]}
    won, lost = split(at_once([lambda: register(srv, metadata, made["token"])] * N), ok=201)
    for r in lost:
        assert_registration_error(r, "invalid_token", 401)
    assert count(srv, "SELECT COUNT(*) FROM oauth_clients WHERE client_id = '%s'" % won.json()["client_id"]) == 1
    assert count(srv, "SELECT COUNT(*) FROM oauth_clients WHERE name = 'race'") == 1
    assert srv.db.rows(f"SELECT uses FROM registration_tokens WHERE id = {made['id']}") == [(1,)]


def test_one_client_assertion_sent_at_once_authenticates_once_rfc7523_3(srv):
    """RFC 7523 §3 item 7: a ``jti`` is used once. The same signed assertion sent by several requests at once
    (over two workers, which share the ``jti``s through Redis) gets one token; the others ``invalid_client``."""
    if not redis_url():
        pytest.skip("no Redis on 127.0.0.1:6379: each worker would remember its own jtis")
    client_id, key = key_client(srv)
    signed = assertion(key, client_id, srv.url("/oauth/token"))
    won, lost = split(at_once([lambda: token_with(srv, signed)] * N))
    for r in lost:
        refused(r)
    assert count(srv, f"SELECT COUNT(*) FROM oauth_access_tokens a JOIN oauth_clients c ON c.id = a.client_id"
                      f" WHERE c.client_id = '{client_id}'") == 1
