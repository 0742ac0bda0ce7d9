"""Client authentication with keys: ``private_key_jwt`` (RFC 7523 §2.2 and §3, OpenID Connect Core §9) at the
token endpoint, with an independent client library (requests-oauth2client makes and signs the assertions)
and with assertions made here to break one rule at a time. Keys inline (``jwks``) on the session server; a
``jwks_uri`` on a server of its own that may fetch from loopback (the test-only
``AUTHGATE_FETCH_ALLOW_PRIVATE=1``, unsafe in production), published by the test."""

from __future__ import annotations

import json
import secrets
import time

import pytest
import requests
from joserfc import jwt
from joserfc.jwk import ECKey, OKPKey, RSAKey
from requests_oauth2client import OAuth2Client, PrivateKeyJwt

from support import ServerProcess, unique

HTTP_TIMEOUT = 15
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def key_client(server, key=None, *, jwks_uri: str | None = None, grants=("client_credentials",)) -> tuple[str, object]:
    key = key or ECKey.generate_key("P-256", parameters={"kid": unique("k")})
    args = ["clients", "create", "--name", unique("keyed"), "--auth-method", "private_key_jwt"]
    for grant in grants:
        args += ["--grant", grant]
    if jwks_uri:
        args += ["--jwks-uri", jwks_uri]
    else:
        path = server.workdir / f"{unique('jwks')}.json"
        path.write_text(json.dumps({"keys": [key.as_dict(private=False)]}))
        args += ["--jwks-file", str(path)]
    data = server.commands.run_json(*args)
    assert data["client_secret"] is None and data["token_endpoint_auth_method"] == "private_key_jwt"
    return data["client_id"], key


def assertion(key, client_id: str, aud: str, *, alg: str = "ES256", iss: str | None = None, sub: str | None = None,
              exp: float | None = None, jti: str | None = None, drop: tuple = ()) -> str:
    now = int(time.time())
    claims = {"iss": iss or client_id, "sub": sub or client_id, "aud": aud, "iat": now,
              "exp": int(exp if exp is not None else now + 60), "jti": jti or secrets.token_urlsafe(12)}
    for name in drop:
        claims.pop(name)
    header = {"alg": alg, **({"kid": key.kid} if key.kid else {})}
    return jwt.encode(header, claims, key, algorithms=[alg])


def token_with(server, signed: str, **extra) -> requests.Response:
    return requests.post(server.url("/oauth/token"), data={
        "grant_type": "client_credentials", "client_assertion_type": ASSERTION_TYPE, "client_assertion": signed,
        **extra}, timeout=HTTP_TIMEOUT)


def refused(response: requests.Response) -> None:
    assert response.status_code == 401, response.text
    assert response.json()["error"] == "invalid_client"


@pytest.fixture(scope="module")
def keyed(server):
    return key_client(server)


# -- with an independent client ---------------------------------------------------------------------------

@pytest.mark.parametrize("make, alg", [
    (lambda: ECKey.generate_key("P-256", parameters={"kid": unique("ec")}), "ES256"),
    (lambda: RSAKey.generate_key(2048, parameters={"kid": unique("rsa")}), "RS256"),
    (lambda: RSAKey.generate_key(2048, parameters={"kid": unique("ps")}), "PS256"),
    (lambda: OKPKey.generate_key("Ed25519", parameters={"kid": unique("ed")}), "EdDSA"),
])
def test_requests_oauth2client_authenticates_with_private_key_jwt(server, make, alg):
    """RFC 7523 §2.2: the library signs the assertion (aud = the token endpoint, its own jti and exp); each
    of the advertised algorithms is taken."""
    client_id, key = key_client(server, make())
    client = OAuth2Client(token_endpoint=server.url("/oauth/token"),
                          auth=PrivateKeyJwt(client_id, key.as_dict(private=True), alg=alg), testing=True)
    token = client.client_credentials()
    assert token.access_token


def test_metadata_advertises_private_key_jwt_and_its_algorithms(server):
    """RFC 8414 §2: what is implemented, and ``none`` kept for public clients; ``client_secret_jwt`` left
    out (secrets are stored hashed)."""
    meta = requests.get(server.url("/.well-known/oauth-authorization-server"), timeout=HTTP_TIMEOUT).json()
    assert {"private_key_jwt", "none"} <= set(meta["token_endpoint_auth_methods_supported"])
    assert "client_secret_jwt" not in meta["token_endpoint_auth_methods_supported"]
    assert set(meta["token_endpoint_auth_signing_alg_values_supported"]) == {"RS256", "PS256", "ES256", "EdDSA"}


