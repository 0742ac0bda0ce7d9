"""The FAPI 2.0 Security Profile (OpenID Foundation, final), per client (``clients update --profile fapi2``) on the
session server and server-wide (``AUTHGATE_PROFILE=fapi2``) on a server of its own: the happy path by an
independent client library (requests-oauth2client: PAR, PKCE, DPoP, private_key_jwt), then one refusal per rule
the profile adds, each with the error the standards name."""

from __future__ import annotations

import base64
import json
import secrets
import time

import pytest
import requests
import sqlalchemy as sa
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet, RSAKey
from requests_oauth2client import ApiClient, OAuth2Client, PrivateKeyJwt

from support import Browser, authorization_params, parse_page, pkce_pair, query_params, unique

HTTP_TIMEOUT = 15
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
FAPI_ALGS = {"PS256", "ES256", "EdDSA"}


def header_of(token: str) -> dict:
    part = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


class Keyed:
    """A confidential client with keys (an EC key it may use, an RSA key for RS256 it may not), made by the CLI."""

    def __init__(self, server, *, grants=("authorization_code", "client_credentials"), profile: str | None = "fapi2",
                 redirect_uri: str = "https://fapi.example.org/cb"):
        self.ec = ECKey.generate_key("P-256", parameters={"kid": unique("ec")})
        self.rsa = RSAKey.generate_key(2048, parameters={"kid": unique("rsa")})
        path = server.workdir / f"{unique('jwks')}.json"
        path.write_text(json.dumps({"keys": [self.ec.as_dict(private=False), self.rsa.as_dict(private=False)]}))
        args = ["clients", "create", "--name", unique("fapi"), "--auth-method", "private_key_jwt",
                "--jwks-file", str(path), "--redirect-uri", redirect_uri]
        for grant in grants:
            args += ["--grant", grant]
        if profile:
            args += ["--profile", profile]
        data = server.commands.run_json(*args)
        self.client_id = data["client_id"]
        self.redirect_uri = redirect_uri
        self.data = data
        self.issuer = server.issuer

    def assertion(self, *, key=None, alg: str = "ES256", aud=None) -> str:
        now = int(time.time())
        claims = {"iss": self.client_id, "sub": self.client_id, "aud": self.issuer if aud is None else aud,
                  "iat": now, "exp": now + 60, "jti": secrets.token_urlsafe(12)}
        key = key or self.ec
        return jwt.encode({"alg": alg, "kid": key.kid}, claims, key, algorithms=[alg])

    def form(self, **kwargs) -> dict:
        return {"client_assertion_type": ASSERTION_TYPE, "client_assertion": self.assertion(**kwargs)}

    def library(self, server) -> OAuth2Client:
        """requests-oauth2client, signing its assertions with aud = the issuer (§5.3.2.1 item 8)."""
        return OAuth2Client(token_endpoint=server.url("/oauth/token"),
                            authorization_endpoint=server.url("/oauth/authorize"),
                            pushed_authorization_request_endpoint=server.url("/oauth/par"),
                            auth=PrivateKeyJwt(self.client_id, self.ec.as_dict(private=True), alg="ES256",
                                               aud=server.issuer),
                            redirect_uri=self.redirect_uri, testing=True)


def proof(key, htm: str, htu: str, alg: str = "ES256") -> str:
    header = {"typ": "dpop+jwt", "alg": alg, "jwk": key.as_dict(private=False)}
    claims = {"jti": secrets.token_urlsafe(12), "htm": htm, "htu": htu, "iat": int(time.time())}
    return jwt.encode(header, claims, key, algorithms=[alg])


def client_credentials(server, keyed: Keyed, dpop_key=None, dpop_alg: str = "ES256", **assertion) -> requests.Response:
    url = server.url("/oauth/token")
    headers = {"DPoP": proof(dpop_key, "POST", url, dpop_alg)} if dpop_key is not None else {}
    return requests.post(url, data={"grant_type": "client_credentials", **keyed.form(**assertion)}, headers=headers,
                         timeout=HTTP_TIMEOUT)


