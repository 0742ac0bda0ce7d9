"""Request objects (RFC 9101, JAR): a signed ``request`` at ``/oauth/authorize`` (§5.1) and inside a push to
``/oauth/par`` (RFC 9126 §3), verified with the client's own keys (``jwks``); signed by an independent client
library (requests-oauth2client's ``AuthorizationRequest.sign``) for the flows that complete, and made here with
joserfc to break one rule at a time. Also ``require_signed_request_object`` (§10.5) per client (CLI, API, admin
form, RFC 7591 registration) and server-wide (``AUTHGATE_REQUIRE_SIGNED_REQUEST_OBJECT``), and the metadata."""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from joserfc import jwt
from joserfc.jwk import ECKey, OctKey, OKPKey, RSAKey
from requests_oauth2client import OAuth2Client, PrivateKeyJwt

from support import (Browser, authorization_params, b64url_json, parse_page, pkce_pair, query_params, unique,
                     without_query)
from support.registration import register

HTTP_TIMEOUT = 15


@dataclass
class Keyed:
    client_id: str
    key: object
    alg: str
    redirect_uri: str

    def library(self, server) -> OAuth2Client:
        """requests-oauth2client for this client, authenticating with private_key_jwt."""
        return OAuth2Client(token_endpoint=server.url("/oauth/token"),
                            authorization_endpoint=server.url("/oauth/authorize"),
                            pushed_authorization_request_endpoint=server.url("/oauth/par"),
                            redirect_uri=self.redirect_uri, issuer=server.issuer,
                            auth=PrivateKeyJwt(self.client_id, self.key.as_dict(private=True), alg=self.alg),
                            testing=True)


def keyed_client(server, key=None, alg: str = "ES256", jwks_uri: str | None = None) -> Keyed:
    """A client with keys: inline (``jwks``), or published at ``jwks_uri``."""
    key = key or ECKey.generate_key("P-256", parameters={"kid": unique("k")})
    if jwks_uri:
        keys = ["--jwks-uri", jwks_uri]
    else:
        path = server.workdir / f"{unique('jwks')}.json"
        path.write_text(json.dumps({"keys": [key.as_dict(private=False)]}))
        keys = ["--jwks-file", str(path)]
    redirect_uri = f"https://{unique('jar')}.example.org/cb"
    data = server.commands.run_json("clients", "create", "--name", unique("jar"), "--auth-method", "private_key_jwt",
                                    *keys, "--grant", "authorization_code", "--redirect-uri", redirect_uri)
    return Keyed(data["client_id"], key, alg, redirect_uri)


def claims_for(server, client: Keyed, drop=(), **changed) -> dict:
    now = int(time.time())
    claims = {"iss": client.client_id, "aud": server.issuer, "client_id": client.client_id, "response_type": "code",
              "redirect_uri": client.redirect_uri, "scope": "users:read", "state": secrets.token_urlsafe(8),
              "code_challenge": pkce_pair()[1], "code_challenge_method": "S256", "exp": now + 300, "nbf": now,
              "iat": now, "jti": secrets.token_urlsafe(12)}
    claims.update(changed)
    for name in drop:
        claims.pop(name)
    return claims


def signed(client: Keyed, claims: dict, key=None, alg: str | None = None, header: dict | None = None) -> str:
    key = key or client.key
    alg = alg or client.alg
    return jwt.encode({"alg": alg, **({"kid": key.kid} if key.kid else {}), **(header or {})}, claims, key,
                      algorithms=[alg])


def by_value(client: Keyed, request_object: str, **extra) -> dict:
    return {"client_id": client.client_id, "request": request_object, **extra}


def assert_refused_to_client(r: requests.Response, client: Keyed, state: str, error: str = "invalid_request_object"):
    assert r.status_code == 302, (r.status_code, r.text[:500])
    location = r.headers["Location"]
    assert without_query(location) == client.redirect_uri, location
    q = query_params(location)
    assert q["error"] == error and q["state"] == state and "code" not in q, q
    return q


def assert_error_page(r: requests.Response, error: str) -> None:
    assert r.status_code == 400, (r.status_code, r.headers.get("Location"), r.text[:300])
    assert error in parse_page(r.text).text, r.text[:1000]