def test_aud_may_be_the_issuer_or_the_token_endpoint(server, keyed):
    """RFC 7523 §3 item 3: the issuer identifier or the token endpoint URL."""
    client_id, key = keyed
    for aud in (server.issuer, server.url("/oauth/token")):
        assert token_with(server, assertion(key, client_id, aud)).status_code == 200


# -- refusals ---------------------------------------------------------------------------------------------

def test_a_replayed_assertion_is_refused(server, keyed):
    """RFC 7523 §3 item 7: a ``jti`` is used once."""
    client_id, key = keyed
    signed = assertion(key, client_id, server.url("/oauth/token"))
    assert token_with(server, signed).status_code == 200
    refused(token_with(server, signed))


def test_wrong_aud_iss_sub_expired_long_lived_or_without_jti_refused(server, keyed):
    """RFC 7523 §3 items 1-4, 7: each claim broken alone; every refusal is invalid_client with 401."""
    client_id, key = keyed
    aud = server.url("/oauth/token")
    other_id, _ = key_client(server)
    for broken in (
        assertion(key, client_id, "https://elsewhere.example/token"),
        assertion(key, client_id, aud, iss=other_id),
        assertion(key, client_id, aud, sub=other_id),
        assertion(key, client_id, aud, exp=time.time() - 120),
        assertion(key, client_id, aud, exp=time.time() + 7200),
        assertion(key, client_id, aud, drop=("jti",)),
        assertion(key, client_id, aud, drop=("exp",)),
    ):
        refused(token_with(server, broken))


@pytest.mark.parametrize("claim", ["exp", "nbf"])
def test_an_assertion_whose_time_is_nan_is_invalid_client_not_a_500_rfc7523_3(server, keyed, claim):
    """RFC 7523 section 3 items 4-5: ``exp`` (and ``nbf``) are NumericDates; JSON's NaN, which Python's encoder
    writes, is no time at all and compares false with every time, so it passed the checks and broke the
    replay memory's lifetime (a 500)."""
    client_id, key = keyed
    now = int(time.time())
    claims = {"iss": client_id, "sub": client_id, "aud": server.url("/oauth/token"), "iat": now, "exp": now + 60,
              "jti": secrets.token_urlsafe(12), claim: float("nan")}
    refused(token_with(server, jwt.encode({"alg": "ES256", "kid": key.kid}, claims, key, algorithms=["ES256"])))


def test_an_unknown_key_or_a_disallowed_alg_is_refused(server, keyed):
    """RFC 7523 §3 item 9: signed by one of the client's keys, with an advertised algorithm."""
    client_id, key = keyed
    aud = server.url("/oauth/token")
    stranger = ECKey.generate_key("P-256", parameters={"kid": key.kid})
    refused(token_with(server, assertion(stranger, client_id, aud)))
    from joserfc.jwk import OctKey
    refused(token_with(server, assertion(OctKey.generate_key(256), client_id, aud, alg="HS256")))
    refused(token_with(server, "not.a.jwt"))
    refused(token_with(server, assertion(key, client_id, aud), client_id=unique("someone")))


def test_a_keyed_client_cannot_use_a_secret_and_a_secret_client_cannot_use_an_assertion(server):
    """OpenID Connect Core §9: the client is held to its registered method."""
    secret_app = server.create_client(grants=["client_credentials"])
    key = ECKey.generate_key("P-256")
    refused(token_with(server, assertion(key, secret_app.client_id, server.url("/oauth/token"))))
    refused(requests.post(server.url("/oauth/token"), data={"grant_type": "client_credentials"},
                          auth=(secret_app.client_id, "wrong"), timeout=HTTP_TIMEOUT))


def test_introspection_takes_private_key_jwt(server, keyed):
    """RFC 7662 §2.1 with RFC 7523 client authentication: advertised for introspection too."""
    client_id, key = keyed
    token = token_with(server, assertion(key, client_id, server.url("/oauth/token"))).json()["access_token"]
    r = requests.post(server.url("/oauth/introspect"), data={
        "token": token, "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": assertion(key, client_id, server.url("/oauth/introspect"))}, timeout=HTTP_TIMEOUT)
    assert r.status_code == 200 and r.json()["active"] is True, r.text