def push(server, keyed: Keyed, **params) -> requests.Response:
    data = authorization_params(keyed, **params)
    return requests.post(server.url("/oauth/par"), data={**data, **keyed.form()}, timeout=HTTP_TIMEOUT)


def error_of(r: requests.Response, status: int, error: str) -> None:
    assert r.status_code == status, (r.status_code, r.text)
    assert r.json()["error"] == error, r.text


@pytest.fixture(scope="module")
def fapi(server):
    return Keyed(server)


@pytest.fixture(scope="module")
def user(server):
    return server.create_user()


# -- the happy path --------------------------------------------------------------------------------------

def test_requests_oauth2client_completes_the_fapi2_code_flow(server, fapi, user):
    """FAPI 2.0 §5.3.2.2 with an independent client: a pushed request (items 3, 5) with PKCE S256 (item 4) and
    ``dpop_jkt``, private_key_jwt with aud = the issuer (§5.3.2.1 items 6, 8), a DPoP-bound token (item 4) and an ID
    token signed with PS256, ES256 or EdDSA (§5.4.1), ``iss`` in the authorization response (item 6, RFC 9207);
    the token then works at authgate's API with the library's DPoP proofs."""
    client = fapi.library(server)
    request = client.authorization_request(scope="openid users:read", dpop=True)
    by_uri = client.pushed_authorization_request(request)
    location = Browser(server).authorize(by_uri.uri, user)
    assert query_params(location)["iss"] == server.issuer
    # validate=False: requests-oauth2client 1.8.0 cannot copy a DPoPToken to check its ID token (a TypeError in
    # its validate_id_token), so the ID token is checked here against the published keys.
    token = client.authorization_code(request.validate_callback(location), validate=False)
    assert token.token_type.lower() == "dpop"
    assert header_of(str(token.access_token))["alg"] in FAPI_ALGS
    id_token = str(token.id_token)
    assert header_of(id_token)["alg"] in FAPI_ALGS
    jwks = KeySet.import_key_set(requests.get(server.url("/oauth/jwks"), timeout=HTTP_TIMEOUT).json())
    claims = jwt.decode(id_token, jwks, algorithms=sorted(FAPI_ALGS)).claims
    assert claims["aud"] == fapi.client_id and claims["iss"] == server.issuer
    r = ApiClient(server.url("/api/1.0"), auth=token).get("/users/me", raise_for_status=False)
    assert r.status_code == 200, r.text


def test_client_credentials_with_dpop_and_a_fapi_assertion_works(server, fapi):
    """§5.3.2.1: client credentials stay allowed, sender-constrained (``token_type`` DPoP)."""
    r = client_credentials(server, fapi, ECKey.generate_key("P-256"))
    assert r.status_code == 200, r.text
    assert r.json()["token_type"] == "DPoP"


def test_codes_of_a_fapi2_client_live_at_most_60_seconds(server, fapi, user):
    """§5.3.2.1 item 11, although ``AUTHGATE_AUTH_CODE_TTL`` is 600 s on this server."""
    verifier, challenge = pkce_pair()
    r = push(server, fapi, challenge=challenge)
    assert r.status_code == 201, r.text
    Browser(server).authorize({"client_id": fapi.client_id, "request_uri": r.json()["request_uri"]}, user)
    engine = sa.create_engine(server.db.url)
    try:
        with engine.connect() as c:
            created, expires = c.execute(sa.text(
                "SELECT c.created_at, c.expires_at FROM oauth_authorization_codes c JOIN oauth_clients o "
                "ON o.id = c.client_id WHERE o.client_id = :id ORDER BY c.id DESC"), {"id": fapi.client_id}).first()
    finally:
        engine.dispose()
    to_datetime = (lambda v: v) if not isinstance(created, str) else __import__("datetime").datetime.fromisoformat
    assert 0 < (to_datetime(expires) - to_datetime(created)).total_seconds() <= 60


# -- one refusal per rule ---------------------------------------------------------------------------------

