"""The Python client's logout revokes its tokens at the server (RFC 7009 §2.1) and forgets them;
a refresh token revoked elsewhere is a clear, typed error.
"""

from __future__ import annotations

import pytest

from authgate_client import Client, LoginRequired, RefreshTokenRejected
from support import assert_token_error, refresh, users_me


@pytest.fixture(scope="module")
def app(server):
    return server.create_client(grants=["password"])


@pytest.fixture(scope="module")
def user(server):
    return server.create_user()


def signed_in(server, app, user, tmp_path) -> Client:
    client = Client(server.issuer, app.client_id, app.client_secret, scopes=["users:read"], cache_dir=tmp_path)
    client.login_password(user.username, user.password)
    return client


def test_logout_revokes_and_forgets_rfc7009_2_1(server, app, user, tmp_path):
    client = signed_in(server, app, user, tmp_path)
    tokens = client.tokens
    assert client.logout() is True
    assert_token_error(refresh(server, app, tokens.refresh_token), "invalid_grant")
    assert users_me(server, tokens.access_token).status_code == 401
    assert client.tokens is None
    assert not [p for p in tmp_path.glob("*.json") if not p.name.endswith(".current.json")]
    with pytest.raises(LoginRequired):
        client.access_token()


def test_refresh_token_revoked_elsewhere_is_a_typed_error_rfc7009_2_1(server, app, user, tmp_path):
    client = signed_in(server, app, user, tmp_path)
    other = Client(server.issuer, app.client_id, app.client_secret, store="memory")
    assert other.revoke(client.tokens.refresh_token, "refresh_token") is True
    with pytest.raises(RefreshTokenRejected) as caught:
        client.refresh()
    assert caught.value.error == "invalid_grant" and "sign in again" in str(caught.value)
    assert client.tokens is None
