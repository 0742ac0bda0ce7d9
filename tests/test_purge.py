"""Housekeeping (issue 8): ``authgate tokens purge`` deletes what can never be used again — expired
authorization codes (RFC 6749 §4.1.2), access token records, refresh tokens, device codes
(RFC 8628 §3.2), ended sessions, unread shown-once secrets, pending sign-ins — in batches, while the
server keeps serving, and leaves what still works alone.
"""

from __future__ import annotations

import time

import pytest
import requests

from support import Browser, authorization_params, eventually, password_grant, pkce_pair, users_me
from support.registration import register
from test_second_factor_totp import enrol, password_step, second_step
from test_second_factor_totp import signed_in as totp_signed_in
from test_passkeys_webauthn import csrf_of
from test_ui_shown_once import make_token

TTL = {"AUTHGATE_AUTH_CODE_TTL": "1", "AUTHGATE_ACCESS_TOKEN_TTL": "1", "AUTHGATE_REFRESH_TOKEN_TTL": "1",
       "AUTHGATE_DEVICE_CODE_TTL": "1", "AUTHGATE_SESSION_TTL": "3", "AUTHGATE_PURGE_INTERVAL": "0"}


@pytest.fixture(scope="module")
def short(server_factory):
    return server_factory(TTL)


def purge(server, *args) -> dict:
    return server.cli_json("tokens", "purge", *args)["deleted"]


def test_purge_deletes_expired_rows_in_batches(short):
    user = short.create_user()
    client = short.create_client(redirect_uris=["https://app.example.org/cb"],
                                 grants=["authorization_code", "password", "client_credentials", "device_code"])
    assert password_grant(short, client, user, scope="users:read").status_code == 200
    assert requests.post(short.url("/oauth/token"), data={"grant_type": "client_credentials"},
                         auth=client.basic, timeout=10).status_code == 200
    assert requests.post(short.url("/oauth/device"), data={"scope": "users:read"},
                         auth=client.basic, timeout=10).status_code == 200
    _, challenge = pkce_pair()
    Browser(short).authorize(authorization_params(client, challenge=challenge), user)  # a code never exchanged
    time.sleep(3.1)

    deleted = purge(short, "--batch-size", "1")
    assert deleted["authorization_codes"] >= 1
    assert deleted["access_tokens"] >= 2
    assert deleted["refresh_tokens"] >= 1
    assert deleted["device_codes"] >= 1
    assert deleted["sessions"] >= 1
    assert all(n == 0 for n in purge(short).values()), "a second purge found more: the first was incomplete"


def test_purge_leaves_live_tokens_working(server):
    user = server.create_user()
    client = server.create_client(grants=["password"])
    pair = password_grant(server, client, user, scope="users:read").json()
    pat = server.create_pat(user.username, scopes=["users:read"])["token"]
    purge(server)
    assert users_me(server, pair["access_token"]).status_code == 200
    assert users_me(server, pat).status_code == 200
    refreshed = requests.post(server.url("/oauth/token"), auth=client.basic, timeout=10,
                              data={"grant_type": "refresh_token", "refresh_token": pair["refresh_token"]})
    assert refreshed.status_code == 200, refreshed.text


def test_purge_prints_counts(short):
    proc = short.cli("tokens", "purge")
    assert proc.returncode == 0, proc.stderr
    assert "access_tokens: " in proc.stdout and "refresh_tokens: " in proc.stdout


def rows(srv, table: str) -> int:
    """How many rows ``table`` holds, read from the database itself."""
    sections = srv.db.dump_text().split("\n== ")
    body = next(s for s in sections if s.split("\n", 1)[0].split(".")[-1].strip("= ") == table)
    return len([line for line in body.split("\n")[1:] if line.strip()])


def test_the_server_purges_expired_device_codes_by_default_rfc8628_3_2(server_factory):
    """Every device authorization request stores a row; without any setting, a serving authgate
    deletes the expired ones (at start, then every AUTHGATE_PURGE_INTERVAL, 900 s by default)."""
    srv = server_factory({"AUTHGATE_DEVICE_CODE_TTL": "1"})
    client = srv.create_client(grants=["device_code"])
    for _ in range(3):
        assert requests.post(srv.url("/oauth/device"), auth=client.basic, timeout=10).status_code == 200
    assert rows(srv, "oauth_device_codes") == 3
    time.sleep(1.2)
    srv.stop(drop_database=False)
    srv.start()
    assert eventually(lambda: rows(srv, "oauth_device_codes"), lambda n: n == 0, timeout=10) == 0


WAIT = 6
"""Seconds a shown-once secret and a pending sign-in live on the server below: long enough for the steps
that must finish within them on a loaded machine."""