@pytest.fixture(scope="module")
def user(server):
    return server.create_user()


@pytest.fixture(scope="module")
def jar(server):
    return keyed_client(server)


# -- with an independent client ---------------------------------------------------------------------------

@pytest.mark.parametrize("make, alg", [
    (lambda: ECKey.generate_key("P-256", parameters={"kid": unique("ec")}), "ES256"),
    (lambda: RSAKey.generate_key(2048, parameters={"kid": unique("rsa")}), "RS256"),
    (lambda: RSAKey.generate_key(2048, parameters={"kid": unique("ps")}), "PS256"),
    (lambda: OKPKey.generate_key("Ed25519", parameters={"kid": unique("ed")}), "EdDSA"),
])
def test_requests_oauth2client_signs_a_request_object_and_the_code_flow_completes_rfc9101_5_1(server, user, make, alg):
    """§5.1: the library signs the request (``AuthorizationRequest.sign``) with each advertised algorithm; only
    ``client_id`` and ``request`` are in the URL; sign-in and consent round trips follow (they carry a
    ``request_uri`` the server keeps, not the object), the code comes back with the signed ``state`` and is
    exchanged with private_key_jwt and the PKCE verifier the library made."""
    client = keyed_client(server, make(), alg)
    library = client.library(server)
    request = library.authorization_request(scope="users:read", iss=client.client_id, aud=server.issuer,
                                            jti=secrets.token_urlsafe(12))
    signed_request = request.sign(client.key.as_dict(private=True), alg=alg, lifetime=300)
    assert set(parse_qs(urlsplit(signed_request.uri).query)) == {"client_id", "request"}
    browser = Browser(server)
    first = browser.open_authorize(signed_request.uri)
    assert first.status_code == 303 and urlsplit(first.headers["Location"]).path == "/login"
    back_to = parse_qs(urlsplit(first.headers["Location"]).query)["next"][0]
    assert set(parse_qs(urlsplit(back_to).query)) == {"client_id", "request_uri"}, back_to
    location = browser.authorize(back_to, user)
    token = library.authorization_code(request.validate_callback(location))
    assert token.access_token and token.scope == "users:read"


def test_metadata_advertises_request_objects_and_no_request_uri_rfc9101_10_5(server):
    """RFC 9101 §10.5 / RFC 8414 §2 / OIDC Discovery §3: ``request_parameter_supported`` true, the signing
    algorithms (no ``none``, no HMAC), ``require_signed_request_object`` false by default, and
    ``request_uri_parameter_supported`` false: its default is true, and a ``request_uri`` is taken from PAR only."""
    for path in ("/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"):
        meta = requests.get(server.url(path), timeout=HTTP_TIMEOUT).json()
        assert meta["request_parameter_supported"] is True
        assert meta["request_uri_parameter_supported"] is False
        assert set(meta["request_object_signing_alg_values_supported"]) == {"RS256", "PS256", "ES256", "EdDSA"}
        assert meta["require_signed_request_object"] is False


# -- refusals ---------------------------------------------------------------------------------------------

def _unsigned(server, client):
    claims = claims_for(server, client)
    return b64url_json({"alg": "none"}) + "." + b64url_json(claims) + ".", claims


def _hmac(server, client):
    claims = claims_for(server, client)
    return signed(client, claims, key=OctKey.import_key(secrets.token_bytes(32)), alg="HS256"), claims


def _other_key(server, client):
    claims = claims_for(server, client)
    return signed(client, claims, key=ECKey.generate_key("P-256", parameters={"kid": client.key.kid})), claims


def _broken(**change):
    drop = change.pop("drop", ())

    def make(server, client):
        claims = claims_for(server, client, drop=drop, **{k: v(server, client) if callable(v) else v
                                                           for k, v in change.items()})
        return signed(client, claims), claims
    return make


def _typed(typ: str):
    def make(server, client):
        claims = claims_for(server, client)
        return signed(client, claims, header={"typ": typ}), claims
    return make


def _ago(seconds: int):
    return lambda server, client: int(time.time()) - seconds