def test_an_authorization_request_that_was_not_pushed_is_refused(server, fapi, user):
    """§5.3.2.2 item 3 (RFC 9126 §5): the error page says ``invalid_request``, nothing goes to the client."""
    _, challenge = pkce_pair()
    browser = Browser(server)
    browser.login(user)
    r = browser.open_authorize(authorization_params(fapi, challenge=challenge))
    assert r.status_code == 400, (r.status_code, r.headers.get("Location"))
    assert "invalid_request" in parse_page(r.text).text


def test_a_push_without_redirect_uri_is_refused(server, fapi):
    """§5.3.2.2 item 5: ``redirect_uri`` is required in the pushed request, even with one registered."""
    _, challenge = pkce_pair()
    data = authorization_params(fapi, challenge=challenge)
    data.pop("redirect_uri")
    r = requests.post(server.url("/oauth/par"), data={**data, **fapi.form()}, timeout=HTTP_TIMEOUT)
    error_of(r, 400, "invalid_request")
    assert "redirect_uri" in r.json()["error_description"]


def test_a_push_without_pkce_is_refused_for_a_confidential_client(server, fapi):
    """§5.3.2.2 item 4: PKCE with S256, also for a confidential client; ``plain`` is refused too."""
    error_of(push(server, fapi), 400, "invalid_request")
    error_of(push(server, fapi, code_challenge="x" * 43, code_challenge_method="plain"), 400, "invalid_request")


def test_a_token_request_without_a_dpop_proof_is_refused(server, fapi):
    """§5.3.2.1 item 4: only sender-constrained tokens: ``invalid_dpop_proof`` (RFC 9449 §5)."""
    error_of(client_credentials(server, fapi), 400, "invalid_dpop_proof")


def test_a_dpop_proof_signed_with_rs256_is_refused(server, fapi):
    """§5.4.1: PS256, ES256 or EdDSA only; an RS256 proof is ``invalid_dpop_proof`` (at the token endpoint and
    with a push)."""
    rsa = RSAKey.generate_key(2048)
    error_of(client_credentials(server, fapi, rsa, "RS256"), 400, "invalid_dpop_proof")
    assert client_credentials(server, fapi, rsa, "PS256").status_code == 200
    _, challenge = pkce_pair()
    data = {**authorization_params(fapi, challenge=challenge), **fapi.form()}
    r = requests.post(server.url("/oauth/par"), data=data, timeout=HTTP_TIMEOUT,
                      headers={"DPoP": proof(rsa, "POST", server.url("/oauth/par"), "RS256")})
    error_of(r, 400, "invalid_dpop_proof")


def test_a_client_assertion_signed_with_rs256_is_refused(server, fapi):
    """§5.4.1: the client's RS256 key is one of its keys, but not for a FAPI 2.0 client: ``invalid_client``."""
    error_of(client_credentials(server, fapi, ECKey.generate_key("P-256"), key=fapi.rsa, alg="RS256"),
             401, "invalid_client")
    plain = Keyed(server, grants=("client_credentials",), profile=None)
    assert client_credentials(server, plain, key=plain.rsa, alg="RS256").status_code == 200


@pytest.mark.parametrize("aud", ["token endpoint", "list"])
def test_a_client_assertion_with_another_aud_than_the_issuer_string_is_refused(server, fapi, aud):
    """§5.3.2.1 item 8: only the issuer, as a string, in ``aud``; the token endpoint URL or a list are refused."""
    value = server.url("/oauth/token") if aud == "token endpoint" else [server.issuer]
    error_of(client_credentials(server, fapi, ECKey.generate_key("P-256"), aud=value), 401, "invalid_client")


