"""Signing keys and their rotation: `authgate keys list|rotate` (RS256 by
default, ES256 and EdDSA selectable), `kid` in every JWT header (RFC 7515
§4.1.4) naming a key of the JWKS (RFC 7517 §5), old keys published — and
accepted by the bearer check — until every token they signed has expired,
then dropped. Runs on its own server: rotating changes the algorithm.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import pytest
import requests
from joserfc import jwt
from joserfc.jwk import KeySet

from support import jwt_parts, password_grant, users_me, eventually

TTL = 4
LONG_TTL = 120  # for tests that must outlast a few CLI calls on a loaded machine


@pytest.fixture(scope="module")
def srv(server_factory):
    return server_factory({"AUTHGATE_ACCESS_TOKEN_TTL": str(TTL)})


@pytest.fixture(scope="module")
def long_srv(server_factory):
    return server_factory({"AUTHGATE_ACCESS_TOKEN_TTL": str(LONG_TTL)})


@pytest.fixture(scope="module")
def long_srv_user_and_app(long_srv):
    return long_srv.create_user(), long_srv.create_client(grants=["password"])


@pytest.fixture(scope="module")
def user(srv):
    return srv.create_user()


@pytest.fixture(scope="module")
def app(srv):
    return srv.create_client(grants=["password"])


def access_token(srv, app, user) -> str:
    resp = password_grant(srv, app, user, scope="users:read")
    assert resp.status_code == 200, resp.text
    return resp.json()["access_token"]


def jwks(srv) -> dict:
    return requests.get(srv.url("/oauth/jwks"), timeout=10).json()


def keys(srv) -> list[dict]:
    return srv.cli_json("keys", "list")["keys"]


def verify_with_jwks(srv, token):
    header, _ = jwt_parts(token)
    return jwt.decode(token, KeySet.import_key_set(jwks(srv)), algorithms=[header["alg"]]).claims


def test_one_active_rs256_key_at_first_start(srv, app, user):
    listed = keys(srv)
    assert [k["status"] for k in listed] == ["active"] and listed[0]["alg"] == "RS256"
    header, _ = jwt_parts(access_token(srv, app, user))
    assert header["kid"] == listed[0]["kid"]
    assert [k["kid"] for k in jwks(srv)["keys"]] == [listed[0]["kid"]]


@pytest.mark.parametrize("alg,kty", [("ES256", "EC"), ("EdDSA", "OKP"), ("RS256", "RSA")])
def test_rotate_keeps_old_tokens_working_rfc7517_5(long_srv, long_srv_user_and_app, alg, kty):
    srv, (user, app) = long_srv, long_srv_user_and_app
    old_token = access_token(srv, app, user)
    old_kid = jwt_parts(old_token)[0]["kid"]
    rotated = srv.cli_json("keys", "rotate", "--alg", alg, "--now")
    assert rotated["alg"] == alg and rotated["status"] == "active" and rotated["kid"] != old_kid

    new_token = eventually(lambda: access_token(srv, app, user), lambda t: jwt_parts(t)[0]["kid"] == rotated["kid"])
    header, _ = jwt_parts(new_token)
    assert header["kid"] == rotated["kid"] and header["alg"] == alg
    published = {k["kid"]: k for k in jwks(srv)["keys"]}
    assert published[rotated["kid"]]["kty"] == kty and published[rotated["kid"]]["alg"] == alg
    assert old_kid in published
    assert all("d" not in k for k in published.values())  # public parts only
    for token in (old_token, new_token):
        r = users_me(srv, token)
        assert r.status_code == 200, (r.text, time.time() - jwt_parts(token)[1]["iat"])
        assert verify_with_jwks(srv, token)["sub"] == str(user.id)

    listed = {k["kid"]: k for k in keys(srv)}
    old = listed[old_kid]
    if old["alg"] == "RS256" and alg != "RS256":
        assert old["status"] == "active" and old["signs"] == ["id_tokens"]  # ID tokens stay RS256
    else:
        assert old["status"] == "published"
        retired, until = datetime.fromisoformat(old["retired_at"]), datetime.fromisoformat(old["published_until"])
        assert until - retired == timedelta(seconds=LONG_TTL)  # retired_at + the longest token lifetime


def test_retired_key_is_dropped_once_its_tokens_expired(srv, app, user):
    old_token = access_token(srv, app, user)
    old_kid = jwt_parts(old_token)[0]["kid"]
    srv.cli_json("keys", "rotate", "--now")
    assert old_kid in {k["kid"] for k in jwks(srv)["keys"]}
    time.sleep(TTL + 1)
    assert old_kid not in {k["kid"] for k in jwks(srv)["keys"]}
    assert {k["kid"]: k["status"] for k in keys(srv)}[old_kid] == "expired"
    assert users_me(srv, old_token).status_code == 401
    assert users_me(srv, access_token(srv, app, user)).status_code == 200


def test_unknown_algorithm_is_refused(srv):
    before = keys(srv)
    proc = srv.cli("keys", "rotate", "--alg", "HS256")
    assert proc.returncode != 0 and "invalid choice: 'HS256'" in proc.stderr and "Traceback" not in proc.stderr
    assert keys(srv) == before


def test_keys_list_text(srv):
    proc = srv.cli("keys", "list")
    assert proc.returncode == 0 and "active" in proc.stdout


def test_no_key_id_reads_as_a_command_line_option():
    """`authgate keys remove KID` takes the id as written: an id starting with ``-`` would be read as an option
    (one in 64 random ids did)."""
    from authgate.services.credentials.keys import new_kid

    assert not [kid for kid in (new_kid() for _ in range(5000)) if kid.startswith("-")]


def test_a_database_rotated_off_rs256_gets_an_rs256_key_for_id_tokens_at_start_oidc_discovery_3(server_factory):
    """A database rotated to ES256 before rotations kept the RS256 key (its RS256 key retired, then removed): ID
    tokens must still be RS256 (OpenID Connect Discovery 1.0 §3, Core §15.1: the default algorithm every relying
    party supports), so the next start adds an RS256 key for them, and access tokens stay ES256."""
    from sqlalchemy import create_engine, text

    from test_oidc_core import tokens_for

    srv = server_factory({})
    srv.cli_json("keys", "rotate", "--now", "--alg", "ES256")
    [rsa] = [k["kid"] for k in keys(srv) if k["alg"] == "RS256"]
    engine = create_engine(srv.db.url)
    with engine.begin() as c:  # as the rotations before that rule left it
        c.execute(text("UPDATE signing_keys SET retired_at = :at WHERE kid = :kid"),
                  {"at": datetime(2026, 1, 1), "kid": rsa})
    engine.dispose()
    srv.cli_json("keys", "remove", rsa)
    srv.stop(drop_database=False)
    srv.start()

    listed = keys(srv)
    [new_rsa] = [k for k in listed if k["alg"] == "RS256"]
    assert new_rsa["status"] == "active" and "id_tokens" in new_rsa["signs"], listed
    user = srv.create_user()
    rp = srv.create_client(redirect_uris=["https://rp.example.org/cb"], grants=["authorization_code"])
    answer = tokens_for(srv, rp, user, scope="openid users:read")
    header = jwt_parts(answer["id_token"])[0]
    assert (header["alg"], header["kid"]) == ("RS256", new_rsa["kid"])
    assert jwt_parts(answer["access_token"])[0]["alg"] == "ES256"
    assert verify_with_jwks(srv, answer["id_token"])["sub"]
    srv.stop(drop_database=False)
    srv.start()
    assert [k["kid"] for k in keys(srv) if k["alg"] == "RS256"] == [new_rsa["kid"]]  # made once