@pytest.mark.parametrize("make, said", [
    pytest.param(_unsigned, "'none' is not accepted", id="alg-none-rfc9101_6_2"),
    pytest.param(_hmac, "'HS256' is not accepted", id="hmac-rfc9101_6_2"),
    pytest.param(_other_key, "not by one of the client's keys", id="another-key-rfc9101_6_2"),
    pytest.param(_broken(aud="https://elsewhere.example"), "aud must name this issuer", id="wrong-aud-rfc9101_4"),
    pytest.param(_broken(iss="someone-else"), "iss must be the client's id", id="wrong-iss-rfc9101_4"),
    pytest.param(_broken(exp=_ago(120)), "has expired", id="expired-rfc9101_4"),
    pytest.param(_broken(drop=("exp",)), "must have an exp", id="missing-exp"),
    pytest.param(_broken(exp=_ago(-7200)), "must expire within 3600 seconds", id="exp-too-far-ahead"),
    pytest.param(_broken(nbf=_ago(-600)), "nbf is in the future", id="nbf-in-the-future"),
    pytest.param(_broken(nbf=_ago(7200)), "nbf is more than 3600 seconds old", id="nbf-too-old"),
    pytest.param(_broken(client_id="someone-else"), "client_id must be the client_id",
                 id="client-id-mismatch-rfc9101_5"),
    pytest.param(_broken(request_uri="https://rp.example/r.jwt"), "must not contain 'request' or 'request_uri'",
                 id="request-uri-inside-rfc9101_4"),
    pytest.param(_typed("dpop+jwt"), "typ must be oauth-authz-req+jwt", id="another-typ-rfc9101_10_8"),
    pytest.param(_broken(nonce="a\x00b"), "cannot be handled", id="nul-in-a-parameter"),
    pytest.param(_broken(prompt=True), "'prompt' must be a string", id="a-boolean-parameter"),
])
def test_a_bad_request_object_is_refused_to_the_client_rfc9101_6(server, jar, user, make, said):
    """§6.2/§6.3: a request object that is unsigned, signed with an HMAC or by a key that is not the client's,
    meant for another audience, from another issuer, expired, without ``exp`` or living too long, not yet valid
    or too old, naming another client, nesting a ``request_uri``, typed as another kind of JWT, or with a parameter
    that is no string (or holds a NUL, which the query could not carry either) is refused with
    ``invalid_request_object``, sent to the client's registered redirect URI with its ``state``; no code."""
    request_object, claims = make(server, jar)
    r = Browser(server).open_authorize(by_value(jar, request_object))
    q = assert_refused_to_client(r, jar, claims["state"])
    assert q["iss"] == server.issuer
    assert said in q["error_description"], q["error_description"]


def test_a_sign_in_the_request_object_asks_for_happens_once_rfc9101_6_3(server, jar):
    """OpenID Connect Core §3.1.2.1 inside a request object (``max_age`` as a JSON number): the signed-in user is
    asked to sign in again, once; the round trips carry the kept request, so the object is not used twice."""
    user = server.create_user()
    browser = Browser(server)
    browser.login(user)
    time.sleep(1.1)
    claims = claims_for(server, jar, scope="openid users:read", max_age=0)
    r = browser.open_authorize(by_value(jar, signed(jar, claims)))
    assert r.status_code == 303 and urlsplit(r.headers["Location"]).path == "/login", r.headers.get("Location")
    login = browser.get(r.headers["Location"])
    back = browser.submit_login(login, browser.single_form(login), user.username, user.password)
    consent = browser.get(back.headers["Location"])
    assert consent.status_code == 200, (consent.status_code, consent.headers.get("Location"))
    answer = browser.decide(consent)
    assert answer.status_code == 302 and query_params(answer.headers["Location"])["state"] == claims["state"]
    assert "code" in query_params(answer.headers["Location"])


