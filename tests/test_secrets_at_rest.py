"""Secrets are stored hashed (RFC 6749 §10.3, §10.5; RFC 9700 §4.14): after
creating a client and a personal access token, running the code, password
and refresh flows and leaving one code and one refresh token unused, every row
of every table is read straight from the database (SQLite file or
PostgreSQL) and none of the client secret, PAT, refresh tokens, authorization
codes or passwords appears in it, whole or in part.
"""

from __future__ import annotations

from support import Browser, exchange_code, get_code, password_grant, pkce_pair, refresh, unique


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
