"""DPoP beyond the token request (RFC 9449): ``dpop_jkt`` at the authorization endpoint binds the code to a key
(§10), and a client registered with ``dpop_bound_access_tokens`` (§5.2) is refused every token request without a
proof, before its code or refresh token is spent."""

from __future__ import annotations

import secrets
import time

import pytest
import requests
from joserfc import jwt
from joserfc.jwk import ECKey

from support import Browser, authorization_params, query_params, token_request
from support.registration import register

HTTP_TIMEOUT = 15


def proof(server, key) -> str:
    claims = {"jti": secrets.token_urlsafe(12), "htm": "POST", "htu": server.url("/oauth/token"),
              "iat": int(time.time())}
    return jwt.encode({"typ": "dpop+jwt", "alg": "ES256", "jwk": key.as_dict(private=False)}, claims, key,
                      algorithms=["ES256"])


def new_key():
    return ECKey.generate_key("P-256")


def code_for(server, app, user, **params) -> str:
    location = Browser(server).authorize(authorization_params(app, **params), user)
    return query_params(location)["code"]


def exchange(server, app, code, key=None) -> requests.Response:
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": app.redirect_uri}
    return token_request(server, data, auth=app.basic, headers={"DPoP": proof(server, key)} if key else None)


@pytest.fixture(scope="module")
def app(server):
    return server.create_client(grants=["authorization_code"], redirect_uris=["https://jkt.example.org/cb"])


@pytest.fixture(scope="module")
def user(server):
    return server.create_user()


def test_a_code_bound_by_dpop_jkt_is_exchanged_with_a_proof_by_that_key(server, app, user):
    """§10: the authorization server binds the code to ``dpop_jkt``; the exchange proven by that key succeeds and
    its token is bound to it."""
    key = new_key()
    code = code_for(server, app, user, dpop_jkt=key.thumbprint())
    r = exchange(server, app, code, key)
    assert r.status_code == 200, r.text
    assert r.json()["token_type"] == "DPoP"


def test_a_code_bound_by_dpop_jkt_is_refused_with_another_key_or_no_proof(server, app, user):
    """§10: a proof by another key, or none at all, is ``invalid_dpop_proof``."""
    key = new_key()
    code = code_for(server, app, user, dpop_jkt=key.thumbprint())
    r = exchange(server, app, code, new_key())
    assert r.status_code == 400 and r.json()["error"] == "invalid_dpop_proof", r.text
    code = code_for(server, app, user, dpop_jkt=key.thumbprint())
    r = exchange(server, app, code)
    assert r.status_code == 400 and r.json()["error"] == "invalid_dpop_proof", r.text


def test_dpop_jkt_pushed_with_par_binds_the_code(server, app, user):
    """§10 with RFC 9126: ``dpop_jkt`` sent in the pushed request binds the code just the same."""
    key = new_key()
    r = requests.post(server.url("/oauth/par"), data=authorization_params(app, dpop_jkt=key.thumbprint()),
                      auth=app.basic, timeout=HTTP_TIMEOUT)
    assert r.status_code == 201, r.text
    location = Browser(server).authorize({"client_id": app.client_id, "request_uri": r.json()["request_uri"]}, user)
    code = query_params(location)["code"]
    assert exchange(server, app, code, new_key()).json()["error"] == "invalid_dpop_proof"
    fresh = Browser(server)
    r = requests.post(server.url("/oauth/par"), data=authorization_params(app, dpop_jkt=key.thumbprint()),
                      auth=app.basic, timeout=HTTP_TIMEOUT)
    code = query_params(fresh.authorize({"client_id": app.client_id, "request_uri": r.json()["request_uri"]},
                                        user))["code"]
    assert exchange(server, app, code, key).status_code == 200


def test_a_client_that_must_use_dpop_is_refused_without_a_proof_and_nothing_is_spent(server, user):
    """§5.2 ``dpop_bound_access_tokens`` (``clients update --require-dpop``): a token request without a proof is
    ``invalid_dpop_proof``, checked before the grant, so the same code and refresh token then work with one."""
    app = server.create_client(grants=["authorization_code"], redirect_uris=["https://must.example.org/cb"])
    assert server.cli_json("clients", "update", app.client_id, "--require-dpop")["dpop_bound_access_tokens"] is True
    key = new_key()
    code = code_for(server, app, user)
    r = exchange(server, app, code)
    assert r.status_code == 400 and r.json()["error"] == "invalid_dpop_proof", r.text
    r = exchange(server, app, code, key)
    assert r.status_code == 200, r.text
    refresh_token = r.json()["refresh_token"]
    refresh = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    r = token_request(server, refresh, auth=app.basic)
    assert r.status_code == 400 and r.json()["error"] == "invalid_dpop_proof", r.text
    r = token_request(server, refresh, auth=app.basic, headers={"DPoP": proof(server, key)})
    assert r.status_code == 200 and r.json()["token_type"] == "DPoP", r.text
    server.cli_json("clients", "update", app.client_id, "--no-require-dpop")
    refresh = {"grant_type": "refresh_token", "refresh_token": r.json()["refresh_token"]}
    deadline = time.monotonic() + 5
    while (r := token_request(server, refresh, auth=app.basic)).status_code == 400 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert r.status_code == 200, r.text


@pytest.fixture(scope="module")
def open_registration(server_factory):
    return server_factory({"AUTHGATE_REGISTRATION": "open"})


def test_registration_metadata_sets_both_requirements(open_registration):
    """RFC 7591 metadata: ``dpop_bound_access_tokens`` (RFC 9449 §5.2) and
    ``require_pushed_authorization_requests`` (RFC 9126 §6) are kept, answered, and act."""
    r = register(open_registration, {"redirect_uris": ["https://reg.example.org/cb"], "dpop_bound_access_tokens": True,
                                     "require_pushed_authorization_requests": True})
    assert r.status_code == 201, r.text
    info = r.json()
    assert info["dpop_bound_access_tokens"] is True and info["require_pushed_authorization_requests"] is True
    shown = open_registration.cli_json("clients", "show", info["client_id"])
    assert shown["dpop_bound_access_tokens"] is True and shown["require_pushed_authorization_requests"] is True
    r = register(open_registration, {"redirect_uris": ["https://reg.example.org/cb"], "dpop_bound_access_tokens": "yes"})
    assert r.status_code == 400 and r.json()["error"] == "invalid_client_metadata"
    plain = register(open_registration, {"redirect_uris": ["https://reg.example.org/cb"]}).json()
    assert plain["dpop_bound_access_tokens"] is False and plain["require_pushed_authorization_requests"] is False


def test_the_api_sets_and_shows_both_requirements(server, admin):
    """The client JSON of ``/api/1.0/oauth/clients`` carries ``dpop_bound_access_tokens`` (RFC 9449 §5.2) and
    ``require_pushed_authorization_requests`` (RFC 9126 §6), and a PUT changes them."""
    app = server.create_client(grants=["authorization_code"], redirect_uris=["https://api.example.org/cb"])
    body = admin.ok("PUT", f"/oauth/clients/{app.client_id}",
                    json={"dpop_bound_access_tokens": True, "require_pushed_authorization_requests": True})
    assert body["dpop_bound_access_tokens"] is True and body["require_pushed_authorization_requests"] is True
    r = token_request(server, {"grant_type": "authorization_code", "code": "x", "redirect_uri": app.redirect_uri},
                      auth=app.basic)
    assert r.status_code == 400 and r.json()["error"] == "invalid_dpop_proof", r.text
    body = admin.ok("GET", f"/oauth/clients/{app.client_id}")
    assert body["require_pushed_authorization_requests"] is True