def test_a_bad_request_object_naming_an_unregistered_redirect_uri_gets_an_error_page_rfc9101_6_3(server, jar):
    """§6.3 with RFC 6749 §4.1.2.1: an error goes to a redirect URI only when it is registered for the client."""
    claims = claims_for(server, jar, redirect_uri="https://evil.example.net/cb")
    r = Browser(server).open_authorize(by_value(jar, signed(jar, claims, key=ECKey.generate_key("P-256"))))
    assert_error_page(r, "invalid_request_object")
    r = Browser(server).open_authorize(by_value(jar, "not-a-jwt", redirect_uri="https://evil.example.net/cb"))
    assert_error_page(r, "invalid_request_object")


def test_a_replayed_request_object_is_refused_rfc9101_10_8(server, jar, user):
    """§10.8 (replay): an object's ``jti`` works once; the second use of the same object is refused."""
    claims = claims_for(server, jar)
    request_object = signed(jar, claims)
    first = Browser(server).open_authorize(by_value(jar, request_object))
    assert first.status_code == 303, (first.status_code, first.headers.get("Location"))
    assert_refused_to_client(Browser(server).open_authorize(by_value(jar, request_object)), jar, claims["state"])


def test_request_and_request_uri_together_or_without_client_id_are_refused_rfc9101_5(server, jar):
    """§5: ``client_id`` is sent beside ``request``, and ``request`` and ``request_uri`` are not both sent."""
    request_object = signed(jar, claims_for(server, jar))
    assert_error_page(Browser(server).open_authorize({"request": request_object}), "invalid_request")
    assert_error_page(Browser(server).open_authorize(
        by_value(jar, request_object, request_uri="urn:ietf:params:oauth:request_uri:x")), "invalid_request")


def test_a_client_without_keys_cannot_send_a_request_object_rfc9101_6_2(server, user):
    """§6.2: the object is verified with the client's registered keys; a client with a secret has none."""
    app = server.create_client(grants=["authorization_code"], redirect_uris=["https://secret.example.org/cb"])
    params = authorization_params(app)
    claims = {**params, "iss": app.client_id, "aud": server.issuer, "exp": int(time.time()) + 300}
    key = ECKey.generate_key("P-256")
    r = Browser(server).open_authorize({"client_id": app.client_id,
                                        "request": jwt.encode({"alg": "ES256"}, claims, key, algorithms=["ES256"])})
    assert r.status_code == 302 and without_query(r.headers["Location"]) == app.redirect_uri
    assert query_params(r.headers["Location"])["error"] == "invalid_request_object"


def test_parameters_outside_the_request_object_are_ignored_rfc9101_6_3(server, jar, user):
    """§6.3: only the object's parameters count: another ``redirect_uri``, ``scope``, ``state`` or
    ``response_type`` in the query change nothing."""
    verifier, challenge = pkce_pair()
    claims = claims_for(server, jar, code_challenge=challenge, scope="users:read")
    location = Browser(server).authorize(by_value(jar, signed(jar, claims), redirect_uri="https://evil.example.net/cb",
                                                  scope="users:write", state="theirs", response_type="token"), user)
    assert without_query(location) == jar.redirect_uri
    q = query_params(location)
    assert q["state"] == claims["state"]
    token = jar.library(server).authorization_code(q["code"], code_verifier=verifier, redirect_uri=jar.redirect_uri)
    assert token.scope == "users:read"


# -- inside a pushed authorization request ------------------------------------------------------------------

def push(server, client: Keyed, **form) -> requests.Response:
    """POST /oauth/par authenticated with private_key_jwt by requests-oauth2client's auth."""
    auth = PrivateKeyJwt(client.client_id, client.key.as_dict(private=True), alg=client.alg)
    return requests.post(server.url("/oauth/par"), data=form, auth=auth, timeout=HTTP_TIMEOUT)


def test_a_request_object_inside_a_push_rfc9101_with_rfc9126_3(server, jar, user):
    """RFC 9126 §3: the push carries ``request`` (and client authentication); only the object's parameters are
    kept (a ``scope`` beside it is ignored); the browser then authorizes by ``request_uri``."""
    verifier, challenge = pkce_pair()
    claims = claims_for(server, jar, code_challenge=challenge)
    r = push(server, jar, client_id=jar.client_id, request=signed(jar, claims), scope="users:write")
    assert r.status_code == 201, r.text
    location = Browser(server).authorize({"client_id": jar.client_id, "request_uri": r.json()["request_uri"]}, user)
    q = query_params(location)
    assert without_query(location) == jar.redirect_uri and q["state"] == claims["state"]
    token = jar.library(server).authorization_code(q["code"], code_verifier=verifier, redirect_uri=jar.redirect_uri)
    assert token.scope == "users:read"


