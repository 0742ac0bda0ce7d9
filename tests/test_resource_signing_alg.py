"""A signing algorithm per resource server (RFC 9068 §2.1: RS256 is the default every verifier supports; a
resource may opt in to PS256, ES256 or EdDSA). Its access tokens are signed by a key of that algorithm,
published in the JWKS (RFC 7517 §5) under the ``kid`` of their header (RFC 7515 §4.1.4); tokens for other
audiences stay RS256; `authgate keys rotate --for-resources` replaces those keys while the retired one stays
published as long as a token it signed may live, which for a resource can be longer than the default.
Runs on its own server: it makes and rotates keys. Real server over HTTP, the CLI as the operator uses it."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import requests
from joserfc import jwt
from joserfc.jwk import KeySet

from support.api import admin_api
from support.oauth import token_request
from support.values import eventually, jwt_parts, unique

DEFAULT_TTL = 60
RESOURCE_TTL = 7200  # longer than the server's default: the retired key must outlive it


@pytest.fixture(scope="module")
def srv(server_factory):
    return server_factory({"AUTHGATE_ACCESS_TOKEN_TTL": str(DEFAULT_TTL)})


@pytest.fixture(scope="module")
def app(srv):
    return srv.create_client(grants=["client_credentials"])


def register(srv, *extra: str) -> str:
    identifier = f"https://{unique('api')}.example.com/v1"
    srv.cli_json("resources", "create", "--identifier", identifier, "--name", identifier, "--scope", "read", *extra)
    return identifier


def token(srv, app, *resources: str) -> str:
    data = [("grant_type", "client_credentials")] + [("resource", r) for r in resources]
    r = token_request(srv, data, auth=app.basic)
    assert r.status_code == 200, r.text
    return r.json()["access_token"]


def jwks(srv) -> dict:
    r = requests.get(srv.url("/oauth/jwks"), timeout=10)
    assert r.status_code == 200
    return r.json()


def verify(srv, tok: str) -> tuple[dict, dict]:
    """The header and claims of ``tok``, verified with the published key its ``kid`` names, of its ``alg`` only."""
    header, _ = jwt_parts(tok)
    published = {k["kid"]: k for k in jwks(srv)["keys"]}
    assert header["kid"] in published, "the kid of the token is not in the JWKS"
    key = published[header["kid"]]
    assert key["alg"] == header["alg"]
    decoded = jwt.decode(tok, KeySet.import_key_set({"keys": [key]}), algorithms=[header["alg"]])
    return decoded.header, decoded.claims


@pytest.mark.parametrize("alg,kty", [("ES256", "EC"), ("EdDSA", "OKP"), ("PS256", "RSA")])
def test_token_for_a_resource_that_chose_an_algorithm_is_signed_with_it_rfc9068_2_1(srv, app, alg, kty):
    chosen = register(srv)
    changed = srv.cli_json("resources", "update", chosen, "--signing-alg", alg.lower())
    assert changed["signing_alg"] == alg
    header, claims = verify(srv, token(srv, app, chosen))
    assert header["alg"] == alg and header["typ"] == "at+jwt" and claims["aud"] == [chosen]
    assert {k["kid"]: k for k in jwks(srv)["keys"]}[header["kid"]]["kty"] == kty
    reserved = {k["kid"]: k for k in srv.cli_json("keys", "list")["keys"]}[header["kid"]]
    assert reserved["reserved_for"] == "resources" and reserved["status"] == "active"


def test_tokens_for_other_audiences_stay_rs256_rfc9068_2_1(srv, app):
    chosen, other = register(srv, "--signing-alg", "ES256"), register(srv)
    assert verify(srv, token(srv, app, chosen))[0]["alg"] == "ES256"
    for tok in (token(srv, app, other), token(srv, app)):
        header, _ = verify(srv, tok)
        assert header["alg"] == "RS256"
    assert verify(srv, token(srv, app, chosen, other))[0]["alg"] == "RS256"  # they differ: the one all support


def test_resource_signing_alg_through_the_api(srv):
    admin = admin_api(srv)
    made = admin.ok("POST", "/resources", 201, json={"identifier": f"https://{unique('api')}.example.com",
                                                     "name": "Orders", "signing_alg": "EdDSA"})
    assert made["signing_alg"] == "EdDSA"
    assert admin.ok("PUT", f"/resources/{made['id']}", json={"signing_alg": "ES256"})["signing_alg"] == "ES256"
    refused = admin.request("PUT", f"/resources/{made['id']}", json={"signing_alg": "HS256"})
    assert refused.status_code == 422 and "signing_alg" in refused.text
    assert register(srv) and srv.cli_json("resources", "show", made["identifier"])["signing_alg"] == "ES256"


def test_rotation_for_resources_keeps_the_old_kid_published_while_its_tokens_live_rfc7517_5(srv, app):
    chosen = register(srv, "--signing-alg", "ES256", "--access-token-ttl", str(RESOURCE_TTL))
    old_token = token(srv, app, chosen)
    old_kid = jwt_parts(old_token)[0]["kid"]
    general_before = {k["kid"] for k in srv.cli_json("keys", "list")["keys"]
                      if k["reserved_for"] is None and k["status"] == "active"}

    rotated = srv.cli_json("keys", "rotate", "--for-resources", "--now")["keys"]
    new_kids = {k["kid"] for k in rotated if k["alg"] == "ES256"}
    assert len(new_kids) == 1 and old_kid not in new_kids
    new_token = eventually(lambda: token(srv, app, chosen), lambda t: jwt_parts(t)[0]["kid"] in new_kids)
    assert verify(srv, new_token)[0]["kid"] in new_kids
    assert verify(srv, old_token)[1]["aud"] == [chosen]  # the old kid is still in the JWKS

    listed = {k["kid"]: k for k in srv.cli_json("keys", "list")["keys"]}
    old = listed[old_kid]
    assert old["status"] == "published"
    retired, until = datetime.fromisoformat(old["retired_at"]), datetime.fromisoformat(old["published_until"])
    assert until - retired >= timedelta(seconds=RESOURCE_TTL)  # the resource's lifetime, not the default's
    assert general_before <= {kid for kid, k in listed.items() if k["status"] == "active"}  # untouched

    srv.cli_json("keys", "rotate", "--now")  # an ordinary rotation leaves the resources' keys signing
    listed = {k["kid"]: k for k in srv.cli_json("keys", "list")["keys"]}
    assert all(listed[kid]["status"] == "active" for kid in new_kids)
    assert eventually(lambda: token(srv, app, chosen), lambda t: jwt_parts(t)[0]["kid"] in new_kids)
