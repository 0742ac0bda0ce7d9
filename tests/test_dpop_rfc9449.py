"""DPoP (RFC 9449): tokens bound to a key the client proves it holds, at the token endpoint (§5) and at
authgate's API (§7), with an independent client library (requests-oauth2client, which makes its own
proofs and follows nonces) and with proofs made here to break one rule at a time (§4.3)."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time

import pytest
import requests
from joserfc import jwt
from joserfc.jwk import ECKey, OctKey, RSAKey
from requests_oauth2client import ApiClient, OAuth2Client

from support import get_code, token_request, users_me

HTTP_TIMEOUT = 15


def proof(key, htm: str, htu: str, *, access_token: str | None = None, nonce: str | None = None,
          jti: str | None = None, iat: float | None = None, typ: str = "dpop+jwt", alg: str = "ES256",
          jwk: dict | None = None) -> str:
    """A DPoP proof JWT (§4.2), each part overridable to break it."""
    header = {"typ": typ, "alg": alg, "jwk": jwk if jwk is not None else key.as_dict(private=False)}
    claims = {"jti": jti or secrets.token_urlsafe(12), "htm": htm, "htu": htu, "iat": int(iat or time.time())}
    if access_token is not None:
        claims["ath"] = base64.urlsafe_b64encode(hashlib.sha256(access_token.encode()).digest()).rstrip(b"=").decode()
    if nonce is not None:
        claims["nonce"] = nonce
    return jwt.encode(header, claims, key, algorithms=[alg])


def claims_of(token: str) -> dict:
    body = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))


@pytest.fixture(scope="module")
def app(server):
    return server.create_client(grants=["password"])


@pytest.fixture(scope="module")
def user(server):
    return server.create_user()


def dpop_password_token(server, app, user, key, scope: str = "users:read") -> requests.Response:
    url = server.url("/oauth/token")
    return requests.post(url, data={"grant_type": "password", "username": user.username, "password": user.password,
                                    "scope": scope},
                         auth=app.basic, headers={"DPoP": proof(key, "POST", url)}, timeout=HTTP_TIMEOUT)


def me(server, token: str, key=None, *, scheme: str = "DPoP", dpop: str | None = None, method: str = "GET",
       url: str | None = None) -> requests.Response:
    target = server.url("/api/1.0/users/me")
    headers = {"Authorization": f"{scheme} {token}"}
    if dpop is None and key is not None:
        dpop = proof(key, method, url or target, access_token=token)
    if dpop is not None:
        headers["DPoP"] = dpop
    return requests.get(target, headers=headers, timeout=HTTP_TIMEOUT)


def test_requests_oauth2client_gets_a_dpop_token_and_calls_the_api_with_it(server, app, user):
    """§5: ``token_type`` DPoP and ``cnf.jkt`` the key's thumbprint (§6.1); §7: the API takes it with a proof
    naming the token (``ath``) — proofs made by the library, not by us."""
    client = OAuth2Client(token_endpoint=server.url("/oauth/token"), client_id=app.client_id,
                          client_secret=app.client_secret, testing=True)
    token = client.resource_owner_password(user.username, user.password, scope="users:read", dpop=True)
    assert token.token_type.lower() == "dpop"
    assert claims_of(str(token.access_token))["cnf"]["jkt"] == token.dpop_key.private_key.thumbprint()
    api = ApiClient(server.url("/api/1.0"), auth=token)
    r = api.get("/users/me", raise_for_status=False)
    assert r.status_code == 200, r.text
    assert r.json()["username"] == user.username


def test_a_dpop_token_sent_as_a_bearer_token_is_refused(server, app, user):
    """§7.1: a DPoP-bound token is not a bearer token (also on the fast lane's path, /users/me)."""
    key = ECKey.generate_key("P-256")
    token = dpop_password_token(server, app, user, key).json()["access_token"]
    for _ in range(2):  # the second would come from memory
        r = me(server, token, scheme="Bearer")
        assert r.status_code == 401
        assert r.headers["www-authenticate"].startswith("DPoP ") and 'error="invalid_token"' in r.headers["www-authenticate"]
    assert me(server, token, key).status_code == 200


def test_a_proof_for_another_url_or_method_is_refused(server, app, user):
    """§4.3 steps 8 and 9: ``htm`` and ``htu`` must be this request's."""
    key = ECKey.generate_key("P-256")
    token = dpop_password_token(server, app, user, key).json()["access_token"]
    other_url = me(server, token, key, url=server.url("/api/1.0/users"))
    other_method = me(server, token, key, method="POST")
    for r in (other_url, other_method):
        assert r.status_code == 401 and 'error="invalid_dpop_proof"' in r.headers["www-authenticate"], r.headers


def test_a_proof_used_twice_is_refused(server, app, user):
    """§11.1: the ``jti`` of a proof is remembered; the same proof again is a replay."""
    key = ECKey.generate_key("P-256")
    token = dpop_password_token(server, app, user, key).json()["access_token"]
    once = proof(key, "GET", server.url("/api/1.0/users/me"), access_token=token)
    assert me(server, token, dpop=once).status_code == 200
    again = me(server, token, dpop=once)
    assert again.status_code == 401 and "used before" in again.headers["www-authenticate"]


def test_a_proof_by_another_key_or_for_another_token_is_refused(server, app, user):
    """§4.3 step 12 (``ath``) and §7.1 (the key the token is bound to)."""
    key, thief = ECKey.generate_key("P-256"), ECKey.generate_key("P-256")
    token = dpop_password_token(server, app, user, key).json()["access_token"]
    assert me(server, token, thief).status_code == 401
    wrong_ath = proof(key, "GET", server.url("/api/1.0/users/me"), access_token=token + "x")
    assert me(server, token, dpop=wrong_ath).status_code == 401
    no_ath = proof(key, "GET", server.url("/api/1.0/users/me"))
    assert me(server, token, dpop=no_ath).status_code == 401


def signed_claims(key, claims: dict) -> str:
    """A proof whose claims are exactly ``claims`` (JSON's NaN included, which Python's encoder writes)."""
    return jwt.encode({"typ": "dpop+jwt", "alg": "ES256", "jwk": key.as_dict(private=False)}, claims, key,
                      algorithms=["ES256"])


WEIRD_CLAIMS = {"iat_nan": {"iat": float("nan")},
                "htu_port_out_of_range": {"htu": "http://127.0.0.1:99999999/x"},
                "htu_broken_ipv6": {"htu": "http://[::1/x"}}


@pytest.mark.parametrize("weird", WEIRD_CLAIMS)
def test_a_proof_with_an_unreadable_iat_or_htu_is_refused_not_a_500_rfc9449_4_3(server, app, user, weird):
    """§4.3 steps 9 and 11: a proof whose ``iat`` is NaN (no time at all) or whose ``htu`` is no URL (a port out
    of range, a broken IPv6 literal) is ``invalid_dpop_proof`` at the token endpoint and ``invalid_token`` with
    the DPoP challenge at the API (§7.1); it was a 500."""
    key = ECKey.generate_key("P-256")
    url = server.url("/oauth/token")
    base = {"jti": secrets.token_urlsafe(12), "htm": "POST", "htu": url, "iat": int(time.time())}
    r = requests.post(url, data={"grant_type": "password", "username": user.username, "password": user.password},
                      auth=app.basic, headers={"DPoP": signed_claims(key, {**base, **WEIRD_CLAIMS[weird]})},
                      timeout=HTTP_TIMEOUT)
    assert r.status_code == 400 and r.json()["error"] == "invalid_dpop_proof", r.text
    token = dpop_password_token(server, app, user, key).json()["access_token"]
    target = server.url("/api/1.0/users/me")
    at_api = {**base, "htm": "GET", "htu": target, "jti": secrets.token_urlsafe(12),
              "ath": base64.urlsafe_b64encode(hashlib.sha256(token.encode()).digest()).rstrip(b"=").decode(),
              **WEIRD_CLAIMS[weird]}
    r = me(server, token, dpop=signed_claims(key, at_api))
    assert r.status_code == 401 and "invalid_dpop_proof" in r.headers.get("www-authenticate", ""), (r.text, r.headers)


@pytest.mark.parametrize("broken", ["typ", "none", "hmac", "private_jwk", "old", "future", "two_headers", "not_jwt"])
def test_the_token_endpoint_refuses_a_broken_proof(server, app, user, broken):
    """§4.3 steps 1-7 and 11, answered ``invalid_dpop_proof`` (§5)."""
    key = ECKey.generate_key("P-256")
    url = server.url("/oauth/token")
    headers = {"DPoP": proof(key, "POST", url)}
    if broken == "typ":
        headers["DPoP"] = proof(key, "POST", url, typ="JWT")
    elif broken == "none":
        head = base64.urlsafe_b64encode(json.dumps({"typ": "dpop+jwt", "alg": "none",
                                                    "jwk": key.as_dict(private=False)}).encode()).rstrip(b"=").decode()
        headers["DPoP"] = head + "." + headers["DPoP"].split(".")[1] + "."
    elif broken == "hmac":
        secret = OctKey.generate_key(256)
        headers["DPoP"] = proof(secret, "POST", url, alg="HS256", jwk=secret.as_dict(private=False))
    elif broken == "private_jwk":
        headers["DPoP"] = proof(key, "POST", url, jwk=key.as_dict(private=True))
    elif broken == "old":
        headers["DPoP"] = proof(key, "POST", url, iat=time.time() - 3600)
    elif broken == "future":
        headers["DPoP"] = proof(key, "POST", url, iat=time.time() + 3600)
    elif broken == "not_jwt":
        headers["DPoP"] = "not-a-jwt"
    data = {"grant_type": "password", "username": user.username, "password": user.password}
    if broken == "two_headers":
        session = requests.Session()
        prepared = session.prepare_request(requests.Request("POST", url, data=data, auth=app.basic))
        prepared.headers["DPoP"] = headers["DPoP"] + ", " + proof(key, "POST", url)
        r = session.send(prepared, timeout=HTTP_TIMEOUT)
        assert r.status_code == 400 and r.json()["error"] == "invalid_dpop_proof", r.text
        return
    r = requests.post(url, data=data, auth=app.basic, headers=headers, timeout=HTTP_TIMEOUT)
    assert r.status_code == 400 and r.json()["error"] == "invalid_dpop_proof", r.text


def test_rsa_proofs_work_too_and_introspection_names_the_binding(server, app, user):
    """§4.2: any asymmetric algorithm; §6.2: introspection says ``cnf.jkt`` and ``token_type`` DPoP."""
    key = RSAKey.generate_key(2048)
    url = server.url("/oauth/token")
    r = requests.post(url, data={"grant_type": "password", "username": user.username, "password": user.password},
                      auth=app.basic, headers={"DPoP": proof(key, "POST", url, alg="PS256")}, timeout=HTTP_TIMEOUT)
    assert r.status_code == 200 and r.json()["token_type"] == "DPoP", r.text
    token = r.json()["access_token"]
    info = requests.post(server.url("/oauth/introspect"), data={"token": token}, auth=app.basic,
                         timeout=HTTP_TIMEOUT).json()
    assert info["active"] is True and info["token_type"] == "DPoP" and info["cnf"] == {"jkt": key.thumbprint()}


def test_without_a_proof_tokens_stay_bearer_tokens(server, app, user):
    """A client that sends no proof gets what it always got (RFC 6750), and a bearer token sent as DPoP is refused."""
    r = token_request(server, {"grant_type": "password", "username": user.username, "password": user.password},
                      auth=app.basic)
    body = r.json()
    assert body["token_type"] == "Bearer" and "cnf" not in claims_of(body["access_token"])
    assert users_me(server, body["access_token"]).status_code == 200
    key = ECKey.generate_key("P-256")
    assert me(server, body["access_token"], key).status_code == 401


def test_the_metadata_lists_the_proof_algorithms(server):
    """§5.1: ``dpop_signing_alg_values_supported``, asymmetric only."""
    doc = requests.get(server.url("/.well-known/oauth-authorization-server"), timeout=HTTP_TIMEOUT).json()
    algs = doc["dpop_signing_alg_values_supported"]
    assert "ES256" in algs and "RS256" in algs and not any(a.startswith("HS") or a == "none" for a in algs)


# -- a public client's refresh tokens (§5) and server nonces (§8) -----------------------------------------------


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def public_tokens(server, spa, user, key) -> dict:
    verifier, challenge = pkce()
    code = get_code(server, spa, user, challenge=challenge, scope="users:read")
    url = server.url("/oauth/token")
    r = requests.post(url, data={"grant_type": "authorization_code", "code": code, "redirect_uri": spa.redirect_uri,
                                 "client_id": spa.client_id, "code_verifier": verifier},
                      headers={"DPoP": proof(key, "POST", url)}, timeout=HTTP_TIMEOUT)
    assert r.status_code == 200, r.text
    return r.json()


def refresh_with(server, spa, refresh_token: str, key=None) -> requests.Response:
    url = server.url("/oauth/token")
    headers = {"DPoP": proof(key, "POST", url)} if key is not None else {}
    return requests.post(url, data={"grant_type": "refresh_token", "refresh_token": refresh_token,
                                    "client_id": spa.client_id}, headers=headers, timeout=HTTP_TIMEOUT)


def test_a_public_clients_refresh_token_works_only_with_its_key(server, user):
    """§5: a public client's refresh token is bound to the DPoP key; a refresh by another key, or with no
    proof, is refused and leaves the token working; the new access token is bound again."""
    spa = server.create_client(public=True, redirect_uris=["https://spa.example.org/cb"])
    key, thief = ECKey.generate_key("P-256"), ECKey.generate_key("P-256")
    tokens = public_tokens(server, spa, user, key)
    stolen = refresh_with(server, spa, tokens["refresh_token"], thief)
    assert stolen.status_code == 400 and stolen.json()["error"] == "invalid_dpop_proof", stolen.text
    assert refresh_with(server, spa, tokens["refresh_token"]).json()["error"] == "invalid_dpop_proof"
    renewed = refresh_with(server, spa, tokens["refresh_token"], key)
    assert renewed.status_code == 200, renewed.text
    assert claims_of(renewed.json()["access_token"])["cnf"]["jkt"] == key.thumbprint()
    assert me(server, renewed.json()["access_token"], key).status_code == 200


@pytest.fixture(scope="module")
def nonce_server(server_factory):
    return server_factory({"AUTHGATE_DPOP_NONCES": "1"})


def test_with_nonces_on_a_proof_without_one_gets_use_dpop_nonce_and_the_nonce(nonce_server):
    """§8: ``use_dpop_nonce`` with ``DPoP-Nonce``; the retry with it succeeds, and names the next nonce (§8.2)."""
    app, user = nonce_server.create_client(grants=["password"]), nonce_server.create_user()
    key = ECKey.generate_key("P-256")
    url = nonce_server.url("/oauth/token")
    data = {"grant_type": "password", "username": user.username, "password": user.password}
    first = requests.post(url, data=data, auth=app.basic, headers={"DPoP": proof(key, "POST", url)}, timeout=HTTP_TIMEOUT)
    assert first.status_code == 400 and first.json()["error"] == "use_dpop_nonce", first.text
    nonce = first.headers["DPoP-Nonce"]
    forged = requests.post(url, data=data, auth=app.basic, headers={"DPoP": proof(key, "POST", url, nonce="made-up")},
                           timeout=HTTP_TIMEOUT)
    assert forged.json()["error"] == "use_dpop_nonce"
    retry = requests.post(url, data=data, auth=app.basic, headers={"DPoP": proof(key, "POST", url, nonce=nonce)},
                          timeout=HTTP_TIMEOUT)
    assert retry.status_code == 200 and retry.json()["token_type"] == "DPoP", retry.text
    assert retry.headers["DPoP-Nonce"]


def test_requests_oauth2client_follows_the_nonce_by_itself(nonce_server):
    """The library's own nonce handling (§8) against authgate's."""
    app, user = nonce_server.create_client(grants=["password"]), nonce_server.create_user()
    client = OAuth2Client(token_endpoint=nonce_server.url("/oauth/token"), client_id=app.client_id,
                          client_secret=app.client_secret, testing=True)
    token = client.resource_owner_password(user.username, user.password, scope="users:read", dpop=True)
    assert token.token_type.lower() == "dpop"
    r = ApiClient(nonce_server.url("/api/1.0"), auth=token).get("/users/me", raise_for_status=False)
    assert r.status_code == 200, r.text


# -- authgate-client's dpop=True --------------------------------------------------------------------------------


def test_the_python_client_with_dpop_gets_bound_tokens_and_uses_them_through_every_adapter(server, app, user):
    """``Client(dpop=True)``: the token request carries a proof (§5), the API calls carry a proof naming the
    token (§7), through ``client.get``, the httpx auth and the requests auth."""
    import httpx

    from authgate_client import Client

    with Client(server.issuer, app.client_id, app.client_secret, scopes="users:read", store="memory",
                dpop=True) as client:
        tokens = client.login_password(user.username, user.password)
        assert tokens.token_type == "DPoP" and tokens.dpop_jwk is not None
        assert claims_of(tokens.access_token)["cnf"]["jkt"] == client._dpop_key.thumbprint
        assert client.get("/api/1.0/users/me").json()["username"] == user.username
        assert httpx.get(server.url("/api/1.0/users/me"), auth=client.auth, timeout=HTTP_TIMEOUT).status_code == 200
        assert requests.get(server.url("/api/1.0/users/me?x=1"), auth=client.requests_auth(),
                            timeout=HTTP_TIMEOUT).status_code == 200
        assert users_me(server, tokens.access_token).status_code == 401  # the bare token is no bearer token


def test_the_key_is_kept_with_the_tokens_so_another_process_refreshes_and_calls(server, user, tmp_path):
    """A public client's tokens and their key in the file store (0600): a second ``Client`` (another run)
    refreshes with a proof by the same key (§5) and calls the API with it."""
    from authgate_client import Client

    spa = server.create_client(public=True, redirect_uris=["https://spa.example.org/cb"])
    key = ECKey.generate_key("P-256")
    first = public_tokens(server, spa, user, key)
    with Client(server.issuer, spa.client_id, store="file", cache_dir=tmp_path, dpop=True, user=user.username) as one:
        from authgate_client.tokens import TokenSet

        stored = TokenSet.from_response(first, "authorization_code")
        stored.dpop_jwk = key.as_dict(private=True)
        one._remember(stored, user.username)
    with Client(server.issuer, spa.client_id, store="file", cache_dir=tmp_path, dpop=True, user=user.username) as two:
        renewed = two.refresh()
        assert renewed.token_type == "DPoP" and claims_of(renewed.access_token)["cnf"]["jkt"] == key.thumbprint()
        assert two.get("/api/1.0/users/me").status_code == 200


def test_the_python_client_follows_the_servers_nonce(nonce_server):
    """§8: the first token request is answered ``use_dpop_nonce``; the client retries with the nonce."""
    from authgate_client import Client

    app, user = nonce_server.create_client(grants=["password"]), nonce_server.create_user()
    with Client(nonce_server.issuer, app.client_id, app.client_secret, store="memory", dpop=True) as client:
        assert client.login_password(user.username, user.password).token_type == "DPoP"
        assert client.get("/api/1.0/users/me").status_code == 200


# -- server nonces at the API (§9) ------------------------------------------------------------------------------

def nonce_token(server, app, user, key) -> str:
    """A DPoP-bound token from the nonce server (the token endpoint's nonce round trip, §8)."""
    url = server.url("/oauth/token")
    data = {"grant_type": "password", "username": user.username, "password": user.password, "scope": "users:read"}
    first = requests.post(url, data=data, auth=app.basic, headers={"DPoP": proof(key, "POST", url)}, timeout=HTTP_TIMEOUT)
    nonce = first.headers["DPoP-Nonce"]
    r = requests.post(url, data=data, auth=app.basic, headers={"DPoP": proof(key, "POST", url, nonce=nonce)},
                      timeout=HTTP_TIMEOUT)
    assert r.status_code == 200, r.text
    return r.json()["access_token"]


def test_the_api_asks_for_a_nonce_and_takes_the_proof_that_carries_it_rfc9449_9(nonce_server):
    """§9: with ``AUTHGATE_DPOP_NONCES`` a resource request whose proof has no (or a made-up) nonce gets 401,
    ``WWW-Authenticate: DPoP error="use_dpop_nonce"`` and ``DPoP-Nonce``; the proof with that nonce is taken."""
    app, user = nonce_server.create_client(grants=["password"]), nonce_server.create_user()
    key = ECKey.generate_key("P-256")
    token = nonce_token(nonce_server, app, user, key)
    target = nonce_server.url("/api/1.0/users/me")
    first = me(nonce_server, token, key)
    assert first.status_code == 401, first.text
    challenge = first.headers["WWW-Authenticate"]
    assert challenge.startswith("DPoP ") and 'error="use_dpop_nonce"' in challenge, challenge
    nonce = first.headers["DPoP-Nonce"]
    forged = me(nonce_server, token, dpop=proof(key, "GET", target, access_token=token, nonce="made-up"))
    assert forged.status_code == 401 and 'error="use_dpop_nonce"' in forged.headers["WWW-Authenticate"]
    ok = me(nonce_server, token, dpop=proof(key, "GET", target, access_token=token, nonce=nonce))
    assert ok.status_code == 200, ok.text
    assert ok.json()["username"] == user.username


def test_the_python_client_follows_the_apis_nonce_rfc9449_9(nonce_server, tmp_path):
    """§9 with ``Client(dpop=True)``: a second run has the key and the tokens from the file store but no nonce;
    its first API call is answered ``use_dpop_nonce`` and sent again with the nonce, through ``client.get``, the
    httpx auth and the requests auth."""
    import httpx

    from authgate_client import Client

    app, user = nonce_server.create_client(grants=["password"]), nonce_server.create_user()
    options = dict(store="file", cache_dir=tmp_path, dpop=True, user=user.username, scopes="users:read")
    with Client(nonce_server.issuer, app.client_id, app.client_secret, **options) as one:
        assert one.login_password(user.username, user.password).token_type == "DPoP"
    seen: list[int] = []
    with Client(nonce_server.issuer, app.client_id, app.client_secret, **options) as two:
        with httpx.Client(auth=two.auth, event_hooks={"response": [lambda r: seen.append(r.status_code)]}) as http:
            assert http.get(nonce_server.url("/api/1.0/users/me"), timeout=HTTP_TIMEOUT).status_code == 200
        assert seen == [401, 200]
        assert two.get("/api/1.0/users/me").status_code == 200
    with Client(nonce_server.issuer, app.client_id, app.client_secret, **options) as three:
        r = requests.get(nonce_server.url("/api/1.0/users/me"), auth=three.requests_auth(), timeout=HTTP_TIMEOUT)
        assert r.status_code == 200 and [h.status_code for h in r.history] == [401]