def test_a_bad_request_object_inside_a_push_is_refused_in_json_rfc9126_2_3(server, jar):
    """RFC 9126 §2.3: the push's refusal is OAuth JSON, ``invalid_request_object``; a replayed object too."""
    r = push(server, jar, request=signed(jar, claims_for(server, jar, aud="https://elsewhere.example")))
    assert r.status_code == 400 and r.json()["error"] == "invalid_request_object", r.text
    r = push(server, jar, request=_unsigned(server, jar)[0])
    assert r.status_code == 400 and r.json()["error"] == "invalid_request_object", r.text
    request_object = signed(jar, claims_for(server, jar))
    assert push(server, jar, request=request_object).status_code == 201
    r = push(server, jar, request=request_object)
    assert r.status_code == 400 and r.json()["error"] == "invalid_request_object", r.text


def test_a_request_object_by_value_does_not_count_as_pushed_rfc9126_5(server, user):
    """RFC 9126 §5: a client that must push is refused a request object sent through the browser."""
    client = keyed_client(server)
    server.commands.run_json("clients", "update", client.client_id, "--require-par")
    r = Browser(server).open_authorize(by_value(client, signed(client, claims_for(server, client))))
    assert_error_page(r, "invalid_request")


# -- require_signed_request_object --------------------------------------------------------------------------

def test_a_client_that_must_sign_is_refused_a_plain_request_rfc9101_10_5(server, user):
    """§10.5 ``require_signed_request_object`` per client (``clients update --require-signed-request-object``):
    a plain request gets ``invalid_request`` (a page), as does a push without an object; signed ones work."""
    client = keyed_client(server)
    shown = server.cli_json("clients", "update", client.client_id, "--require-signed-request-object")
    assert shown["require_signed_request_object"] is True
    browser = Browser(server)
    browser.login(user)
    plain = authorization_params(client, challenge=pkce_pair()[1])
    deadline = time.monotonic() + 5
    while (r := browser.open_authorize(plain)).status_code != 400 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert_error_page(r, "invalid_request")
    r = push(server, client, **plain)
    assert r.status_code == 400 and r.json()["error"] == "invalid_request", r.text
    location = browser.authorize(by_value(client, signed(client, claims_for(server, client))), user)
    assert "code" in query_params(location)
    r = push(server, client, request=signed(client, claims_for(server, client)))
    assert r.status_code == 201, r.text


def test_only_a_client_with_keys_can_be_made_to_sign(server):
    """§10.5: a client with a secret has no key to sign with, so the requirement is refused for it."""
    app = server.create_client(grants=["authorization_code"], redirect_uris=["https://nokeys.example.org/cb"])
    proc = server.cli("clients", "update", app.client_id, "--require-signed-request-object")
    assert proc.returncode != 0 and "jwks" in proc.stderr, proc.stderr


def test_the_api_and_the_admin_form_set_the_requirement_rfc9101_10_5(server, admin):
    """The API's client JSON carries ``require_signed_request_object`` and a PUT changes it; the admin edit
    form has it as a checkbox."""
    client = keyed_client(server)
    assert admin.ok("GET", f"/oauth/clients/{client.client_id}")["require_signed_request_object"] is False
    body = admin.ok("PUT", f"/oauth/clients/{client.client_id}", json={"require_signed_request_object": True})
    assert body["require_signed_request_object"] is True
    admin_user = server.create_user(admin=True)
    browser = Browser(server)
    browser.login(admin_user)
    page = browser.get(f"/admin/auth-clients/{client.client_id}")
    assert 'name="require_request_object" value="1" checked' in page.text
    form = [f for f in parse_page(page.text).forms if f.method == "post" and f.input("require_request_object")][0]
    hidden = {i["name"]: i.get("value") or "" for i in form.inputs if i.get("type") == "hidden" and i.get("name")}
    data = [*hidden.items(), ("name", "renamed"), ("redirect_uris", client.redirect_uri),
            ("grants", "authorization_code")]
    saved = browser.post(f"/admin/auth-clients/{client.client_id}", data=data)
    assert saved.status_code == 303, saved.text[:500]
    assert server.cli_json("clients", "show", client.client_id)["require_signed_request_object"] is False
    saved = browser.post(f"/admin/auth-clients/{client.client_id}", data=[*data, ("require_request_object", "1")])
    assert saved.status_code == 303, saved.text[:500]
    assert server.cli_json("clients", "show", client.client_id)["require_signed_request_object"] is True


