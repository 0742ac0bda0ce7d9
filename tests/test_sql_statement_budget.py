"""Database work per operation (issue 8 targets; RFC 6750 bearer use, RFC 6749 §4.1 and §4.4 grants).

The server here is ``create_app()`` served by uvicorn in a thread of the test process, on its own
port, driven over real HTTP; a SQLAlchemy event listener on every engine records each statement
sent to the database with the thread that sent it. Transaction control (BEGIN, COMMIT) and
connection set-up (PRAGMA) are not statements of the operation; the background sync thread's
once-a-second query is not either (it is per worker, not per request), so threads named
``authgate-background*`` are left out.
"""

from __future__ import annotations

import os
import threading
import time
from contextlib import contextmanager

import pytest
import requests
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from support import (
    Browser, ServerProcess, authorization_params, exchange_code, introspect, password_grant, pkce_pair,
    get_code, query_params, refresh, revoke, token_request, users_me,
)

NOT_COUNTED = ("BEGIN", "COMMIT", "ROLLBACK", "PRAGMA", "SAVEPOINT", "RELEASE")


class InProcessServer(ServerProcess):
    """The same settings and database as ``ServerProcess``, but the app runs in this process."""

    def start(self, timeout: float = 30.0) -> "InProcessServer":
        import uvicorn

        from authgate.services.runtime import Runtime
        from authgate.settings import load
        from authgate.web.app import create_app

        saved = dict(os.environ)
        os.environ.update({k: v for k, v in self.env.items() if k.startswith("AUTHGATE_")})
        try:
            settings = load("127.0.0.1", self.port)
            runtime = Runtime.open(settings, upgrade=True)
            runtime.first_start()
            runtime.db.dispose()
            app = create_app(settings)
        finally:
            os.environ.clear()
            os.environ.update(saved)
        self._uvicorn = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning",
                                                      access_log=False))
        self._thread = threading.Thread(target=self._uvicorn.run, name="uvicorn-under-test", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._uvicorn.started:
            assert time.monotonic() < deadline, "the in-process server did not start"
            time.sleep(0.05)
        return self

    def stop(self, drop_database: bool = True) -> None:
        self._uvicorn.should_exit = True
        self._thread.join(timeout=10)
        if drop_database:
            self.db.drop()


class Statements:
    def __init__(self):
        self.seen: list[str] = []
        self._lock = threading.Lock()

    def __call__(self, conn, cursor, statement, parameters, context, executemany) -> None:
        if threading.current_thread().name.startswith("authgate-background"):
            return
        if statement.lstrip().upper().startswith(NOT_COUNTED):
            return
        with self._lock:
            self.seen.append(statement)

    def during(self, operation) -> tuple[list[str], object]:
        with self._lock:
            self.seen = []
        result = operation()
        time.sleep(0.05)  # statements after the response (none expected) still land in this window
        with self._lock:
            return list(self.seen), result


@pytest.fixture(scope="module")
def app_server(tmp_path_factory):
    """The refresh grace window at its default (the tests elsewhere turn it off), as a deployment has it."""
    srv = InProcessServer(tmp_path_factory.mktemp("inproc"), env={"AUTHGATE_REFRESH_GRACE_SECONDS": None})
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def statements(app_server):
    recorder = Statements()
    event.listen(Engine, "before_cursor_execute", recorder)
    yield recorder
    event.remove(Engine, "before_cursor_execute", recorder)


@contextmanager
def _sessions_opened():
    """The threads that began a session transaction meanwhile, statements or not (the background thread's
    left out)."""
    opened: list[str] = []

    def began(_session, transaction) -> None:
        if transaction.parent is None and not threading.current_thread().name.startswith("authgate-background"):
            opened.append(threading.current_thread().name)

    event.listen(Session, "after_transaction_create", began)
    try:
        yield opened
    finally:
        time.sleep(0.05)
        event.remove(Session, "after_transaction_create", began)


def _budget(seen: list[str], most: int, what: str) -> None:
    assert len(seen) <= most, f"{what}: {len(seen)} statements, budget {most}:\n" + "\n---\n".join(seen)


def test_jwt_bearer_check_needs_no_query_rfc6750(app_server, statements):
    user = app_server.create_user()
    client = app_server.create_client(grants=["password"])
    token = password_grant(app_server, client, user, scope="users:read").json()["access_token"]
    cold, r = statements.during(lambda: users_me(app_server, token))
    assert r.status_code == 200, r.text
    _budget(cold, 1, "first JWT use (the user is read once per worker)")
    warm, r = statements.during(lambda: users_me(app_server, token))
    assert r.status_code == 200 and r.json()["username"] == user.username
    _budget(warm, 0, "JWT bearer check, user cached")


def test_personal_access_token_needs_at_most_one_query(app_server, statements):
    user = app_server.create_user()
    pat = app_server.create_pat(user.username, scopes=["users:read"])["token"]
    cold, r = statements.during(lambda: users_me(app_server, pat))
    assert r.status_code == 200, r.text
    _budget(cold, 1, "PAT lookup by its hash")
    warm, r = statements.during(lambda: users_me(app_server, pat))
    assert r.status_code == 200
    _budget(warm, 0, "PAT, cached")


def test_introspection_of_a_token_known_in_memory_needs_no_query_rfc7662_2(app_server, statements):
    """The memory-only introspector: once the client, the token and its user are cached, introspection
    is answered without a statement, active and then revoked, as the database would answer it."""
    user = app_server.create_user()
    client = app_server.create_client(grants=["password"])
    token = password_grant(app_server, client, user, scope="users:read").json()["access_token"]
    _, cold = statements.during(lambda: introspect(app_server, client, token))
    assert cold.status_code == 200 and cold.json()["active"] is True, cold.text
    with _sessions_opened() as opened:
        warm, r = statements.during(lambda: introspect(app_server, client, token))
    assert r.status_code == 200 and r.json() == cold.json()
    assert r.headers["Cache-Control"] == "no-store"
    _budget(warm, 0, "introspection, client and token known in memory")
    assert opened == [], "introspection answerable from memory opened a database session"
    assert revoke(app_server, client, token).status_code == 200
    with _sessions_opened() as opened:
        revoked, r = statements.during(lambda: introspect(app_server, client, token))
    assert r.status_code == 200 and r.json() == {"active": False}
    _budget(revoked, 0, "introspection of a token memory knows was revoked")
    assert opened == [], "introspection answerable from memory opened a database session"


def test_revoked_pat_is_refused_at_once_on_this_instance(app_server, statements):
    user = app_server.create_user()
    made = app_server.create_pat(user.username, scopes=["users:read"])
    assert users_me(app_server, made["token"]).status_code == 200
    assert users_me(app_server, made["token"]).status_code == 200  # now cached
    assert app_server.cli("tokens", "revoke", str(made["id"])).returncode == 0
    deadline = time.monotonic() + 1.0
    while users_me(app_server, made["token"]).status_code == 200:
        assert time.monotonic() < deadline, "a revoked PAT was still accepted after 1 s"
        time.sleep(0.05)


def test_client_credentials_at_most_three_statements_rfc6749_4_4(app_server, statements):
    client = app_server.create_client(grants=["client_credentials"])
    data = {"grant_type": "client_credentials"}
    assert token_request(app_server, data, auth=client.basic).status_code == 200
    seen, r = statements.during(lambda: token_request(app_server, data, auth=client.basic))
    assert r.status_code == 200, r.text
    _budget(seen, 3, "client_credentials grant")


def test_authorization_code_flow_at_most_sixteen_statements_rfc6749_4_1(app_server, statements):
    """Sixteen since the consent page carries the client's fingerprint as committed and the answer compares it
    under a lock (RFC 9700 §4.1: an approval is for the client the page showed); one read each."""
    user = app_server.create_user()
    client = app_server.create_client(redirect_uris=["https://app.example.org/cb"], grants=["authorization_code"])
    browser = Browser(app_server)
    browser.login(user)
    verifier, challenge = pkce_pair()
    params = authorization_params(client, challenge=challenge)

    def flow():
        consent = browser.consent_page(params, user)
        location = browser.decide(consent).headers["Location"]
        return exchange_code(app_server, client, query_params(location)["code"], verifier=verifier)

    seen, r = statements.during(flow)
    assert r.status_code == 200, r.text
    assert requests.get(app_server.url("/api/1.0/users/me"),
                        headers={"Authorization": f"Bearer {r.json()['access_token']}"}, timeout=5).status_code == 200
    _budget(seen, 16, "authorize + consent + token")


def test_refresh_with_rotation_at_most_seven_statements_rfc6749_6(app_server, statements):
    """A refresh (RFC 6749 §6) that rotates the token (RFC 9700 §4.14.2): seven since the token is read with
    its family in one statement (eight when the budget was set, issue 19): the token and its family, the
    compare-and-set that spends it, the client check, the access-token, refresh-token and audit inserts, and
    the sealed pair kept for a retry in the grace window (on at its default)."""
    user = app_server.create_user()
    client = app_server.create_client(grants=["password", "refresh_token"])
    first = password_grant(app_server, client, user, scope="users:read").json()
    second = refresh(app_server, client, first["refresh_token"]).json()
    seen, r = statements.during(lambda: refresh(app_server, client, second["refresh_token"]))
    assert r.status_code == 200, r.text
    assert refresh(app_server, client, r.json()["refresh_token"]).status_code == 200
    _budget(seen, 7, "refresh_token grant with rotation")


def test_code_exchange_at_most_seven_statements_rfc6749_4_1_3(app_server, statements):
    """The code exchange alone (RFC 6749 §4.1.3), PKCE (RFC 7636 §4.6): seven, as counted when the budget
    was set (issue 19): the code with its user, the compare-and-set that spends it, the new family, the client
    check, the access-token, refresh-token and audit inserts."""
    user = app_server.create_user()
    client = app_server.create_client(redirect_uris=["https://app.example.org/cb"], grants=["authorization_code"])
    browser = Browser(app_server)
    browser.login(user)
    verifier, challenge = pkce_pair()
    exchange_code(app_server, client, get_code(app_server, client, user, browser, challenge=challenge),
                  verifier=verifier)
    code = get_code(app_server, client, user, browser, challenge=challenge)
    seen, r = statements.during(lambda: exchange_code(app_server, client, code, verifier=verifier))
    assert r.status_code == 200, r.text
    assert users_me(app_server, r.json()["access_token"]).status_code == 200
    _budget(seen, 7, "authorization_code exchange")