def test_the_profile_is_refused_to_a_registration_that_does_not_fit(server):
    """§5.3.2.1 items 2, 3, 6: a secret, a public client, the password grant; and an http redirect URI
    (§5.3.2.2 item 7) — the command says what does not fit."""
    secret = server.create_client(grants=["authorization_code"], redirect_uris=["https://s.example.org/cb"])
    proc = server.cli("clients", "update", secret.client_id, "--profile", "fapi2")
    assert proc.returncode != 0 and "private_key_jwt" in proc.stderr, proc.stderr
    public = server.create_client(grants=["authorization_code"], redirect_uris=["https://p.example.org/cb"],
                                  public=True)
    proc = server.cli("clients", "update", public.client_id, "--profile", "fapi2")
    assert proc.returncode != 0 and "confidential" in proc.stderr, proc.stderr
    keyed = Keyed(server, grants=("authorization_code", "password"), profile=None)
    proc = server.cli("clients", "update", keyed.client_id, "--profile", "fapi2")
    assert proc.returncode != 0 and "password" in proc.stderr, proc.stderr
    proc = server.cli("clients", "update", keyed.client_id, "--grant", "authorization_code", "--redirect-uri",
                      "http://app.example.org/cb", "--profile", "fapi2")
    assert proc.returncode != 0 and "https" in proc.stderr, proc.stderr
    shown = server.cli_json("clients", "update", keyed.client_id, "--grant", "authorization_code", "--profile", "fapi2")
    assert shown["profile"] == "fapi2"
    assert server.cli_json("clients", "update", keyed.client_id, "--profile", "none")["profile"] is None


@pytest.fixture(scope="module")
def own_server(server_factory):
    return server_factory()


def test_a_fapi2_client_leaves_every_other_client_on_rs256(own_server):
    """§5.4.1 holds FAPI 2.0 clients to PS256, ES256 or EdDSA; RFC 9068 §2.1 and OIDC Core §15.1 keep RS256 the
    default for everyone else. The ES256 key made for the first FAPI 2.0 client is reserved for such clients: the
    other clients' access and ID tokens stay RS256, and a rotation to RS256 keeps the reserved key signing."""
    fapi, app = Keyed(own_server), own_server.create_client(grants=["client_credentials", "password"])
    user = own_server.create_user()

    def others() -> str:
        r = requests.post(own_server.url("/oauth/token"), auth=app.basic, timeout=HTTP_TIMEOUT,
                          data={"grant_type": "password", "username": user.username, "password": user.password,
                                "scope": "users:read"})
        assert r.status_code == 200, r.text
        return header_of(r.json()["access_token"])["alg"]

    def roles() -> dict:
        return {k["kid"]: k for k in own_server.cli_json("keys", "list")["keys"]}

    def fapi_kid() -> str:
        r = client_credentials(own_server, fapi, ECKey.generate_key("P-256"))
        assert r.status_code == 200, r.text
        header = header_of(r.json()["access_token"])
        assert header["alg"] == "ES256"
        return header["kid"]

    reserved = fapi_kid()
    assert others() == "RS256"
    listed = roles()
    assert listed[reserved]["reserved_for"] == "fapi2" and listed[reserved]["signs"] == ["fapi2"]
    assert [k["signs"] for k in listed.values() if k["alg"] == "RS256"] == [["access_tokens", "id_tokens"]]

    rotated = own_server.cli_json("keys", "rotate", "--now")["kid"]
    listed = roles()
    assert listed[reserved]["status"] == "active" and listed[reserved]["signs"] == ["fapi2"]
    assert listed[rotated]["signs"] == ["access_tokens", "id_tokens"]
    assert fapi_kid() == reserved and others() == "RS256"
    meta = requests.get(own_server.url("/.well-known/openid-configuration"), timeout=HTTP_TIMEOUT).json()
    assert meta["id_token_signing_alg_values_supported"] == ["RS256", "ES256"]  # Discovery §3: every alg in use


# -- server-wide -------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def fapi_server(server_factory):
    return server_factory({"AUTHGATE_PROFILE": "fapi2"})


def test_the_metadata_advertises_the_server_wide_profile(fapi_server):
    """RFC 8414 §2 under ``AUTHGATE_PROFILE=fapi2``: pushed requests required, private_key_jwt only, the FAPI
    algorithms only, no password or device grant, ID tokens signed with a FAPI algorithm, ``iss`` in responses."""
    meta = requests.get(fapi_server.url("/.well-known/openid-configuration"), timeout=HTTP_TIMEOUT).json()
    assert meta["require_pushed_authorization_requests"] is True
    assert meta["token_endpoint_auth_methods_supported"] == ["private_key_jwt"]
    assert meta["introspection_endpoint_auth_methods_supported"] == ["private_key_jwt"]
    assert set(meta["token_endpoint_auth_signing_alg_values_supported"]) == FAPI_ALGS
    assert set(meta["dpop_signing_alg_values_supported"]) == FAPI_ALGS
    assert set(meta["grant_types_supported"]) == {"authorization_code", "refresh_token", "client_credentials"}
    assert "device_authorization_endpoint" not in meta
    assert set(meta["id_token_signing_alg_values_supported"]) <= FAPI_ALGS
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert meta["authorization_response_iss_parameter_supported"] is True