@pytest.fixture(scope="module")
def strict_server(server_factory):
    """Signed request objects required of every client; open registration; keys fetched from loopback (the
    test-only ``AUTHGATE_FETCH_ALLOW_PRIVATE=1``, unsafe in production)."""
    return server_factory({"AUTHGATE_REQUIRE_SIGNED_REQUEST_OBJECT": "1", "AUTHGATE_REGISTRATION": "open",
                           "AUTHGATE_FETCH_ALLOW_PRIVATE": "1"})


def test_the_server_can_require_signed_request_objects_of_every_client_rfc9101_10_5(strict_server):
    """§10.5 server-wide (``AUTHGATE_REQUIRE_SIGNED_REQUEST_OBJECT``): in the metadata, and a plain request is
    refused (``invalid_request``) while a signed one is taken."""
    meta = requests.get(strict_server.url("/.well-known/oauth-authorization-server"), timeout=HTTP_TIMEOUT).json()
    assert meta["require_signed_request_object"] is True
    client = keyed_client(strict_server)
    user = strict_server.create_user()
    browser = Browser(strict_server)
    browser.login(user)
    assert_error_page(browser.open_authorize(authorization_params(client, challenge=pkce_pair()[1])), "invalid_request")
    location = browser.authorize(by_value(client, signed(client, claims_for(strict_server, client))), user)
    assert "code" in query_params(location)


def test_a_request_object_is_verified_with_the_keys_at_the_clients_jwks_uri_rfc9101_6_2(strict_server, documents):
    """§6.2 with RFC 7591 §2 ``jwks_uri``: the keys are fetched by the safe fetcher; an object signed by a key
    that is not in the published set is refused."""
    key = ECKey.generate_key("P-256", parameters={"kid": unique("pub")})
    path = f"/{unique('jwks')}.json"
    client = keyed_client(strict_server, key, jwks_uri=documents.publish(path, {"keys": [key.as_dict(private=False)]}))
    user = strict_server.create_user()
    location = Browser(strict_server).authorize(by_value(client, signed(client, claims_for(strict_server, client))),
                                                user)
    assert "code" in query_params(location)
    assert documents.hits[path] >= 1
    claims = claims_for(strict_server, client)
    stranger = ECKey.generate_key("P-256", parameters={"kid": unique("stranger")})
    r = Browser(strict_server).open_authorize(by_value(client, signed(client, claims, key=stranger)))
    assert_refused_to_client(r, client, claims["state"])


def test_registration_metadata_sets_the_requirement_rfc9101_10_5(strict_server):
    """RFC 7591 metadata ``require_signed_request_object`` is kept and answered; it needs the client's keys."""
    key = ECKey.generate_key("P-256")
    r = register(strict_server, {"redirect_uris": ["https://reg.example.org/cb"],
                                 "token_endpoint_auth_method": "private_key_jwt",
                                 "jwks": {"keys": [key.as_dict(private=False)]},
                                 "require_signed_request_object": True})
    assert r.status_code == 201, r.text
    assert r.json()["require_signed_request_object"] is True
    shown = strict_server.cli_json("clients", "show", r.json()["client_id"])
    assert shown["require_signed_request_object"] is True
    r = register(strict_server, {"redirect_uris": ["https://reg.example.org/cb"],
                                 "require_signed_request_object": True})
    assert r.status_code == 400 and r.json()["error"] == "invalid_client_metadata", r.text