# -- jwks_uri ---------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def fetching_server(tmp_path_factory):
    srv = ServerProcess(tmp_path_factory.mktemp("keys"), env={
        "AUTHGATE_FETCH_ALLOW_PRIVATE": "1", "AUTHGATE_REGISTRATION": "open",
        "AUTHGATE_REGISTRATION_GRANTS": "authorization_code refresh_token client_credentials"}).start()
    yield srv
    srv.stop()


def test_keys_at_a_jwks_uri_are_fetched_once_within_their_cache_lifetime(fetching_server, documents):
    """RFC 7591 §2 ``jwks_uri``: fetched by the safe fetcher, ``Cache-Control: max-age`` honoured."""
    key = RSAKey.generate_key(2048, parameters={"kid": unique("rsa")})
    path = f"/{unique('jwks')}.json"
    uri = documents.publish(path, {"keys": [key.as_dict(private=False)]}, headers={"Cache-Control": "max-age=600"})
    client_id, _ = key_client(fetching_server, key, jwks_uri=uri)
    client = OAuth2Client(token_endpoint=fetching_server.url("/oauth/token"),
                          auth=PrivateKeyJwt(client_id, key.as_dict(private=True), alg="RS256"), testing=True)
    for _ in range(3):
        assert client.client_credentials().access_token
    assert documents.hits[path] == 1


def test_a_jwks_uri_on_loopback_is_refused_without_the_test_only_policy(server, documents):
    """The safe fetcher: loopback and plain http refused by default, as a failed client authentication."""
    key = ECKey.generate_key("P-256", parameters={"kid": unique("ec")})
    path = f"/{unique('jwks')}.json"
    uri = documents.publish(path, {"keys": [key.as_dict(private=False)]})
    client_id, _ = key_client(server, key, jwks_uri=uri)
    refused(token_with(server, assertion(key, client_id, server.url("/oauth/token"))))
    refused(token_with(server, assertion(key, client_id, server.url("/oauth/token"))))
    assert documents.hits[path] == 0


# -- dynamic registration ---------------------------------------------------------------------------------

def register(server, **metadata) -> requests.Response:
    return requests.post(server.url("/oauth/register"), json={"client_name": unique("reg"), **metadata},
                         timeout=HTTP_TIMEOUT)


def test_a_client_registers_with_its_keys_and_authlib_authenticates_with_them(fetching_server):
    """RFC 7591 §2 ``token_endpoint_auth_method`` private_key_jwt with ``jwks``: no secret is issued; Authlib's
    own client (``PrivateKeyJWT``, RFC 7523) then gets a token."""
    from authlib.integrations.requests_client import OAuth2Session
    from authlib.oauth2.rfc7523 import PrivateKeyJWT
    key = ECKey.generate_key("P-256", parameters={"kid": unique("ec")})
    r = register(fetching_server, token_endpoint_auth_method="private_key_jwt", grant_types=["client_credentials"],
                 jwks={"keys": [key.as_dict(private=False)]})
    assert r.status_code == 201, r.text
    info = r.json()
    assert "client_secret" not in info and info["token_endpoint_auth_method"] == "private_key_jwt"
    assert info["jwks"]["keys"][0]["kid"] == key.kid
    token_url = fetching_server.url("/oauth/token")
    session = OAuth2Session(info["client_id"], key, token_endpoint_auth_method="private_key_jwt")
    session.register_client_auth_method(PrivateKeyJWT(token_url, alg="ES256"))
    token = session.fetch_token(token_url, grant_type="client_credentials")
    assert token["access_token"]


def test_registration_refuses_keys_that_do_not_fit(fetching_server):
    """RFC 7591 §3.2.2 ``invalid_client_metadata``: keys without private_key_jwt, a private key, neither or both."""
    key = ECKey.generate_key("P-256")
    public = {"keys": [key.as_dict(private=False)]}
    for metadata in (
        {"token_endpoint_auth_method": "client_secret_basic", "jwks": public},
        {"token_endpoint_auth_method": "private_key_jwt", "jwks": {"keys": [key.as_dict(private=True)]}},
        {"token_endpoint_auth_method": "private_key_jwt"},
        {"token_endpoint_auth_method": "private_key_jwt", "jwks": public, "jwks_uri": "https://a.example/jwks"},
        {"token_endpoint_auth_method": "client_secret_jwt"},
    ):
        r = register(fetching_server, grant_types=["client_credentials"], **metadata)
        assert r.status_code == 400 and r.json()["error"] == "invalid_client_metadata", (metadata, r.text)
