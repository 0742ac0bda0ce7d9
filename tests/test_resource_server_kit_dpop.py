"""DPoP in the resource-server kit (``authgate_client.resource_server``): an API of the user's own on loopback,
registered as a resource in authgate (RFC 8707), takes authgate's DPoP-bound tokens only with a proof for the
request (RFC 9449 §7.1, the checks of §4.3), by its ASGI middleware and its FastAPI dependency, with the key
binding read from the JWT (``cnf.jkt``, §6.1) or from introspection (§6.2); and advertises DPoP in its RFC 9728
metadata when configured."""

from __future__ import annotations

import base64
import hashlib
import secrets
import time

import httpx
import pytest
from fastapi import Depends, FastAPI
from joserfc import jwt
from joserfc.jwk import ECKey
from requests_oauth2client import OAuth2Client
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from authgate_client.resource_server import ResourceServer, TokenRefused
from support import free_port, token_request, unique
from support.loopback import Loopback

SCOPE = "notes:read"


async def whoami(request):
    token = request.scope["auth"]
    return JSONResponse({"sub": token.subject, "jkt": token.jkt})


def proof(key, htm: str, htu: str, access_token: str | None, *, jti: str | None = None) -> str:
    claims = {"jti": jti or secrets.token_urlsafe(12), "htm": htm, "htu": htu, "iat": int(time.time())}
    if access_token is not None:
        claims["ath"] = base64.urlsafe_b64encode(hashlib.sha256(access_token.encode()).digest()).rstrip(b"=").decode()
    return jwt.encode({"typ": "dpop+jwt", "alg": "ES256", "jwk": key.as_dict(private=False)}, claims, key,
                      algorithms=["ES256"])


@pytest.fixture(scope="module")
def resource(server):
    """The API's identifier: its own loopback URL, registered as a resource with its scope."""
    url = f"http://127.0.0.1:{free_port()}"
    server.commands.run_json("resources", "create", "--identifier", url, "--name", unique("notes"), "--scope", SCOPE)
    return url


@pytest.fixture(scope="module")
def service(server, resource):
    """A client that may ask for the resource's scope (which exists once the resource does)."""
    return server.create_client(grants=["client_credentials"], scopes=[SCOPE])


@pytest.fixture(scope="module")
def guard(server, resource, service):
    return ResourceServer(server.issuer, resource, scopes_supported=[SCOPE], introspection_auth=service.basic)


@pytest.fixture(scope="module")
def api(resource, guard):
    with Loopback(guard.protect(Starlette(routes=[Route("/notes", whoami, methods=["GET", "POST"])]),
                                required_scopes=[SCOPE]), resource) as running:
        yield running


def bound_token(server, service, resource, key) -> str:
    url = server.url("/oauth/token")
    r = token_request(server, {"grant_type": "client_credentials", "scope": SCOPE, "resource": resource},
                      auth=service.basic, headers={"DPoP": proof(key, "POST", url, None)})
    assert r.status_code == 200 and r.json()["token_type"] == "DPoP", r.text
    return r.json()["access_token"]


def call(api, token: str, dpop: str | None, scheme: str = "DPoP", method: str = "GET") -> httpx.Response:
    headers = {"Authorization": f"{scheme} {token}", **({"DPoP": dpop} if dpop else {})}
    return httpx.request(method, api.url + "/notes", headers=headers, timeout=10)


def challenge(r: httpx.Response) -> tuple[str, str]:
    header = r.headers["www-authenticate"]
    scheme = header.partition(" ")[0]
    error = header.partition('error="')[2].partition('"')[0]
    return scheme, error


@pytest.fixture
def key():
    return ECKey.generate_key("P-256")


def test_a_bound_token_with_its_proof_reaches_the_app_rfc9449_7_1(server, service, resource, api, key):
    """§7.1: ``Authorization: DPoP`` and a proof naming the method, the URL and the token (``ath``); the app
    sees the key's thumbprint."""
    token = bound_token(server, service, resource, key)
    r = call(api, token, proof(key, "GET", api.url + "/notes?page=2", token))
    assert r.status_code == 200, r.text
    assert r.json() == {"sub": service.client_id, "jkt": key.thumbprint()}


def test_requests_oauth2client_calls_the_kit_with_its_own_proofs(server, service, resource, api):
    """An independent client: requests-oauth2client gets the DPoP token and makes the proofs itself."""
    import requests

    client = OAuth2Client(token_endpoint=server.url("/oauth/token"), client_id=service.client_id,
                          client_secret=service.client_secret, testing=True)
    token = client.client_credentials(scope=SCOPE, resource=resource, dpop=True)
    assert token.token_type.lower() == "dpop"
    r = requests.get(api.url + "/notes", auth=token, timeout=10)
    assert r.status_code == 200, r.text


def test_a_bound_token_sent_as_a_bearer_token_is_refused_rfc9449_7_1(server, service, resource, api, key):
    """§7.1: a DPoP-bound token is no bearer token: 401 with a DPoP challenge."""
    token = bound_token(server, service, resource, key)
    r = call(api, token, None, scheme="Bearer")
    assert r.status_code == 401 and challenge(r) == ("DPoP", "invalid_token"), r.headers
    r = call(api, token, None)
    assert r.status_code == 401 and challenge(r) == ("DPoP", "invalid_dpop_proof"), r.headers


