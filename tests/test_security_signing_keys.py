"""Signing keys as relying parties and resource servers meet them (issue 12, items 15 and 16):

- ID tokens stay RS256 after `keys rotate --alg ES256` (OpenID Connect Discovery 1.0 §3, Core 1.0
  §15.1: RS256 must be supported), checked by PyJWT from `jwks_uri` knowing only RS256;
- staged rotation: a rotated-in key is published before it signs (`AUTHGATE_KEY_PUBLISH_AHEAD`), so a
  verifier that caches the JWKS and refetches on an unknown `kid` only after a cooldown (PyJWT's
  `PyJWKClient`, jose) never meets a token it cannot verify;
- a token once verified (and cached by the bearer check) is refused as soon as its key is removed.
Each group runs on its own server: rotating changes what signs.
"""

from __future__ import annotations

import secrets
import time
from datetime import datetime, timezone

import jwt as pyjwt
import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session as AuthlibSession

from support import Browser, eventually, jwt_parts, password_grant, unique, users_me

PUBLISH_AHEAD = 15  # longer than the verifier's JWKS cache below, which outlasts a CLI call
VERIFIER_CACHE = 10


def password_token(srv, client, user) -> str:
    resp = password_grant(srv, client, user, scope="users:read")
    assert resp.status_code == 200, resp.text
    return resp.json()["access_token"]


def keys(srv) -> dict[str, dict]:
    return {k["kid"]: k for k in srv.cli_json("keys", "list")["keys"]}


def published_kids(srv) -> set[str]:
    return {k["kid"] for k in requests.get(srv.url("/oauth/jwks"), timeout=10).json()["keys"]}


def verifier(srv, **options):
    """A resource server that knows only jwks_uri (PyJWT's PyJWKClient, default 30 s refetch cooldown)."""
    client = pyjwt.PyJWKClient(srv.url("/oauth/jwks"), **options)

    def validate(token: str, algorithms=("RS256", "ES256", "EdDSA"), audience=None) -> dict:
        key = client.get_signing_key_from_jwt(token)
        return pyjwt.decode(token, key.key, algorithms=list(algorithms), audience=audience or srv.issuer,
                            issuer=srv.issuer)
    return validate


# -- ID tokens stay RS256 --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def rp_srv(server_factory):
    return server_factory()


@pytest.fixture(autouse=True)
def insecure_transport_for_localhost(monkeypatch):
    monkeypatch.setenv("AUTHLIB_INSECURE_TRANSPORT", "1")


def test_id_tokens_stay_rs256_after_es256_rotation_oidc_discovery_3_core_15_1(rp_srv):
    user = rp_srv.create_user()
    web = rp_srv.create_client(redirect_uris=[f"https://{unique('rp')}.example.org/cb"],
                               grants=["authorization_code", "password"])
    rotated = rp_srv.cli_json("keys", "rotate", "--alg", "ES256", "--now")
    # an ES256 key also signs for FAPI 2.0 clients (the profile allows PS256, ES256 and EdDSA only)
    assert rotated["alg"] == "ES256" and rotated["signs"] == ["access_tokens", "fapi2"]
    token = eventually(lambda: password_token(rp_srv, web, user), lambda t: jwt_parts(t)[0]["alg"] == "ES256")
    assert jwt_parts(token)[0]["kid"] == rotated["kid"]  # access tokens: the rotated-in ES256 key

    meta = requests.get(rp_srv.url("/.well-known/openid-configuration"), timeout=10).json()
    assert "RS256" in meta["id_token_signing_alg_values_supported"]

    # an OpenID Connect sign-in by Authlib's client, its ID token checked by a verifier that knows only RS256
    nonce, code_verifier = secrets.token_urlsafe(16), secrets.token_urlsafe(48)
    client = AuthlibSession(web.client_id, web.client_secret, scope="openid users:read",
                            redirect_uri=web.redirect_uri, code_challenge_method="S256")
    url, _ = client.create_authorization_url(meta["authorization_endpoint"], nonce=nonce, code_verifier=code_verifier)
    location = Browser(rp_srv).authorize(url, user)
    tokens = client.fetch_token(meta["token_endpoint"], authorization_response=location, code_verifier=code_verifier)
    assert jwt_parts(tokens["id_token"])[0]["alg"] == "RS256"
    claims = verifier(rp_srv)(tokens["id_token"], algorithms=["RS256"], audience=web.client_id)
    assert claims["sub"] == str(user.id) and claims["nonce"] == nonce
    assert jwt_parts(tokens["access_token"])[0]["alg"] == "ES256"

    listed = keys(rp_srv)
    rs256 = [k for k in listed.values() if k["alg"] == "RS256" and k["status"] == "active"]
    assert len(rs256) == 1 and rs256[0]["signs"] == ["id_tokens"]
    assert listed[rotated["kid"]]["signs"] == ["access_tokens", "fapi2"]


