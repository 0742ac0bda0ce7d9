"""Secrets are stored hashed (RFC 6749 §10.3, §10.5; RFC 9700 §4.14): after
creating a client and a personal access token, running the code, password
and refresh flows and leaving one code and one refresh token unused, every row
of every table is read straight from the database (SQLite file or
PostgreSQL) and none of the client secret, PAT, refresh tokens, authorization
codes or passwords appears in it, whole or in part.

With ``AUTHGATE_SECRET_KEY`` set, the private signing keys and the server secrets are encrypted:
the dump holds no private JWK and no HMAC key (a database dump alone forges no token), the server
refuses to start without the secret key, and `authgate keys encrypt` seals rows kept in clear or
re-encrypts them under a new secret key.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import subprocess
import sys

import pytest

from support import (Browser, ServerProcess, exchange_code, free_port, get_code, password_grant, pkce_pair, refresh,
                     unique, users_me)


def fragments(secret: str) -> list[str]:
    """The secret itself and its middle half, which catches a secret stored
    without its prefix (e.g. `agp_`) or split over columns."""
    n = len(secret)
    middle = secret[n // 4: n - n // 4]
    return [secret] + ([middle] if len(middle) >= 10 else [])


def test_no_secret_is_stored_in_clear(server, db_dump):
    user = server.create_user(password="pw-" + unique("Secret-Pass"))
    client = server.create_client(redirect_uris=[f"https://{unique('vault')}.example.org/cb"])
    public = server.create_client(public=True, redirect_uris=[f"https://{unique('vpub')}.example.org/cb"])
    pat = server.create_pat(user.username)

    secrets: dict[str, str] = {
        "admin password": server.admin_password,
        "user password": user.password,
        "client secret": client.client_secret,
        "personal access token": pat["token"],
    }

    # authorization code flow: one code redeemed, one left unused
    browser = Browser(server)
    used_code = get_code(server, client, user, browser=browser)
    code_tokens = exchange_code(server, client, used_code)
    assert code_tokens.status_code == 200, code_tokens.text
    secrets["redeemed authorization code"] = used_code
    secrets["unused authorization code"] = get_code(server, client, user, browser=browser)
    secrets["refresh token (code flow)"] = code_tokens.json()["refresh_token"]

    # password flow, then a refresh: the rotated token and the live one
    pw = password_grant(server, client, user)
    assert pw.status_code == 200, pw.text
    secrets["rotated refresh token"] = pw.json()["refresh_token"]
    rotated = refresh(server, client, pw.json()["refresh_token"])
    assert rotated.status_code == 200, rotated.text
    secrets["live refresh token"] = rotated.json()["refresh_token"]

    # a public client's code (PKCE) left unused
    _, challenge = pkce_pair()
    secrets["public client's unused code"] = get_code(server, public, user, browser=browser, challenge=challenge)

    dump = db_dump()
    # control: the dump really holds this test's data
    for visible in (user.username, client.client_id, public.client_id, pat["name"]):
        assert visible in dump, f"{visible!r} not found: the dump does not cover the tables"

    leaks = [
        f"{what}: {frag!r}"
        for what, secret in secrets.items()
        for frag in fragments(secret)
        if frag in dump
    ]
    assert not leaks, "stored in clear:\n" + "\n".join(leaks)


# -- keys at rest under AUTHGATE_SECRET_KEY (issue 12 item 15) ----------------------------------------

SECRET_KEY = "test-secret-key-" + "a" * 32
NEW_SECRET_KEY = "test-secret-key-" + "b" * 32
PRIVATE_JWK_MEMBER = re.compile(r'"+d"+\s*:\s*"')  # PostgreSQL's row text doubles the quotes
HEX_KEY = re.compile(r"(?<![0-9a-f])[0-9a-f]{64}(?![0-9a-f])")


def hmac_key_in(dump: str, pat: str) -> bool:
    """Does the dump hold the key that hashes stored secrets? Tried as every 64-hex run in it: the
    one that turns the personal access token into a hash stored next to it."""
    return any(hmac.new(bytes.fromhex(candidate), pat.encode(), hashlib.sha256).hexdigest() in dump
               for candidate in set(HEX_KEY.findall(dump)))


@pytest.fixture(scope="module")
def sealed_server(server_factory):
    return server_factory({"AUTHGATE_SECRET_KEY": SECRET_KEY})


def test_with_a_secret_key_the_dump_holds_no_private_key_or_hmac_key(server, db_dump, sealed_server):
    # control: without a secret key, the same checks find both (so they can fail)
    plain_pat = server.create_pat(server.create_user().username)["token"]
    plain = db_dump()
    assert PRIVATE_JWK_MEMBER.search(plain) and hmac_key_in(plain, plain_pat)

    user = sealed_server.create_user()
    pat = sealed_server.create_pat(user.username)["token"]
    client = sealed_server.create_client(grants=["password"])
    token = password_grant(sealed_server, client, user, scope="users:read")
    assert token.status_code == 200, token.text
    assert users_me(sealed_server, pat).status_code == 200
    assert users_me(sealed_server, token.json()["access_token"]).status_code == 200
    dump = sealed_server.db.dump_text()
    assert user.username in dump  # control: the dump covers this server's tables
    assert not PRIVATE_JWK_MEMBER.search(dump), "a private JWK is stored in clear"
    assert not hmac_key_in(dump, pat), "the HMAC key of stored secrets is stored in clear"


def serve_refused(srv: ServerProcess, **env) -> str:
    """Start `authgate serve` on ``srv``'s database with ``env`` changed; it must refuse: its stderr."""
    changed = {k: v for k, v in {**srv.env, **env}.items() if v is not None}
    proc = subprocess.run([sys.executable, "-m", "authgate", "serve", "--host", "127.0.0.1", "--port", str(free_port())],
                          env=changed, capture_output=True, text=True, timeout=90, cwd=srv.workdir)
    assert proc.returncode != 0, proc.stdout
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc.stderr


