"""Registration with an initial access token (RFC 7591 §3: ``AUTHGATE_REGISTRATION=token``), made by an
operator with ``authgate registration token create``; a policy that opens client credentials to registered
clients but never a directory read; registered clients' secrets that expire
(``AUTHGATE_REGISTRATION_SECRET_SECONDS``); and a client library nobody here wrote (Authlib's) running the code
flow of a client that registered itself."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest
import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from support import HTTP_TIMEOUT, Browser, CLI_TIMEOUT, assert_token_error, one_line_error, token_request, unique
from support.registration import assert_registration_error, register, registered

SECRET_SECONDS = 4


@pytest.fixture(scope="module")
def srv(server_factory):
    return server_factory({
        "AUTHGATE_REGISTRATION": "token",
        "AUTHGATE_REGISTRATION_GRANTS": "authorization_code,refresh_token,client_credentials",
        "AUTHGATE_REGISTRATION_SCOPES": "openid profile email offline_access users:read groups:read",
        "AUTHGATE_REGISTRATION_DEFAULT_SCOPES": "openid profile",
        "AUTHGATE_REGISTRATION_SECRET_SECONDS": str(SECRET_SECONDS),
    })


def initial_token(srv, *options: str) -> dict:
    """``authgate registration token create ... --json`` (the CLI's command, in process: ``seed.py``)."""
    return srv.commands.run_json("registration", "token", "create", *options)


def web_app(**extra) -> dict:
    return {"client_name": unique("web"), "redirect_uris": ["https://app.example.org/cb"], **extra}


def service(**extra) -> dict:
    return {"client_name": unique("service"), "grant_types": ["client_credentials"],
            "token_endpoint_auth_method": "client_secret_basic", **extra}


# -- RFC 7591 §3: the initial access token -------------------------------------------------------------------

def test_the_metadata_advertises_the_registration_endpoint_rfc8414_2(srv):
    meta = requests.get(srv.url("/.well-known/oauth-authorization-server"), timeout=HTTP_TIMEOUT).json()
    assert meta["registration_endpoint"] == srv.url("/oauth/register")


@pytest.mark.parametrize("token", [None, "agi_not-a-token-anyone-made"])
def test_without_a_valid_initial_access_token_registration_is_401_rfc7591_3(srv, token):
    """§3: the endpoint may require an initial access token; a missing or wrong one is RFC 6750's
    invalid_token, even when the metadata is bad too (the caller learns nothing else)."""
    for body in (web_app(), {"redirect_uris": ["http://evil.example.org/"]}, b"not json"):
        r = register(srv, body, token=token)
        assert_registration_error(r, "invalid_token", 401)
        assert r.headers["WWW-Authenticate"].startswith('Bearer error="invalid_token"')


def test_a_token_made_by_the_cli_registers_until_its_uses_run_out_rfc7591_3(srv):
    proc = srv.cli("registration", "token", "create", "--uses", "2", "--json")
    assert proc.returncode == 0, proc.stderr
    made = json.loads(proc.stdout)
    assert made["token"].startswith("agi_") and made["uses"] == 2 and made["expires_at"] is None
    assert register(srv, web_app(), token=made["token"]).status_code == 201
    assert register(srv, web_app(), token=made["token"]).status_code == 201
    assert_registration_error(register(srv, web_app(), token=made["token"]), "invalid_token", 401)


def test_a_refused_registration_spends_no_use(srv):
    made = initial_token(srv, "--uses", "1")
    bad = register(srv, web_app(redirect_uris=["myapp:/cb"]), token=made["token"])
    assert_registration_error(bad, "invalid_redirect_uri")
    assert register(srv, web_app(), token=made["token"]).status_code == 201
    assert_registration_error(register(srv, web_app(), token=made["token"]), "invalid_token", 401)


def test_an_expired_initial_access_token_is_refused(srv):
    made = initial_token(srv, "--expires-in", "1")
    assert made["expires_at"]
    time.sleep(1.5)
    assert_registration_error(register(srv, web_app(), token=made["token"]), "invalid_token", 401)


def test_initial_access_tokens_are_stored_hashed_and_the_cli_says_so(srv):
    proc = srv.cli("registration", "token", "create")
    assert proc.returncode == 0, proc.stderr
    token = next(word for word in proc.stdout.split() if word.startswith("agi_"))
    assert "not be shown again" in proc.stdout
    assert token not in srv.db.dump_text()


def test_the_policy_settings_are_checked_at_start():
    """The password grant is never open to registered clients; an unknown scope is named."""
    for env, named in ((("AUTHGATE_REGISTRATION_GRANTS", "authorization_code password"), "AUTHGATE_REGISTRATION_GRANTS"),
                       (("AUTHGATE_REGISTRATION", "sometimes"), "AUTHGATE_REGISTRATION")):
        proc = subprocess.run([sys.executable, "-m", "authgate", "registration", "token", "create"],
                              env={"PATH": "/usr/bin:/bin", "PYTHONPATH": ":".join(sys.path), env[0]: env[1]},
                              capture_output=True, text=True, timeout=CLI_TIMEOUT)
        assert named in one_line_error(proc)


# -- the grant policy: client credentials, never a directory read -------------------------------------------

def test_a_registered_service_gets_client_credentials_tokens(srv):
    info = registered(srv, service(scope="profile"), token=initial_token(srv)["token"])
    assert info["grant_types"] == ["client_credentials"] and info["response_types"] == []
    r = token_request(srv, {"grant_type": "client_credentials"}, auth=(info["client_id"], info["client_secret"]))
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("scope", ["users:read", "groups:read", "openid users:read"])
def test_a_registered_client_is_never_let_read_the_directory_with_client_credentials(srv, scope):
    """Only an administrator, the CLI or a holder of view-users / view-groups may give a service client a
    directory read (PermissionService); a client that registers itself has nobody who gave it."""
    body = assert_registration_error(register(srv, service(scope=scope), token=initial_token(srv)["token"]),
                                     "invalid_client_metadata")
    assert "directory" in body["error_description"]
    code_flow = registered(srv, web_app(scope=scope), token=initial_token(srv)["token"])
    assert scope.split()[-1] in code_flow["scope"].split(), "for a user's own consent the scope is fine"


def test_a_public_client_cannot_use_client_credentials_rfc6749_2_1(srv):
    assert_registration_error(register(srv, service(token_endpoint_auth_method="none"),
                                       token=initial_token(srv)["token"]), "invalid_client_metadata")


# -- an expiring secret ----------------------------------------------------------------------------------------

def test_a_registered_clients_secret_expires_rfc7591_3_2_1(srv):
    """``client_secret_expires_at`` is when the secret stops working: after it, every way of presenting the
    secret (Basic, the body, the body without client_id) is invalid_client."""
    info = registered(srv, service(scope="profile"), token=initial_token(srv)["token"])
    assert info["client_id_issued_at"] + SECRET_SECONDS - 1 <= info["client_secret_expires_at"] \
        <= info["client_id_issued_at"] + SECRET_SECONDS + 1
    basic = (info["client_id"], info["client_secret"])
    assert token_request(srv, {"grant_type": "client_credentials"}, auth=basic).status_code == 200
    time.sleep(max(0.0, info["client_secret_expires_at"] - time.time()) + 1.2)
    assert_token_error(token_request(srv, {"grant_type": "client_credentials"}, auth=basic), "invalid_client", 401)
    in_body = {"grant_type": "client_credentials", "client_id": info["client_id"],
               "client_secret": info["client_secret"]}
    assert_token_error(token_request(srv, in_body), "invalid_client", 401)
    assert_token_error(token_request(srv, {"grant_type": "client_credentials",
                                           "client_secret": info["client_secret"]}), "invalid_client", 401)
    introspected = requests.post(srv.url("/oauth/introspect"), data={"token": "x"}, auth=basic, timeout=HTTP_TIMEOUT)
    assert introspected.status_code == 401


# -- an independent client library ----------------------------------------------------------------------------

def test_authlibs_client_runs_the_code_flow_of_a_registered_client(srv):
    """Registration by plain HTTP (Authlib has no registration client), then Authlib's OAuth2Session —
    written against the RFCs by others — does PKCE, the code exchange with client_secret_basic, and a refresh."""
    meta = requests.get(srv.url("/.well-known/openid-configuration"), timeout=HTTP_TIMEOUT).json()
    info = requests.post(meta["registration_endpoint"], timeout=HTTP_TIMEOUT,
                         headers={"Authorization": f"Bearer {initial_token(srv)['token']}"},
                         json={"client_name": "Authlib app", "redirect_uris": ["https://app.example.org/cb"],
                               "scope": "openid profile offline_access"}).json()
    user = srv.create_user()
    session = OAuth2Session(info["client_id"], info["client_secret"], scope="openid profile offline_access",
                            redirect_uri=info["redirect_uris"][0], code_challenge_method="S256",
                            token_endpoint_auth_method=info["token_endpoint_auth_method"])
    verifier = generate_token(48)
    url, _ = session.create_authorization_url(meta["authorization_endpoint"], code_verifier=verifier)
    assert create_s256_code_challenge(verifier) in url
    location = Browser(srv).authorize(url, user)
    token = session.fetch_token(meta["token_endpoint"], authorization_response=location, code_verifier=verifier)
    assert token["id_token"] and token["refresh_token"]
    renewed = session.refresh_token(meta["token_endpoint"], refresh_token=token["refresh_token"])
    assert renewed["access_token"] != token["access_token"]
