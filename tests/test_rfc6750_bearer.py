"""Bearer token use at the API (RFC 6750 §2.1, §3, §3.1): GET
/api/1.0/users/me answers 401 + WWW-Authenticate for a missing, malformed,
forged, expired or revoked token, 403 insufficient_scope for a token without
users:read, 403 for a client_credentials token (no user behind it), and 200
with the user for a good one.
"""

from __future__ import annotations

import time

import pytest
import requests
from joserfc import jwt
from joserfc.jwk import RSAKey

from support import (
    b64url_json,
    jwt_parts,
    password_grant,
    token_request,
    unique,
    users_me,
)


@pytest.fixture(scope="module")
def user(server):
    return server.create_user()


@pytest.fixture(scope="module")
def app(server):
    return server.create_client(grants=["password", "client_credentials"])


@pytest.fixture(scope="module")
def good_token(server, app, user):
    resp = password_grant(server, app, user, scope="users:read")
    assert resp.status_code == 200, resp.text
    return resp.json()


def auth_params(header: str) -> tuple[str, dict]:
    """Parse `Bearer realm="x", error="y"` into ("bearer", {...})."""
    scheme, _, rest = header.strip().partition(" ")
    params = {}
    for part in rest.split(","):
        if "=" in part:
            k, _, v = part.strip().partition("=")
            params[k.strip()] = v.strip().strip('"')
    return scheme.lower(), params


def assert_invalid_token(resp):
    """RFC 6750 §3.1 invalid_token: 401 with error="invalid_token"."""
    assert resp.status_code == 401, f"{resp.status_code} {resp.text[:300]}"
    assert resp.json() == {"error": "Unauthenticated."}
    scheme, params = auth_params(resp.headers["WWW-Authenticate"])
    assert scheme == "bearer"
    assert params.get("realm") == "authgate"
    assert params.get("error") == "invalid_token"
    assert "error_description" in params


def test_valid_token_reads_users_me(server, user, good_token):
    resp = users_me(server, good_token["access_token"])
    assert resp.status_code == 200
    body = resp.json()
    for field in ("id", "username", "email", "firstname", "lastname", "status", "is_administrator",
                  "created_at", "updated_at"):
        assert field in body, field
    assert body["username"] == user.username
    assert body["email"] == user.email
    assert body["is_administrator"] is False
    assert "password" not in body and not any("hash" in k for k in body)


def test_no_token_is_401_without_error_code_rfc6750_3_1(server):
    """§3.1: a request lacking authentication SHOULD NOT carry an error code (only the realm and the
    API's metadata URL, RFC 9728 §5.1)."""
    resp = users_me(server, None)
    assert resp.status_code == 401
    assert resp.json() == {"error": "Unauthenticated."}
    scheme, params = auth_params(resp.headers["WWW-Authenticate"])
    assert scheme == "bearer"
    assert params == {"realm": "authgate",
                      "resource_metadata": server.issuer + "/.well-known/oauth-protected-resource/api/1.0"}


def test_other_auth_scheme_is_401_rfc6750_3(server, good_token):
    resp = requests.get(server.url("/api/1.0/users/me"),
                        headers={"Authorization": "Basic " + good_token["access_token"]}, timeout=15)
    assert resp.status_code == 401
    assert auth_params(resp.headers["WWW-Authenticate"])[0] == "bearer"


@pytest.mark.parametrize("token", ["garbage", "a.b.c", "eyJhbGciOiJub25lIn0.e30.", "agp_" + "0" * 40])
def test_malformed_or_unknown_token_is_invalid_token_rfc6750_3_1(server, token):
    assert_invalid_token(users_me(server, token))


def test_tampered_payload_is_invalid_token_rfc6750_3_1(server, user, good_token):
    token = good_token["access_token"]
    assert users_me(server, token).status_code == 200  # control
    h, _, s = token.split(".")
    _, claims = jwt_parts(token)
    forged = ".".join([h, b64url_json({**claims, "scope": "*"}), s])
    assert_invalid_token(users_me(server, forged))


def test_alg_none_is_invalid_token_rfc6750_3_1(server, good_token):
    header, claims = jwt_parts(good_token["access_token"])
    forged = ".".join([b64url_json({**header, "alg": "none"}), b64url_json(claims), ""])
    assert_invalid_token(users_me(server, forged))


def test_token_signed_by_a_foreign_key_with_the_right_kid_is_invalid_rfc6750_3_1(server, good_token):
    header, claims = jwt_parts(good_token["access_token"])
    key = RSAKey.generate_key(2048, parameters={"kid": header["kid"]})
    forged = jwt.encode({"alg": "RS256", "typ": "at+jwt", "kid": header["kid"]},
                        {**claims, "jti": unique("jti")}, key)
    assert_invalid_token(users_me(server, forged))


def test_expired_access_token_is_invalid_token_rfc6750_3_1(server_factory):
    """Access tokens live four seconds on this server: long enough for the control on a loaded machine."""
    srv = server_factory({"AUTHGATE_ACCESS_TOKEN_TTL": "4"})
    user = srv.create_user()
    client = srv.create_client(grants=["password"])
    token = password_grant(srv, client, user).json()["access_token"]
    assert users_me(srv, token).status_code == 200  # control
    time.sleep(5)
    assert_invalid_token(users_me(srv, token))


def test_refresh_token_is_not_a_bearer_token_rfc6750_3_1(server, good_token):
    assert_invalid_token(users_me(server, good_token["refresh_token"]))


def test_token_from_another_issuer_is_invalid_rfc6750_3_1(server, server_factory, user, good_token):
    """A well-formed, correctly signed token from a different authgate instance."""
    other = server_factory()
    other_user = other.create_user()
    other_client = other.create_client(grants=["password"])
    foreign = password_grant(other, other_client, other_user).json()["access_token"]
    assert users_me(other, foreign).status_code == 200  # control
    assert_invalid_token(users_me(server, foreign))


@pytest.mark.parametrize("scope", ["profile", "email", "users:write", "openid profile email"])
def test_token_without_users_read_is_403_insufficient_scope_rfc6750_3_1(server, app, user, scope):
    token = password_grant(server, app, user, scope=scope).json()["access_token"]
    resp = users_me(server, token)
    assert resp.status_code == 403
    body = resp.json()
    assert body["error"] == "insufficient_scope"
    assert body.get("message")
    scheme, params = auth_params(resp.headers["WWW-Authenticate"])
    assert scheme == "bearer"
    assert params.get("realm") == "authgate"
    assert params.get("error") == "insufficient_scope"
    assert params.get("scope") == "users:read"


@pytest.mark.parametrize("scope", ["users:read", "*", "profile users:read"])
def test_token_with_users_read_or_star_is_allowed_rfc6750_3_1(server, app, user, scope):
    token = password_grant(server, app, user, scope=scope).json()["access_token"]
    assert users_me(server, token).status_code == 200


def test_client_credentials_token_is_403_no_user_rfc6750_3_1(server, app):
    body = token_request(server, {"grant_type": "client_credentials"}, auth=app.basic).json()
    resp = users_me(server, body["access_token"])
    assert resp.status_code == 403
    assert resp.json().get("message")
