"""The bearer hot path (issue 8, ``web/fast_lane.py``) answers ``GET /api/1.0/users/me`` from memory once a
token's principal is cached. Seen from outside it must be indistinguishable from the full route
(RFC 6750 §2.1 use, §3.1 errors): the same bytes and headers before and after the cache is warm, every
refusal still refused with its own error, and changes to the user or token seen at once. That it
answers at all is what ``/metrics`` shows an operator (``authgate_fast_lane_answers_total``).
"""

from __future__ import annotations

import time

import pytest
import requests

from support import Api, password_grant, revoke, token_request, user_via_api, users_me

VARYING = {"date", "x-request-id"}
ANSWERS = 'authgate_fast_lane_answers_total{route="/api/1.0/users/me"}'
PUBLISHED_WITHIN = 1.5
"""The lane's counts reach /metrics from the background thread: every second, on a 0.5 s tick."""


def _answer(response) -> tuple:
    headers = sorted((k.lower(), v) for k, v in response.headers.items() if k.lower() not in VARYING)
    return response.status_code, response.content, headers


@pytest.fixture(scope="module")
def app(server):
    return server.create_client(grants=["password", "client_credentials"])


@pytest.fixture
def user(admin):
    return user_via_api(admin)


def _jwt(server, app, user, scope="users:read") -> str:
    response = password_grant(server, app, user, scope=scope)
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def test_first_answer_from_the_database_and_later_ones_from_memory_are_identical(server, app, user):
    for token in (_jwt(server, app, user), server.create_pat(user.username, scopes=["users:read"])["token"]):
        first = users_me(server, token)
        assert first.status_code == 200, first.text
        assert first.json()["username"] == user.username
        for _ in range(3):
            assert _answer(users_me(server, token)) == _answer(first)


def test_refusals_are_not_answered_from_memory(server, app, user):
    """RFC 6750 §3.1: a cached, valid token without the scope, or without a user, is still refused."""
    wrong_scope = _jwt(server, app, user, scope="groups:read")
    no_user = token_request(server, {"grant_type": "client_credentials", "scope": "users:read"}, auth=app.basic)
    assert no_user.status_code == 200, no_user.text
    for token, status in ((wrong_scope, 403), (no_user.json()["access_token"], 403), ("not-a-token", 401)):
        answers = [users_me(server, token) for _ in range(3)]
        assert {a.status_code for a in answers} == {status}, [a.text for a in answers]
        assert "Bearer" in answers[-1].headers["WWW-Authenticate"]
    assert users_me(server, None).status_code == 401


def test_a_query_string_or_another_method_gets_the_full_route(server, app, user):
    token = _jwt(server, app, user)
    plain = users_me(server, token)
    api = Api(server, token)
    assert _answer(api.get("/users/me", params={"include": "x"})) == _answer(plain)
    assert api.request("POST", "/users/me").status_code == 405


def test_changes_to_the_user_and_the_token_are_seen_by_the_warm_path(server, admin, app, user):
    token = _jwt(server, app, user)
    assert users_me(server, token).status_code == 200
    admin.ok("PUT", f"/users/{user.id}", json={"firstname": "Renamed"})
    assert users_me(server, token).json()["firstname"] == "Renamed"
    assert revoke(server, app, token).status_code == 200
    assert users_me(server, token).status_code == 401

    other = _jwt(server, app, user)
    assert users_me(server, other).status_code == 200
    admin.ok("PUT", f"/users/{user.id}", json={"status": "INACTIVE"})
    assert users_me(server, other).status_code == 401


def _fast_answers(server) -> float:
    text = requests.get(server.url("/metrics"), timeout=5).text
    values = [float(line.split()[-1]) for line in text.splitlines() if line.startswith(ANSWERS + " ")]
    assert values, f"{ANSWERS} is not on /metrics"
    return values[0]


def _settled_answers(server) -> float:
    """The count once what earlier tests' requests added has reached /metrics."""
    seen = _fast_answers(server)
    for _ in range(10):
        time.sleep(PUBLISHED_WITHIN + 0.2)
        now = _fast_answers(server)
        if now == seen:
            return now
        seen = now
    raise AssertionError("the fast lane's count on /metrics never settled")


def test_warm_reads_are_answered_by_the_fast_lane_as_metrics_show(server, app, user):
    """The first use of a token goes through the full route (its user is read); later ones are answered
    by the fast lane, and /metrics counts exactly those. A read may still fall through while the
    revocation cache is catching up with a late poll (a loaded machine), so most, not all, must be
    the lane's; none may be counted twice."""
    token = _jwt(server, app, user)
    assert users_me(server, token).status_code == 200
    before = _settled_answers(server)
    reads = 10
    for _ in range(reads):
        assert users_me(server, token).status_code == 200
    deadline = time.monotonic() + 10 * PUBLISHED_WITHIN
    while _fast_answers(server) < before + reads and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(PUBLISHED_WITHIN)
    answered = _fast_answers(server) - before
    assert reads // 2 < answered <= reads, answered
