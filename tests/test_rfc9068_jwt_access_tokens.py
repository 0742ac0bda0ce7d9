"""JWT access tokens (RFC 9068 §2.1 header, §2.2 claims, §4 validation) and
the key set at GET /oauth/jwks (RFC 7517): every access token is an RS256 JWT
with typ `at+jwt` and a kid, whose signature verifies with the published
public key (checked with joserfc), carrying iss, sub, aud, exp, iat, jti,
client_id and scope. The key set publishes no private key material.
"""

from __future__ import annotations

import time

import pytest
import requests
from joserfc import jwt
from joserfc.errors import BadSignatureError
from joserfc.jwk import KeySet

from support import b64url_json, exchange_code, get_code, jwt_parts, password_grant, token_request, unique

PRIVATE_RSA_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "oth"}


@pytest.fixture(scope="module")
def jwks(server):
    resp = requests.get(server.url("/oauth/jwks"), timeout=15)
    assert resp.status_code == 200
    assert resp.headers.get("Content-Type", "").startswith("application/")  # json or jwk-set+json
    return resp.json()


@pytest.fixture(scope="module")
def keyset(jwks):
    return KeySet.import_key_set(jwks)


@pytest.fixture(scope="module")
def user(server):
    return server.create_user()


@pytest.fixture(scope="module")
def app(server):
    return server.create_client(redirect_uris=[f"https://{unique('jwt')}.example.org/cb"],
                                grants=["authorization_code", "password", "client_credentials"])


def verify(token: str, keyset):
    """Signature check with the published keys, RS256 only."""
    return jwt.decode(token, keyset, algorithms=["RS256"])


def test_jwks_publishes_public_keys_only_rfc7517(jwks):
    """RFC 7517 §4 / RFC 7518 §6: public members only. The shared server may also hold the EC key reserved for FAPI
    2.0 clients (when that module ran first on this worker); the RS256 keys are RSA keys with ``n`` and ``e``."""
    assert isinstance(jwks.get("keys"), list) and jwks["keys"]
    assert any(key["alg"] == "RS256" for key in jwks["keys"])
    for key in jwks["keys"]:
        assert key.get("kid")
        if key["alg"] == "RS256":
            assert key["kty"] == "RSA" and key.get("n") and key.get("e")
        leaked = PRIVATE_RSA_MEMBERS & set(key)
        assert not leaked, f"private key members published: {leaked}"


def test_header_typ_alg_kid_rfc9068_2_1(server, app, user, jwks):
    token = password_grant(server, app, user).json()["access_token"]
    header, _ = jwt_parts(token)
    assert header["typ"] == "at+jwt"
    assert header["alg"] == "RS256"
    assert header["kid"] in {k["kid"] for k in jwks["keys"]}


def test_signature_verifies_with_jwks_rfc9068_4(server, app, user, keyset):
    token = password_grant(server, app, user).json()["access_token"]
    decoded = verify(token, keyset)
    assert decoded.header["typ"] == "at+jwt"


def test_tampered_token_fails_signature_check_rfc9068_4(server, app, user, keyset):
    """Control for the check above: a modified payload does not verify."""
    token = password_grant(server, app, user).json()["access_token"]
    header, claims = jwt_parts(token)
    h, _, sig = token.split(".")
    forged = ".".join([h, b64url_json({**claims, "scope": "*", "sub": "1"}), sig])
    with pytest.raises(BadSignatureError):
        verify(forged, keyset)


def test_claims_for_a_user_token_rfc9068_2_2(server, app, user, keyset):
    before = int(time.time())
    resp = password_grant(server, app, user, scope="users:read profile")
    after = int(time.time())
    body = resp.json()
    claims = verify(body["access_token"], keyset).claims

    assert claims["iss"] == server.issuer
    assert claims["sub"] == str(user.id)
    assert isinstance(claims["sub"], str)
    assert claims["aud"]  # string or list of strings, required
    assert claims["client_id"] == app.client_id
    assert set(claims["scope"].split()) == {"users:read", "profile"}
    assert claims["scope"] == body["scope"]
    assert isinstance(claims["jti"], str) and claims["jti"]
    assert isinstance(claims["iat"], int) and isinstance(claims["exp"], int)
    assert before - 5 <= claims["iat"] <= after + 5
    assert abs((claims["exp"] - claims["iat"]) - body["expires_in"]) <= 5
    assert claims["exp"] - claims["iat"] == pytest.approx(3600, abs=5)  # AUTHGATE_ACCESS_TOKEN_TTL default


def test_sub_matches_users_me_rfc9068_2_2(server, app, user, keyset):
    token = password_grant(server, app, user).json()["access_token"]
    me = requests.get(server.url("/api/1.0/users/me"), headers={"Authorization": f"Bearer {token}"}, timeout=15)
    assert verify(token, keyset).claims["sub"] == str(me.json()["id"])


def test_authorization_code_token_claims_rfc9068_2_2(server, app, user, keyset):
    code = get_code(server, app, user, scope="users:read")
    body = exchange_code(server, app, code).json()
    claims = verify(body["access_token"], keyset).claims
    assert claims["sub"] == str(user.id)
    assert claims["client_id"] == app.client_id
    assert claims["scope"] == "users:read"


def test_client_credentials_sub_is_client_id_rfc9068_2_2(server, app, keyset):
    body = token_request(server, {"grant_type": "client_credentials"}, auth=app.basic).json()
    claims = verify(body["access_token"], keyset).claims
    assert claims["sub"] == app.client_id
    assert claims["client_id"] == app.client_id
    assert claims["iss"] == server.issuer


def test_jti_unique_per_token_rfc9068_2_2(server, app, user, keyset):
    jtis = {verify(password_grant(server, app, user).json()["access_token"], keyset).claims["jti"]
            for _ in range(3)}
    assert len(jtis) == 3


def test_refreshed_token_is_a_jwt_too_rfc9068_2_1(server, app, user, keyset):
    first = password_grant(server, app, user).json()
    body = token_request(server, {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
                         auth=app.basic).json()
    decoded = verify(body["access_token"], keyset)
    assert decoded.header["typ"] == "at+jwt"
    assert decoded.claims["sub"] == str(user.id)
