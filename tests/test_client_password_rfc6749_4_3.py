"""The Python client's password grant (RFC 6749 §4.3) in one call — sending ``client_id``, which the
guide's oauthlib code leaves out — and its typed errors (RFC 6749 §5.2): each carries ``error``,
``error_description`` and the HTTP status, and says what to do."""

from __future__ import annotations

import pytest

from authgate_client import (
    Client,
    ConfigurationError,
    InvalidClient,
    InvalidGrant,
    InvalidScope,
    LoginRequired,
    OAuthError,
    UnauthorizedClient,
)
from support import users_me


@pytest.fixture(scope="module")
def user(server):
    return server.create_user()


@pytest.fixture(scope="module")
def app(server):
    return server.create_client(grants=["password"])


def test_password_grant_in_one_call_rfc6749_4_3(server, app, user, tmp_path):
    client = Client(server.issuer, app.client_id, app.client_secret, scopes=["users:read"], cache_dir=tmp_path)
    tokens = client.login_password(user.username, user.password)
    assert tokens.grant == "password" and tokens.scope == "users:read" and tokens.refresh_token
    assert tokens.expires_at is not None
    assert client.get("/api/1.0/users/me").json()["username"] == user.username


def test_public_client_sends_client_id_rfc6749_4_3_2(server, user, tmp_path):
    """A public client has no secret to be found by: only the client_id in the body names it."""
    public = server.create_client(public=True, grants=["password"])
    client = Client(server.issuer, public.client_id, scopes="users:read", cache_dir=tmp_path)
    tokens = client.login_password(user.username, user.password)
    assert users_me(server, tokens.access_token).status_code == 200


def test_wrong_password_is_invalid_grant_rfc6749_5_2(server, app, user, tmp_path):
    client = Client(server.issuer, app.client_id, app.client_secret, cache_dir=tmp_path)
    with pytest.raises(InvalidGrant) as caught:
        client.login_password(user.username, "not-the-password")
    error = caught.value
    assert isinstance(error, OAuthError)
    assert (error.error, error.status) == ("invalid_grant", 400)
    assert error.error_description
    assert "sign in again" in str(error) and "HTTP 400" in str(error)
    with pytest.raises(LoginRequired):
        client.access_token()


def test_wrong_secret_is_invalid_client_rfc6749_5_2(server, app, user, tmp_path):
    client = Client(server.issuer, app.client_id, "wrong-secret", cache_dir=tmp_path)
    with pytest.raises(InvalidClient) as caught:
        client.login_password(user.username, user.password)
    assert caught.value.error == "invalid_client" and caught.value.status == 401
    assert "client_secret" in str(caught.value)


def test_grant_not_registered_is_unauthorized_client_rfc6749_5_2(server, user, tmp_path):
    code_only = server.create_client(redirect_uris=["https://app.example.org/cb"], grants=["authorization_code"])
    client = Client(server.issuer, code_only.client_id, code_only.client_secret, cache_dir=tmp_path)
    with pytest.raises(UnauthorizedClient) as caught:
        client.login_password(user.username, user.password)
    assert caught.value.error == "unauthorized_client" and "--grant" in str(caught.value)


def test_unknown_scope_is_invalid_scope_rfc6749_5_2(server, app, user, tmp_path):
    client = Client(server.issuer, app.client_id, app.client_secret, scopes=["no-such-scope"], cache_dir=tmp_path)
    with pytest.raises(InvalidScope) as caught:
        client.login_password(user.username, user.password)
    assert caught.value.error == "invalid_scope" and caught.value.status == 400


def test_missing_client_id_says_so(server, user, tmp_path):
    client = Client(server.issuer, cache_dir=tmp_path)
    with pytest.raises(ConfigurationError, match="^client_id missing"):
        client.login_password(user.username, user.password)
