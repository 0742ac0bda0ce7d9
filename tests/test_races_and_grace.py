"""Races and the refresh grace window (RFC 9700 §4.14.2, RFC 6749 §4.1.2 / §10.5):
concurrent exchanges of one code give exactly one token; concurrent uses of one refresh token give
one new pair (retries inside the grace window get that same pair) and leave one live family;
a retry after the window, or any reuse with the window off, revokes the family; hundreds of
concurrent client-credentials requests all succeed; a password being checked (password grant,
sign-in) holds up no other write, so on SQLite password checks no longer run one at a time.
Run on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from support import Browser, code_flow_tokens, exchange_code, get_code, password_grant, refresh, token_request, unique, users_me

GRACE = 3


@pytest.fixture(scope="module")
def strict(server_factory):
    return server_factory({"AUTHGATE_REFRESH_GRACE_SECONDS": "0"})


@pytest.fixture(scope="module")
def lenient(server_factory):
    return server_factory({"AUTHGATE_REFRESH_GRACE_SECONDS": str(GRACE)})


def at_once(n: int, call):
    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(lambda _: call(), range(n)))


def test_twenty_concurrent_code_exchanges_give_one_token(strict):
    client = strict.create_client(redirect_uris=["https://race.example.org/cb"])
    user = strict.create_user()
    code = get_code(strict, client, user)
    results = at_once(20, lambda: exchange_code(strict, client, code))
    ok = [r for r in results if r.status_code == 200]
    assert len(ok) <= 1
    assert all(r.status_code == 400 and r.json()["error"] == "invalid_grant" for r in results if r.status_code != 200)
    if ok:
        # the replays revoke what the winner got (RFC 6749 §4.1.2)
        assert users_me(strict, ok[0].json()["access_token"]).status_code == 401


def test_twenty_concurrent_refreshes_without_grace_leave_no_live_family(strict):
    client = strict.create_client(grants=["password"])
    first = password_grant(strict, client, strict.create_user()).json()
    results = at_once(20, lambda: refresh(strict, client, first["refresh_token"]))
    ok = [r.json() for r in results if r.status_code == 200]
    assert len(ok) <= 1
    for pair in ok:
        # reuse by the losers revoked the family, the winner's pair included
        assert refresh(strict, client, pair["refresh_token"]).json()["error"] == "invalid_grant"
        assert users_me(strict, pair["access_token"]).status_code == 401


def test_twenty_concurrent_refreshes_within_grace_get_one_pair(lenient):
    client = lenient.create_client(grants=["password"])
    first = password_grant(lenient, client, lenient.create_user()).json()
    results = at_once(20, lambda: refresh(lenient, client, first["refresh_token"]))
    assert [r.status_code for r in results] == [200] * 20, [r.text for r in results if r.status_code != 200][:2]
    pairs = {(r.json()["access_token"], r.json()["refresh_token"]) for r in results}
    assert len(pairs) == 1, "one rotation, replayed to every retry"
    access, new_refresh = pairs.pop()
    assert users_me(lenient, access).status_code == 200
    assert refresh(lenient, client, new_refresh).status_code == 200, "the family is alive"


def test_retry_after_the_grace_window_revokes_the_family(lenient):
    client = lenient.create_client(grants=["password"])
    first = password_grant(lenient, client, lenient.create_user()).json()
    second = refresh(lenient, client, first["refresh_token"]).json()
    time.sleep(GRACE + 1.5)
    late = refresh(lenient, client, first["refresh_token"])
    assert late.status_code == 400 and late.json()["error"] == "invalid_grant"
    assert refresh(lenient, client, second["refresh_token"]).json()["error"] == "invalid_grant"


def test_retry_before_the_successor_is_used_gets_the_same_pair_rfc9700_4_14_2(lenient):
    """The grace window is for a lost response: until the new refresh token is used, the old one
    gets the same pair back, and the family lives on."""
    client = lenient.create_client(grants=["password"])
    first = password_grant(lenient, client, lenient.create_user()).json()
    second = refresh(lenient, client, first["refresh_token"]).json()
    retry = refresh(lenient, client, first["refresh_token"])
    assert retry.status_code == 200, retry.text
    assert (retry.json()["access_token"], retry.json()["refresh_token"]) == (second["access_token"],
                                                                              second["refresh_token"])
    assert refresh(lenient, client, second["refresh_token"]).status_code == 200


def test_reuse_after_the_successor_was_used_revokes_the_family_rfc9700_4_14_2(lenient):
    """Rotate t0 -> t1, use t1 -> t2, present t0 inside the grace window: the client that lost a
    response would present t1, not t0, once it had t1; so this is theft. Refused, and t2 and every
    access token of the family stop working."""
    client = lenient.create_client(grants=["password"])
    t0 = password_grant(lenient, client, lenient.create_user()).json()
    t1 = refresh(lenient, client, t0["refresh_token"]).json()
    t2 = refresh(lenient, client, t1["refresh_token"])
    assert t2.status_code == 200, t2.text
    t2 = t2.json()
    stolen = refresh(lenient, client, t0["refresh_token"])
    assert stolen.status_code == 400 and stolen.json()["error"] == "invalid_grant", stolen.text
    assert "access_token" not in stolen.json()
    assert refresh(lenient, client, t2["refresh_token"]).json()["error"] == "invalid_grant"
    for pair in (t0, t1, t2):
        assert users_me(lenient, pair["access_token"]).status_code == 401


def test_grace_replay_needs_the_same_client(lenient):
    owner = lenient.create_client(grants=["password"])
    thief = lenient.create_client(grants=["password"])
    first = password_grant(lenient, owner, lenient.create_user()).json()
    assert refresh(lenient, owner, first["refresh_token"]).status_code == 200
    assert refresh(lenient, thief, first["refresh_token"]).json()["error"] == "invalid_grant"


def test_two_hundred_concurrent_client_credentials_requests_all_succeed(strict):
    client = strict.create_client(grants=["client_credentials"])
    results = at_once(
        32, lambda: [token_request(strict, {"grant_type": "client_credentials"}, auth=client.basic).status_code
                     for _ in range(7)]
    )
    statuses = [s for batch in results for s in batch][:200]
    assert len(statuses) >= 200 and set(statuses) == {200}


def test_code_exchange_race_on_the_same_family_keeps_other_families(strict):
    client = strict.create_client(redirect_uris=["https://race2.example.org/cb"])
    user = strict.create_user()
    other = code_flow_tokens(strict, client, user)
    code = get_code(strict, client, user)
    at_once(10, lambda: exchange_code(strict, client, code))
    assert users_me(strict, other["access_token"]).status_code == 200


SLOW_ARGON2 = {"AUTHGATE_ARGON2_TIME_COST": "200"}
"""About two and a half seconds a password check (at the tests' 8 MiB): time to send a request meanwhile."""


def _finishes_first(slow, probe) -> list[str]:
    """Start ``slow``, send ``probe`` once it is under way; the names in the order they were answered."""
    answered: list[str] = []
    worker = threading.Thread(target=lambda: (slow(), answered.append("password check")))
    worker.start()
    time.sleep(0.5)
    probe()
    answered.append("client_credentials")
    worker.join()
    return answered


@pytest.fixture(scope="module")
def slow_hashing(server_factory):
    srv = server_factory(SLOW_ARGON2)
    return srv, srv.create_user(), srv.create_client(grants=["password"]), srv.create_client(grants=["client_credentials"])


def _client_credentials(srv, service):
    response = token_request(srv, {"grant_type": "client_credentials"}, auth=service.basic)
    assert response.status_code == 200, response.text


def test_password_grant_being_checked_holds_up_no_other_token_rfc6749_4_3(slow_hashing):
    """The password is verified before the write transaction opens: a client_credentials token
    (RFC 6749 §4.4) is issued while a password grant (§4.3) is still hashing."""
    srv, user, app, service = slow_hashing

    def slow():
        assert password_grant(srv, app, user).status_code == 200

    assert _finishes_first(slow, lambda: _client_credentials(srv, service)) == ["client_credentials", "password check"]


def test_sign_in_being_checked_holds_up_no_other_token(slow_hashing):
    srv, user, _, service = slow_hashing
    browser = Browser(srv)
    page, form = browser.login_page()

    def slow():
        assert browser.submit_login(page, form, user.username, user.password).status_code == 303

    assert _finishes_first(slow, lambda: _client_credentials(srv, service)) == ["client_credentials", "password check"]


def test_concurrent_sign_ups_of_one_name_in_different_cases_make_one_user(server, admin):
    """Names are one name whatever their case (``Lucy`` = ``lucy``): creating it six times at once, each
    spelled differently, makes one user and five 409s, on PostgreSQL as on SQLite (the check and the
    insert run under one lock, or two writers both see the name free)."""
    name = unique("race")
    spellings = iter([name, name.upper(), name.title(), name.swapcase(), name.capitalize(), name[:1].upper() + name[1:]])
    lock = threading.Lock()

    def create():
        with lock:
            spelled = next(spellings)
        return admin.post("/users", json={"username": spelled, "email": f"{spelled}@race.example.org",
                                          "firstname": "R", "lastname": "Ace", "password": "pw-Race-12345678",
                                          "status": "ACTIVE"})

    results = at_once(6, create)
    assert sorted(r.status_code for r in results) == [201] + [409] * 5, [r.text[:200] for r in results]
    assert admin.ok("GET", "/users", params={"filter": name})["meta"]["total"] == 1