def restart(srv: ServerProcess, **env) -> None:
    srv.stop(drop_database=False)
    for name, value in env.items():
        if value is None:
            srv.env.pop(name, None)
        else:
            srv.env[name] = value
    srv.start()


def test_keys_in_clear_are_encrypted_then_re_encrypted_under_a_new_secret_key(server_factory):
    srv = server_factory()
    user = srv.create_user()
    pat = srv.create_pat(user.username)["token"]
    client = srv.create_client(grants=["password"])
    token = password_grant(srv, client, user, scope="users:read").json()["access_token"]
    provider_secret = "provider-secret-" + "p" * 24
    srv.cli_json("providers", "add", "--name", "corp", "--issuer", "https://idp.example.org", "--client-id", "ag",
                 "--client-secret-stdin", "--no-check", input=provider_secret + "\n")
    assert PRIVATE_JWK_MEMBER.search(srv.db.dump_text()) and provider_secret in srv.db.dump_text()

    # rows written in clear still load with a secret key set; `keys encrypt` seals them
    restart(srv, AUTHGATE_SECRET_KEY=SECRET_KEY)
    assert "not encrypted yet: run `authgate keys encrypt`" in srv.stdout_text()
    assert users_me(srv, token).status_code == 200 and users_me(srv, pat).status_code == 200
    encrypted = srv.cli_json("keys", "encrypt")
    assert encrypted["signing_keys"] >= 1 and encrypted["server_secrets"] >= 2
    assert encrypted["identity_providers"] == 1
    dump = srv.db.dump_text()
    assert not PRIVATE_JWK_MEMBER.search(dump) and not hmac_key_in(dump, pat) and provider_secret not in dump
    assert srv.cli_json("keys", "encrypt") == {"signing_keys": 0, "server_secrets": 0, "second_factors": 0,
                                               "identity_providers": 0}  # nothing left

    # without the secret key, or with another one, the server refuses to start, saying why
    assert "AUTHGATE_SECRET_KEY" in serve_refused(srv, AUTHGATE_SECRET_KEY=None)
    assert "another secret key" in serve_refused(srv, AUTHGATE_SECRET_KEY=NEW_SECRET_KEY)

    # changing the secret key: the old one as AUTHGATE_OLD_SECRET_KEY while re-encrypting
    restart(srv, AUTHGATE_SECRET_KEY=NEW_SECRET_KEY, AUTHGATE_OLD_SECRET_KEY=SECRET_KEY)
    resealed = srv.cli_json("keys", "encrypt")
    assert resealed["server_secrets"] >= 2 and resealed["identity_providers"] == 1
    restart(srv, AUTHGATE_OLD_SECRET_KEY=None)
    assert users_me(srv, token).status_code == 200 and users_me(srv, pat).status_code == 200
    fresh = password_grant(srv, client, user, scope="users:read")
    assert fresh.status_code == 200 and users_me(srv, fresh.json()["access_token"]).status_code == 200
    assert "another secret key" in serve_refused(srv, AUTHGATE_SECRET_KEY=SECRET_KEY)


def test_keys_encrypt_without_a_secret_key_says_what_to_set(server):
    proc = server.cli("keys", "encrypt")
    assert proc.returncode != 0 and "AUTHGATE_SECRET_KEY" in proc.stderr and "Traceback" not in proc.stderr


def test_a_short_secret_key_is_refused(server):
    proc = subprocess.run([sys.executable, "-m", "authgate", "keys", "list"], capture_output=True, text=True,
                          env={**server.env, "AUTHGATE_SECRET_KEY": "too-short"}, timeout=60, cwd=server.workdir)
    assert proc.returncode != 0 and "at least 32" in proc.stderr and "Traceback" not in proc.stderr