# -- staged rotation -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def staged_srv(server_factory):
    return server_factory({"AUTHGATE_KEY_PUBLISH_AHEAD": str(PUBLISH_AHEAD)})


def test_rotated_key_is_published_before_it_signs_so_a_caching_verifier_never_refuses(staged_srv):
    user = staged_srv.create_user()
    app = staged_srv.create_client(grants=["password"])
    # caches the JWKS for VERIFIER_CACHE seconds; an unknown kid refetches only 30 s after the last fetch
    validate = verifier(staged_srv, lifespan=VERIFIER_CACHE)
    before = password_token(staged_srv, app, user)
    old_kid = jwt_parts(before)[0]["kid"]
    assert validate(before)["sub"] == str(user.id)  # the verifier has fetched the JWKS now

    rotated = staged_srv.cli_json("keys", "rotate")
    right_after = password_token(staged_srv, app, user)
    assert validate(right_after)["sub"] == str(user.id)  # from the JWKS it fetched before the rotation
    new_kid = rotated["kid"]
    assert jwt_parts(right_after)[0]["kid"] == old_kid  # the new key does not sign yet...
    assert new_kid in published_kids(staged_srv)  # ...but is published at once
    assert rotated["status"] == "next" and rotated["signs"] == []
    ahead = datetime.fromisoformat(rotated["activates_at"]) - datetime.now(timezone.utc)
    assert PUBLISH_AHEAD - 10 < ahead.total_seconds() <= PUBLISH_AHEAD
    listed = keys(staged_srv)
    assert listed[new_kid]["status"] == "next" and listed[old_kid]["status"] == "active"

    # every token issued meanwhile verifies, the new key's first ones included
    deadline = time.monotonic() + PUBLISH_AHEAD + 10
    token = right_after
    while jwt_parts(token)[0]["kid"] != new_kid and time.monotonic() < deadline:
        time.sleep(0.5)
        token = password_token(staged_srv, app, user)
        assert validate(token)["sub"] == str(user.id)
    assert jwt_parts(token)[0]["kid"] == new_kid
    assert users_me(staged_srv, token).status_code == 200 and users_me(staged_srv, before).status_code == 200
    listed = keys(staged_srv)
    assert listed[new_kid]["status"] == "active" and listed[new_kid]["signs"] == ["access_tokens", "id_tokens"]
    assert listed[old_kid]["status"] == "published"


def test_jwks_cache_lifetime_is_shorter_than_the_publish_ahead_time(staged_srv):
    cache = requests.get(staged_srv.url("/oauth/jwks"), timeout=10).headers["Cache-Control"]
    max_age = int(cache.split("max-age=")[1].split(",")[0])
    assert 0 < max_age <= PUBLISH_AHEAD


def test_rotate_now_signs_at_once(staged_srv):
    user = staged_srv.create_user()
    app = staged_srv.create_client(grants=["password"])
    rotated = staged_srv.cli_json("keys", "rotate", "--now")
    assert rotated["status"] == "active"
    token = eventually(lambda: password_token(staged_srv, app, user),
                       lambda t: jwt_parts(t)[0]["kid"] == rotated["kid"])
    assert jwt_parts(token)[0]["kid"] == rotated["kid"]


# -- a cached verification ends with its key ----------------------------------------------------------

def test_cached_token_is_refused_once_its_key_is_removed(rp_srv):
    user = rp_srv.create_user()
    app = rp_srv.create_client(grants=["password"])
    token = password_token(rp_srv, app, user)
    kid = jwt_parts(token)[0]["kid"]
    for _ in range(3):  # verified once, then answered from the bearer check's cache
        assert users_me(rp_srv, token).status_code == 200

    refused = rp_srv.cli("keys", "remove", kid)
    assert refused.returncode != 0 and "rotate" in refused.stderr and "Traceback" not in refused.stderr
    assert users_me(rp_srv, token).status_code == 200  # an active key cannot be removed

    rp_srv.cli_json("keys", "rotate", "--alg", "RS256", "--now")  # retires every other key
    assert keys(rp_srv)[kid]["status"] == "published"
    assert users_me(rp_srv, token).status_code == 200  # a retired key still verifies its tokens

    assert rp_srv.cli_json("keys", "remove", kid) == {"removed": kid}
    assert eventually(lambda: users_me(rp_srv, token).status_code, lambda status: status == 401) == 401
    assert kid not in published_kids(rp_srv) and kid not in keys(rp_srv)
    assert users_me(rp_srv, password_token(rp_srv, app, user)).status_code == 200


def test_removing_an_unknown_key_is_a_clear_error(rp_srv):
    proc = rp_srv.cli("keys", "remove", "no-such-kid")
    assert proc.returncode != 0 and "no signing key" in proc.stderr and "Traceback" not in proc.stderr