def test_a_proof_for_another_url_or_method_is_refused_rfc9449_4_3(server, service, resource, api, key):
    """§4.3 steps 8 and 9: ``htm`` and ``htu`` are this request's."""
    token = bound_token(server, service, resource, key)
    r = call(api, token, proof(key, "GET", api.url + "/elsewhere", token))
    assert r.status_code == 401 and challenge(r) == ("DPoP", "invalid_dpop_proof") and "htu" in r.text
    r = call(api, token, proof(key, "GET", api.url + "/notes", token), method="POST")
    assert r.status_code == 401 and challenge(r) == ("DPoP", "invalid_dpop_proof") and "htm" in r.text


def test_a_proof_used_twice_is_refused_rfc9449_11_1(server, service, resource, api, key):
    """§11.1: the kit remembers each ``jti`` while its proof could be taken."""
    token = bound_token(server, service, resource, key)
    once = proof(key, "GET", api.url + "/notes", token)
    assert call(api, token, once).status_code == 200
    again = call(api, token, once)
    assert again.status_code == 401 and "used before" in again.text


def test_a_proof_by_another_key_or_for_another_token_or_too_old_is_refused_rfc9449_4_3(server, service, resource, api,
                                                                                       key):
    """§4.3 steps 10-12: the key the token is bound to (``cnf.jkt``), ``ath`` of this token, ``iat`` now."""
    token = bound_token(server, service, resource, key)
    other = ECKey.generate_key("P-256")
    r = call(api, token, proof(other, "GET", api.url + "/notes", token))
    assert r.status_code == 401 and "another key" in r.text
    r = call(api, token, proof(key, "GET", api.url + "/notes", token + "x"))
    assert r.status_code == 401 and "ath" in r.text
    old = jwt.encode({"typ": "dpop+jwt", "alg": "ES256", "jwk": key.as_dict(private=False)},
                     {"jti": "old", "htm": "GET", "htu": api.url + "/notes", "iat": int(time.time()) - 3600,
                      "ath": base64.urlsafe_b64encode(hashlib.sha256(token.encode()).digest()).rstrip(b"=").decode()},
                     key, algorithms=["ES256"])
    r = call(api, token, old)
    assert r.status_code == 401 and "iat" in r.text


def test_the_binding_is_read_from_introspection_too_rfc9449_6_2(server, service, resource, key):
    """§6.2: with ``introspect_always`` the kit reads ``cnf.jkt`` from authgate's introspection answer."""
    guard = ResourceServer(server.issuer, resource, introspection_auth=service.basic, introspect_always=True)
    token = bound_token(server, service, resource, key)
    assert guard.verify(token, scheme="dpop", proofs=[proof(key, "GET", resource + "/notes", token)],
                        url=resource + "/notes").jkt == key.thumbprint()
    with pytest.raises(TokenRefused) as refused:
        guard.verify(token)
    assert refused.value.scheme == "DPoP" and refused.value.error == "invalid_token"


def test_an_unbound_token_sent_as_dpop_is_refused(server, service, resource, api, key):
    """§7.1: a DPoP request must carry a DPoP-bound token; the bearer token works as a bearer token."""
    r = token_request(server, {"grant_type": "client_credentials", "scope": SCOPE, "resource": resource},
                      auth=service.basic)
    plain = r.json()["access_token"]
    refused = call(api, plain, proof(key, "GET", api.url + "/notes", plain))
    assert refused.status_code == 401 and challenge(refused) == ("DPoP", "invalid_token")
    assert call(api, plain, None, scheme="Bearer").status_code == 200


def test_a_resource_that_requires_dpop_says_so_and_refuses_bearer_tokens_rfc9728_2(server, service, key):
    """RFC 9728 §2 ``dpop_signing_alg_values_supported`` and ``dpop_bound_access_tokens_required`` when configured
    (not otherwise); with ``dpop_required`` a bearer token is refused with a DPoP challenge; by the FastAPI
    dependency, on a resource (and port) of its own."""
    resource = f"http://127.0.0.1:{free_port()}"
    server.commands.run_json("resources", "create", "--identifier", resource, "--name", unique("strict"),
                             "--scope", SCOPE)
    assert "dpop_signing_alg_values_supported" not in ResourceServer(server.issuer, resource).metadata()
    guard = ResourceServer(server.issuer, resource, dpop_required=True, dpop_algorithms=["ES256", "PS256"])
    meta = guard.metadata()
    assert meta["dpop_signing_alg_values_supported"] == ["ES256", "PS256"]
    assert meta["dpop_bound_access_tokens_required"] is True
    app = FastAPI()

    @app.get("/notes")
    def notes(token=Depends(guard.requires(SCOPE))):
        return {"jkt": token.jkt}

    r = token_request(server, {"grant_type": "client_credentials", "scope": SCOPE, "resource": resource},
                      auth=service.basic)
    plain = r.json()["access_token"]
    token = bound_token(server, service, resource, key)
    with Loopback(app, resource) as running:
        refused = call(running, plain, None, scheme="Bearer")
        missing = httpx.get(running.url + "/notes", timeout=10)
        ok = call(running, token, proof(key, "GET", running.url + "/notes", token))
    assert refused.status_code == 401 and challenge(refused) == ("DPoP", "invalid_token"), refused.headers
    assert 'algs="ES256 PS256"' in refused.headers["www-authenticate"]
    assert missing.status_code == 401 and missing.headers["www-authenticate"].startswith("DPoP ")
    assert ok.status_code == 200 and ok.json() == {"jkt": key.thumbprint()}, ok.text