def test_purge_deletes_unread_shown_once_secrets_and_pending_sign_ins_after_their_lifetimes(server_factory):
    """A token made on the profile page and never shown waits in ``shown_once_slots``, a right password for
    an account with a second factor and no code after it in ``pending_sign_ins``: once
    AUTHGATE_SHOWN_ONCE_SECONDS and AUTHGATE_PENDING_SIGN_IN_SECONDS have passed, the purge deletes them
    (until then, only the next such row made dropped them); it keeps those still waiting, which still work."""
    srv = server_factory({"AUTHGATE_SHOWN_ONCE_SECONDS": str(WAIT), "AUTHGATE_PENDING_SIGN_IN_SECONDS": str(WAIT),
                          "AUTHGATE_PURGE_INTERVAL": "0"})
    user = srv.create_user()
    own = totp_signed_in(srv, user)
    _, codes = enrol(own)
    assert make_token(own, "never shown").status_code == 303
    password_step(srv, user)  # no code follows
    assert purge(srv)["shown_once_slots"] == 0
    assert (rows(srv, "shown_once_slots"), rows(srv, "pending_sign_ins")) == (1, 1)
    time.sleep(WAIT + 0.5)
    deleted = purge(srv)
    assert (deleted["shown_once_slots"], deleted["pending_sign_ins"]) == (1, 1)
    assert (rows(srv, "shown_once_slots"), rows(srv, "pending_sign_ins")) == (0, 0)

    assert make_token(own, "still waiting").status_code == 303
    waiting = password_step(srv, user)
    assert purge(srv)["pending_sign_ins"] == 0
    assert (rows(srv, "shown_once_slots"), rows(srv, "pending_sign_ins")) == (1, 1)
    shown = own.get("/shown-once")
    assert shown.status_code == 200 and "agp_" in shown.text
    assert second_step(waiting, codes[0]).status_code == 303
    assert waiting.get("/profile").status_code == 200


def test_purge_deletes_expired_initial_access_tokens_and_pushed_requests_rfc7591_3_rfc9126_2_2(server_factory):
    """An operator's initial access token (RFC 7591 section 3) past its ``--expires-in`` or with no
    registration left, and a pushed authorization request (RFC 9126 section 2.2) past ``expires_in``, can
    never be used again: the purge deletes them, and keeps a token that still allows registrations."""
    srv = server_factory({"AUTHGATE_REGISTRATION": "token", "AUTHGATE_PAR_SECONDS": "1", "AUTHGATE_PURGE_INTERVAL": "0"})
    srv.commands.run_json("registration", "token", "create", "--expires-in", "1")
    spent = srv.commands.run_json("registration", "token", "create", "--uses", "1")["token"]
    live = srv.commands.run_json("registration", "token", "create", "--uses", "2")["token"]
    assert register(srv, {"client_name": "one", "redirect_uris": ["https://one.example.org/cb"]}, spent).status_code == 201
    app = srv.create_client(grants=["authorization_code"], redirect_uris=["https://par.example.org/cb"])
    _, challenge = pkce_pair()
    assert requests.post(srv.url("/oauth/par"), data=authorization_params(app, challenge=challenge),
                         auth=app.basic, timeout=10).status_code == 201
    assert (rows(srv, "registration_tokens"), rows(srv, "pushed_authorization_requests")) == (3, 1)
    time.sleep(1.5)

    deleted = purge(srv)
    assert (deleted["initial_access_tokens"], deleted["pushed_requests"]) == (2, 1)
    assert (rows(srv, "registration_tokens"), rows(srv, "pushed_authorization_requests")) == (1, 0)
    assert register(srv, {"client_name": "two", "redirect_uris": ["https://two.example.org/cb"]}, live).status_code == 201


def test_every_expiry_the_purge_deletes_by_is_indexed(server):
    """The purge deletes in batches by ``expires_at`` (``storage/repositories/purge.py``): without an index each
    batch reads the whole table. Initial access tokens (``registration_tokens``) had none. Read from the session's
    server, whose database ``serve`` migrated itself."""
    from sqlalchemy import create_engine, inspect

    engine = create_engine(server.db.url)
    try:
        schema = inspect(engine)
        unindexed = [table for table in schema.get_table_names()
                     if "expires_at" in {c["name"] for c in schema.get_columns(table)}
                     and ["expires_at"] not in [i["column_names"] for i in schema.get_indexes(table)]]
    finally:
        engine.dispose()
    assert unindexed == [], unindexed


def test_purge_deletes_expired_passkey_challenges_webauthn_13_4_3(server_factory):
    """Every passkey ceremony stores its challenge (W3C WebAuthn §13.4.3: random, used once), also for a visitor
    nobody knows yet (``/login/passkey/options``). Past AUTHGATE_WEBAUTHN_CHALLENGE_SECONDS the purge deletes
    the unused ones (until then only the next challenge made dropped them); it keeps a challenge still good."""
    srv = server_factory({"AUTHGATE_WEBAUTHN_CHALLENGE_SECONDS": str(WAIT), "AUTHGATE_PURGE_INTERVAL": "0",
                          "AUTHGATE_LIMIT_LOGIN_PER_IP": "10000/300"}, host="localhost")
    visitor = Browser(srv)
    token = csrf_of(visitor.get("/login"), "/login")

    def challenge() -> dict:
        r = visitor.post("/login/passkey/options", data={"csrf_token": token})
        assert r.status_code == 200, r.text[:300]
        return r.json()

    assert challenge()["timeout"] == WAIT * 1000 and challenge()["challenge"]
    assert rows(srv, "webauthn_challenges") == 2
    time.sleep(WAIT + 0.5)
    assert purge(srv)["webauthn_challenges"] == 2
    assert rows(srv, "webauthn_challenges") == 0

    challenge()
    assert purge(srv)["webauthn_challenges"] == 0
    assert rows(srv, "webauthn_challenges") == 1