def test_a_secret_authenticated_client_is_refused_server_wide(fapi_server):
    """§5.3.2.1 item 6: with every client held to the profile, a client with a secret is ``invalid_client``
    (401), at the token endpoint and at the pushed authorization request endpoint."""
    app = fapi_server.create_client(grants=["authorization_code", "client_credentials"],
                                    redirect_uris=["https://wide.example.org/cb"])
    url = fapi_server.url("/oauth/token")
    r = requests.post(url, data={"grant_type": "client_credentials"}, auth=app.basic, timeout=HTTP_TIMEOUT,
                      headers={"DPoP": proof(ECKey.generate_key("P-256"), "POST", url)})
    error_of(r, 401, "invalid_client")
    _, challenge = pkce_pair()
    r = requests.post(fapi_server.url("/oauth/par"), data=authorization_params(app, challenge=challenge),
                      auth=app.basic, timeout=HTTP_TIMEOUT)
    error_of(r, 401, "invalid_client")


def test_the_password_grant_is_refused_server_wide(fapi_server):
    """§5.3.2.1 item 2: a keyed client registered with the password grant is ``unauthorized_client``."""
    keyed = Keyed(fapi_server, grants=("password", "client_credentials"), profile=None)
    user = fapi_server.create_user()
    url = fapi_server.url("/oauth/token")
    r = requests.post(url, data={"grant_type": "password", "username": user.username, "password": user.password,
                                 **keyed.form()},
                      headers={"DPoP": proof(ECKey.generate_key("P-256"), "POST", url)}, timeout=HTTP_TIMEOUT)
    error_of(r, 400, "unauthorized_client")
    assert client_credentials(fapi_server, keyed, ECKey.generate_key("P-256")).status_code == 200


def test_the_server_wide_profile_signs_tokens_with_a_fapi_key(fapi_server):
    """§5.4.1: with ``AUTHGATE_PROFILE=fapi2`` the first start makes an ES256 key beside the RS256 one, and access
    tokens are signed with it."""
    keyed = Keyed(fapi_server, grants=("client_credentials",), profile=None)
    r = client_credentials(fapi_server, keyed, ECKey.generate_key("P-256"))
    assert r.status_code == 200, r.text
    assert header_of(r.json()["access_token"])["alg"] in FAPI_ALGS


def test_the_api_sets_and_shows_the_profile_and_refuses_a_client_that_does_not_fit(server, admin, fapi):
    """The API's client JSON: ``profile`` shown, set and taken away (``none``); a secret client given it is a 422
    naming what does not fit, and the rotation of a profile client's secret (which would drop its keys) too."""
    shown = admin.ok("GET", f"/oauth/clients/{fapi.client_id}")
    assert shown["profile"] == "fapi2" and shown["token_endpoint_auth_method"] == "private_key_jwt"
    secret = admin.ok("POST", "/oauth/clients", 201, json={"name": unique("svc"), "types": ["client_credentials"]})
    r = admin.request("PUT", f"/oauth/clients/{secret['id']}", json={"profile": "fapi2"})
    assert r.status_code == 422 and "private_key_jwt" in r.text, r.text
    assert admin.request("POST", f"/oauth/clients/{fapi.client_id}/secret").status_code == 422
    plain = Keyed(server, grants=("client_credentials",), profile=None)
    assert admin.ok("PUT", f"/oauth/clients/{plain.client_id}", json={"profile": "fapi2"})["profile"] == "fapi2"
    assert admin.ok("PUT", f"/oauth/clients/{plain.client_id}", json={"profile": "none"})["profile"] is None
