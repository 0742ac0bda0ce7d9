"""Interoperability with independent client libraries, configured only from
the issuer's metadata (RFC 8414 / OIDC Discovery): requests-oauthlib's
OAuth2Session (authorization code with PKCE, automatic refresh), Authlib's
OAuth2Session (client credentials, password, refresh, revoke, introspect,
OpenID Connect with ID token validation) and a resource server that checks
JWTs with PyJWT's PyJWKClient from jwks_uri alone, across a key rotation.
Runs on its own server, since it rotates the signing key.
"""

from __future__ import annotations

import secrets
import time

import jwt as pyjwt
import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session as AuthlibSession
from authlib.oidc.core import CodeIDToken
from joserfc import jwt as jose_jwt
from joserfc.jwk import KeySet
from requests_oauthlib import OAuth2Session

from support import Browser, unique, eventually

SCOPE = "openid profile email offline_access users:read"


@pytest.fixture(scope="module")
def srv(server_factory):
    return server_factory()


@pytest.fixture(scope="module")
def meta(srv) -> dict:
    return requests.get(srv.url("/.well-known/openid-configuration"), timeout=10).json()


@pytest.fixture(scope="module")
def user(srv):
    return srv.create_user()


@pytest.fixture(scope="module")
def web(srv):
    return srv.create_client(redirect_uris=[f"https://{unique('interop')}.example.org/cb"],
                             grants=["authorization_code", "password", "client_credentials"])


@pytest.fixture(autouse=True)
def insecure_transport_for_localhost(monkeypatch):
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")  # oauthlib refuses http:// otherwise
    monkeypatch.setenv("AUTHLIB_INSECURE_TRANSPORT", "1")


def me_url(srv) -> str:
    return srv.url("/api/1.0/users/me")


def test_requests_oauthlib_code_pkce_and_auto_refresh(srv, meta, web, user):
    updates = []
    session = OAuth2Session(web.client_id, redirect_uri=web.redirect_uri, scope=SCOPE.split(), pkce="S256",
                            auto_refresh_url=meta["token_endpoint"],
                            auto_refresh_kwargs={"client_id": web.client_id, "client_secret": web.client_secret},
                            token_updater=updates.append)
    url, state = session.authorization_url(meta["authorization_endpoint"])
    location = Browser(srv).authorize(url, user)
    token = session.fetch_token(meta["token_endpoint"], authorization_response=location,
                                client_secret=web.client_secret)
    assert token["refresh_token"] and token["id_token"]
    assert session.get(me_url(srv)).json()["username"] == user.username

    session.token = {**token, "expires_in": -10, "expires_at": time.time() - 10}  # pretend it expired
    resp = session.get(me_url(srv))
    assert resp.status_code == 200 and resp.json()["username"] == user.username
    assert len(updates) == 1 and updates[0]["access_token"] != token["access_token"]
    assert updates[0]["refresh_token"] != token["refresh_token"]  # rotated


def test_authlib_client_credentials_password_refresh_revoke_introspect(srv, meta, web, user):
    client = AuthlibSession(web.client_id, web.client_secret, token_endpoint=meta["token_endpoint"])
    machine = client.fetch_token(meta["token_endpoint"], grant_type="client_credentials", scope="users:read")
    assert machine["access_token"] and "refresh_token" not in machine

    client = AuthlibSession(web.client_id, web.client_secret, scope="users:read")
    token = client.fetch_token(meta["token_endpoint"], username=user.username, password=user.password)
    assert client.get(me_url(srv)).status_code == 200
    renewed = client.refresh_token(meta["token_endpoint"], refresh_token=token["refresh_token"])
    assert renewed["access_token"] != token["access_token"]

    info = client.introspect_token(meta["introspection_endpoint"], token=renewed["access_token"]).json()
    assert info["active"] is True and info["username"] == user.username and info["client_id"] == web.client_id
    assert client.revoke_token(meta["revocation_endpoint"], token=renewed["refresh_token"],
                               token_type_hint="refresh_token").status_code == 200
    info = client.introspect_token(meta["introspection_endpoint"], token=renewed["access_token"]).json()
    assert info == {"active": False}


