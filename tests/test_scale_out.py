"""Two authgate instances on one PostgreSQL database and one Redis (issue 8, scale-out).

Instances A and B share the issuer (they stand behind one load balancer), the database (signing
keys, sessions, tokens) and Redis (rate limits, the revocation channel). Proved here over HTTP:
a token issued by A works on B; a token revoked on A (RFC 7009) is refused by B within one second
(RFC 6750 §3.1 ``invalid_token``); a client secret renewed on A stops working on B within one second;
a key rotated on A is published by B's JWKS (RFC 7517) and B accepts tokens signed with it; a staged key signs on both from its activation time. Needs PostgreSQL and Redis; skipped, saying which, without them.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import time
from datetime import datetime

import pytest
import requests

from support import PostgresDatabase, ServerProcess, api_for, password_grant, token_request, unique, users_me

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
REDIS = ("127.0.0.1", 6379)
PUBLISH_AHEAD = 30  # outlasts the CLI call that rotates and two grants, on a machine at load 30


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    postgres = os.environ.get("AUTHGATE_TEST_DATABASE_URL") or DEFAULT_POSTGRES
    if not _reachable("127.0.0.1", 5432):
        pytest.skip("two-instance test needs PostgreSQL on 127.0.0.1:5432 (set AUTHGATE_TEST_DATABASE_URL)")
    if not _reachable(*REDIS):
        pytest.skip("two-instance test needs Redis on 127.0.0.1:6379 (.ci/run starts it)")
    database = PostgresDatabase(postgres)
    shared = {"AUTHGATE_REDIS_URL": f"redis://{REDIS[0]}:{REDIS[1]}/0",
              "AUTHGATE_REDIS_PREFIX": unique("scale") + ":", "AUTHGATE_KEY_PUBLISH_AHEAD": str(PUBLISH_AHEAD)}
    a = ServerProcess(tmp_path_factory.mktemp("instance-a"), env=shared)
    b = ServerProcess(tmp_path_factory.mktemp("instance-b"), env=shared)
    for srv in (a, b):
        srv.db.drop()  # the one it made for itself
        srv.db = database
        srv.env["AUTHGATE_DATABASE_URL"] = database.url
    b.env["AUTHGATE_ISSUER"] = b.issuer = a.issuer
    b.env["AUTHGATE_ADMIN_PASSWORD"] = b.admin_password = a.admin_password
    a.start()
    b.start()
    yield a, b
    b.stop(drop_database=False)
    a.stop(drop_database=False)
    database.drop()


def _kid(token: str) -> str:
    header = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))["kid"]


def _within(seconds: float, check) -> float:
    """Seconds until ``check()`` held; fails after ``seconds``."""
    started = time.monotonic()
    while not check():
        assert time.monotonic() - started < seconds, f"not within {seconds} s"
        time.sleep(0.02)
    return time.monotonic() - started


def test_token_issued_by_a_works_on_b_rfc6750(pair):
    a, b = pair
    user = a.create_user()
    client = a.create_client(grants=["password"])
    token = password_grant(a, client, user, scope="users:read").json()["access_token"]
    r = users_me(b, token)
    assert r.status_code == 200 and r.json()["username"] == user.username


def test_revocation_on_a_is_refused_by_b_within_one_second_rfc7009(pair):
    a, b = pair
    user = a.create_user()
    client = a.create_client(grants=["password"])
    token = password_grant(a, client, user, scope="users:read").json()["access_token"]
    assert users_me(b, token).status_code == 200
    assert users_me(b, token).status_code == 200  # B has it cached now
    r = requests.post(a.url("/oauth/revoke"), data={"token": token}, auth=client.basic, timeout=5)
    assert r.status_code == 200, r.text
    _within(1.0, lambda: users_me(b, token).status_code == 401)
    assert users_me(a, token).status_code == 401


def test_client_secret_renewed_on_a_is_refused_by_b_within_one_second_rfc6749_2_3_1(pair):
    a, b = pair
    client = a.create_client(grants=["client_credentials"])
    body = {"grant_type": "client_credentials"}
    for _ in range(2):  # B knows the client now
        assert token_request(b, body, auth=client.basic).status_code == 200
    admin = api_for(a, "admin")
    renewed = admin.ok("POST", f"/oauth/clients/{client.client_id}/secret")["secret"]
    _within(1.0, lambda: token_request(b, body, auth=client.basic).status_code == 401)
    assert token_request(b, body, auth=(client.client_id, renewed)).status_code == 200


def test_key_rotated_on_a_is_published_and_accepted_by_b_rfc7517(pair):
    a, b = pair
    user = a.create_user()
    client = a.create_client(grants=["password"])
    old = password_grant(a, client, user, scope="users:read").json()["access_token"]
    rotated = a.cli_json("keys", "rotate", "--now")
    kid = rotated["kid"]
    assert kid != _kid(old)
    kids = [k["kid"] for k in requests.get(b.url("/oauth/jwks"), timeout=5).json()["keys"]]
    assert kid in kids and _kid(old) in kids

    def issued_with_new_key(srv):
        def check():
            token = password_grant(srv, client, user, scope="users:read").json()["access_token"]
            check.token = token
            return _kid(token) == kid
        return check

    from_a = issued_with_new_key(a)
    _within(1.0, from_a)
    assert users_me(b, from_a.token).status_code == 200
    from_b = issued_with_new_key(b)
    _within(1.0, from_b)
    assert users_me(a, from_b.token).status_code == 200
    assert users_me(b, old).status_code == 200  # the retired key stays trusted until its tokens expire


def test_staged_key_signs_on_both_instances_from_its_activation_time(pair):
    """Staged rotation (issue 12 item 16): a key rotated on A is published by both at once and signs
    on both from its ``activates_at``, with no message between them (the time is in the row)."""
    a, b = pair
    user = a.create_user()
    client = a.create_client(grants=["password"])

    def kid_of_new_token(srv) -> str:
        return _kid(password_grant(srv, client, user, scope="users:read").json()["access_token"])

    rotated = a.cli_json("keys", "rotate")
    kid, starts = rotated["kid"], datetime.fromisoformat(rotated["activates_at"]).timestamp()
    for srv in (a, b):
        assert kid in [k["kid"] for k in requests.get(srv.url("/oauth/jwks"), timeout=5).json()["keys"]]
        signed_by = kid_of_new_token(srv)
        # the token was signed before its answer came: only an answer before activates_at tells
        assert time.time() < starts - 0.5, "too slow to tell: raise PUBLISH_AHEAD"
        assert signed_by != kid, "signing before its activation time"
    time.sleep(max(0.0, starts - time.time()) + 0.2)
    assert kid_of_new_token(a) == kid and kid_of_new_token(b) == kid
