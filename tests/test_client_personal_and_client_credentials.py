"""The Python client with a personal access token (authgate's ``agp_`` tokens, RFC 6750 bearer use)
and with the client credentials grant (RFC 6749 §4.4), each one call."""

from __future__ import annotations

import json
import os
import stat

import httpx
import pytest

from authgate_client import Client, ConfigurationError
from support import eventually, users_me


@pytest.fixture(scope="module")
def user(server):
    return server.create_user()


def test_personal_access_token_just_works_rfc6750_2_1(server, user, tmp_path):
    pat = server.create_pat(user.username)["token"]
    client = Client(server.issuer, token=pat, cache_dir=tmp_path)
    me = client.get("/api/1.0/users/me")
    assert me.status_code == 200 and me.json()["username"] == user.username
    assert not any(tmp_path.iterdir()), "a token given in code is not written anywhere"


def test_personal_access_token_kept_for_later_runs(server, user, tmp_path):
    pat = server.create_pat(user.username)["token"]
    Client(server.issuer, cache_dir=tmp_path).login_token(pat)
    later = Client(server.issuer, cache_dir=tmp_path)
    assert later.access_token() == pat
    assert later.get("/api/1.0/users/me").status_code == 200


def test_revoked_personal_access_token_gives_the_401_once(server, user, tmp_path):
    """Nothing to refresh: the API's 401 comes back as it is, after one request."""
    made = server.create_pat(user.username)
    proc = server.cli("tokens", "revoke", str(made["id"]))
    assert proc.returncode == 0, proc.stderr
    # revoked by another process (the CLI): the server learns it within one revocation poll (0.5 s)
    eventually(lambda: users_me(server, made["token"]).status_code, lambda status: status == 401, timeout=2)
    client = Client(server.issuer, token=made["token"], cache_dir=tmp_path)
    seen = []
    with httpx.Client(base_url=server.base_url, auth=client.auth,
                      event_hooks={"response": [lambda r: seen.append(r.status_code)]}) as http:
        assert http.get("/api/1.0/users/me").status_code == 401
    assert seen == [401]


def test_client_credentials_in_one_call_rfc6749_4_4(server, tmp_path):
    app = server.create_client(grants=["client_credentials"])
    client = Client(server.issuer, app.client_id, app.client_secret, cache_dir=tmp_path)
    tokens = client.login_client_credentials()
    assert tokens.grant == "client_credentials" and tokens.refresh_token is None
    assert tokens.claims()["sub"] == app.client_id
    assert users_me(server, tokens.access_token).status_code == 403  # a valid token with no user


def test_client_credentials_token_is_renewed_by_asking_again_rfc6749_4_4_3(server, tmp_path):
    """No refresh token (§4.4.3): when the token is due, the client asks for a new one."""
    app = server.create_client(grants=["client_credentials"])
    client = Client(server.issuer, app.client_id, app.client_secret, cache_dir=tmp_path, refresh_leeway=10**9)
    first = client.login_client_credentials().access_token
    second = client.access_token()
    assert second != first
    assert client.tokens.access_token == second


def test_client_credentials_need_a_secret(server, tmp_path):
    with pytest.raises(ConfigurationError, match="client_secret missing"):
        Client(server.issuer, "some-client", cache_dir=tmp_path).login_client_credentials()


def test_cache_file_is_private_and_per_user(server, user, tmp_path):
    """One 0600 file per server + client + user, in a 0700 directory, and no temporary file left."""
    app = server.create_client(grants=["password"])
    alice, bob = user, server.create_user()
    cache = tmp_path / "cache"
    Client(server.issuer, app.client_id, app.client_secret, cache_dir=cache).login_password(alice.username, alice.password)
    Client(server.issuer, app.client_id, app.client_secret, cache_dir=cache).login_password(bob.username, bob.password)

    entries = sorted(cache.glob("*.json"))
    token_files = [p for p in entries if not p.name.endswith(".current.json")]
    assert len(token_files) == 2
    assert not list(cache.glob("*.tmp"))
    assert stat.S_IMODE(os.stat(cache).st_mode) == 0o700
    for path in entries:
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert {json.loads(p.read_text())["user"] for p in token_files} == {alice.username, bob.username}

    as_alice = Client(server.issuer, app.client_id, app.client_secret, cache_dir=cache, user=alice.username)
    assert as_alice.get("/api/1.0/users/me").json()["username"] == alice.username
    latest = Client(server.issuer, app.client_id, app.client_secret, cache_dir=cache)
    assert latest.get("/api/1.0/users/me").json()["username"] == bob.username