def test_authlib_openid_connect_with_id_token_validation(srv, meta, web, user):
    nonce = secrets.token_urlsafe(16)
    client = AuthlibSession(web.client_id, web.client_secret, scope=SCOPE, redirect_uri=web.redirect_uri,
                            code_challenge_method="S256")
    verifier = secrets.token_urlsafe(48)
    url, state = client.create_authorization_url(meta["authorization_endpoint"], nonce=nonce, code_verifier=verifier)
    location = Browser(srv).authorize(url, user)
    token = client.fetch_token(meta["token_endpoint"], authorization_response=location, code_verifier=verifier)

    keys = KeySet.import_key_set(requests.get(meta["jwks_uri"], timeout=10).json())
    decoded = jose_jwt.decode(token["id_token"], keys, algorithms=meta["id_token_signing_alg_values_supported"])
    claims = CodeIDToken(decoded.claims, decoded.header,
                         options={"iss": {"essential": True, "value": meta["issuer"]}},
                         params={"nonce": nonce, "client_id": web.client_id, "access_token": token["access_token"]})
    claims.validate()  # iss, aud, exp, iat, auth_time, nonce, at_hash (OIDC Core §3.1.3.7)

    info = client.get(meta["userinfo_endpoint"]).json()
    assert info["sub"] == claims["sub"] and info["email"] == user.email
    assert info["preferred_username"] == user.username


def test_resource_server_with_pyjwkclient_across_a_key_rotation(srv, meta, web, user):
    # PyJWKClient refetches the JWKS when it meets an unknown kid, but by default not within 30 s of
    # its last fetch; a new key signs within half a second of `keys rotate`, so that pause is set to 0 here.
    jwks_client = pyjwt.PyJWKClient(meta["jwks_uri"], cache_keys=True, cooldown_duration=0)

    def validate(token: str) -> dict:
        key = jwks_client.get_signing_key_from_jwt(token)
        return pyjwt.decode(token, key.key, algorithms=["RS256", "ES256", "EdDSA"], audience=meta["issuer"],
                            issuer=meta["issuer"], options={"require": ["exp", "iat", "sub", "jti"]})

    def password_token() -> str:
        resp = requests.post(meta["token_endpoint"], data={"grant_type": "password", "username": user.username,
                                                           "password": user.password, "scope": "users:read"},
                             auth=web.basic, timeout=10)
        return resp.json()["access_token"]

    before = password_token()
    assert validate(before)["sub"] == str(user.id)
    srv.cli_json("keys", "rotate", "--alg", "ES256", "--now")
    after = eventually(password_token, lambda t: pyjwt.get_unverified_header(t)["alg"] == "ES256")
    assert pyjwt.get_unverified_header(after)["alg"] == "ES256"
    assert validate(after)["sub"] == str(user.id)  # new kid: PyJWKClient refetches jwks_uri
    assert validate(before)["sub"] == str(user.id)  # the retired key is still published
    with pytest.raises(pyjwt.PyJWTError):
        validate(after[:-4] + ("AAAA" if not after.endswith("AAAA") else "BBBB"))


def test_authlib_client_device_flow(srv, meta, user):
    device = srv.create_client(grants=["device_code"])
    client = AuthlibSession(device.client_id, device.client_secret, scope="users:read")
    started = client.post(meta["device_authorization_endpoint"], data={"scope": "users:read"},
                          auth=device.basic).json()
    browser = Browser(srv)
    browser.login(user)
    page = browser.get(started["verification_uri_complete"])
    browser.post("/device", data={**browser.single_form(page).fields(), "decision": "approve"})
    token = client.fetch_token(meta["token_endpoint"], grant_type="urn:ietf:params:oauth:grant-type:device_code",
                               device_code=started["device_code"])
    assert client.get(me_url(srv)).json()["username"] == user.username and token["refresh_token"]
