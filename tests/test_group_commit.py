"""Group commit of the token endpoint (performance issue 19): client credentials requests (RFC 6749 §4.4) that
arrive while another one's rows are being committed share the next transaction, and each is answered only
after its rows are written. Every token answered then works (introspection, RFC 7662 §2.2; bearer use,
RFC 6750 §2.1) and has its audit row; when one request of a shared transaction is refused there (its client
was given a new secret meanwhile, RFC 6749 §5.2 ``invalid_client``), the others are still answered with
tokens that work, and the refused one records nothing. Run on SQLite and PostgreSQL (SQLite writes each
request in its own transaction, which must answer the same).

To gather a batch for certain the test holds the database's write for a moment (SQLite: ``BEGIN IMMEDIATE``
on a connection of its own; PostgreSQL: a row lock on the first client), so the first request waits in its
commit while the others arrive.
"""

from __future__ import annotations

import base64
import json
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import pytest

from support import Api, SqliteDatabase, api_for, introspect, libpq_url, token_request


@pytest.fixture(scope="module")
def srv(server_factory):
    return server_factory()


def _jti(jwt: str) -> str:
    payload = jwt.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["jti"]


def _issued(srv, client) -> list[str]:
    """The subjects (``jti``) of the client's ``token.issued`` audit rows."""
    r = api_for(srv, "admin").get("/security_logs", params={"per_page": 100, "filter": client.client_id})
    assert r.status_code == 200, r.text
    return sorted(e["subject"] for e in r.json()["data"] if e["event"] == "token.issued")


def _token(srv, client):
    return token_request(srv, {"grant_type": "client_credentials"}, auth=client.basic)


def _works(srv, client, token: str) -> None:
    assert introspect(srv, client, token).json()["active"] is True
    me = Api(srv, token).get("/users/me")
    assert me.status_code == 403 and "client credentials" in me.json()["reason"], me.text


@contextmanager
def _write_held(db, first, changed):
    """Hold the database's write until the block ends, then commit a new secret hash for ``changed`` (as another
    instance would, unseen by this server's client cache)."""
    new_secret = ("UPDATE oauth_clients SET secret_hash = substr(secret_hash, 2) || substr(secret_hash, 1, 1) "
                  "WHERE client_id = ")
    if isinstance(db, SqliteDatabase):
        con = sqlite3.connect(db.path, isolation_level=None)
        con.execute("BEGIN IMMEDIATE")
        con.execute(new_secret + "?", (changed.client_id,))
        try:
            yield
        finally:
            con.execute("COMMIT")
            con.close()
        return
    import psycopg

    with psycopg.connect(libpq_url(db.url)) as con:
        con.execute(new_secret + "%s", (changed.client_id,))
        con.execute("SELECT 1 FROM oauth_clients WHERE client_id = %s FOR UPDATE", (first.client_id,))
        yield


def test_concurrent_client_credentials_requests_all_get_tokens_that_work_rfc6749_4_4(srv):
    clients = [srv.create_client(grants=["client_credentials"]) for _ in range(2)]
    with ThreadPoolExecutor(24) as pool:
        answers = list(pool.map(lambda i: (clients[i % 2], _token(srv, clients[i % 2])), range(96)))
    assert [r.status_code for _, r in answers] == [200] * 96, next(r.text for _, r in answers if r.status_code != 200)
    for client in clients:
        tokens = [r.json()["access_token"] for c, r in answers if c is client]
        assert _issued(srv, client) == sorted(_jti(t) for t in tokens)
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda answer: _works(srv, answer[0], answer[1].json()["access_token"]), answers))


def test_a_request_refused_in_a_shared_commit_leaves_the_others_answered_rfc6749_5_2(srv):
    kept, changed = (srv.create_client(grants=["client_credentials"]) for _ in range(2))
    warm = {c.client_id: _token(srv, c).json()["access_token"] for c in (kept, changed)}
    with ThreadPoolExecutor(12) as pool:
        with _write_held(srv.db, kept, changed):
            first = pool.submit(_token, srv, kept)
            time.sleep(1.0)
            batch = [(c, pool.submit(_token, srv, c)) for c in [kept, changed, kept, kept, changed, kept, kept]]
            time.sleep(1.5)
        first = first.result()
        batch = [(c, f.result()) for c, f in batch]
    assert first.status_code == 200, first.text
    for client, answer in batch:
        if client is kept:
            assert answer.status_code == 200, answer.text
        else:
            assert answer.status_code == 401 and answer.json()["error"] == "invalid_client", answer.text
    tokens = [first.json()["access_token"]] + [r.json()["access_token"] for c, r in batch if c is kept]
    for token in tokens:
        _works(srv, kept, token)
    assert _issued(srv, kept) == sorted(_jti(t) for t in [warm[kept.client_id], *tokens])
    assert _issued(srv, changed) == [_jti(warm[changed.client_id])]
