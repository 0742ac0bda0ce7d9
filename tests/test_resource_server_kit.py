"""The resource-server kit of authgate-client (issue 16 item 7): an API of the user's own, on loopback,
protected by ``ResourceServer`` against a real authgate — by its ASGI middleware and by the FastAPI
dependency. RFC 9068 §4 (validating JWT access tokens), RFC 8707 §2 (the audience), RFC 6750 §3 (the
``WWW-Authenticate`` challenge and its errors), RFC 9728 §2, §3.1 and §5.1 (the resource's metadata and
its URL in the challenge), RFC 7662 (opaque tokens by introspection)."""

from __future__ import annotations

import base64
import json
import time

import httpx
import pytest
from fastapi import Depends, FastAPI
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from authgate_client.resource_server import ResourceServer, TokenRefused
from support import eventually, token_request
from support.loopback import Loopback

SCOPES = ["users:read", "groups:read"]


async def whoami(request):
    token = request.scope["auth"]
    return JSONResponse({"sub": token.subject, "client_id": token.client_id, "scopes": sorted(token.scopes)})


@pytest.fixture(scope="module")
def authgate(server_factory):
    """A server of its own: one test rotates its signing key."""
    return server_factory()


@pytest.fixture(scope="module")
def service(authgate):
    client = authgate.create_client(grants=["client_credentials"], scopes=SCOPES)
    return client


def client_token(authgate, client, scope: str = "users:read") -> str:
    r = token_request(authgate, {"grant_type": "client_credentials", "scope": scope}, auth=client.basic)
    assert r.status_code == 200, r.text
    return r.json()["access_token"]


def guard_for(authgate, resource: str | None = None, **options) -> ResourceServer:
    return ResourceServer(authgate.issuer, resource or authgate.issuer, scopes_supported=SCOPES, **options)


@pytest.fixture(scope="module")
def protected(authgate):
    """Today's tokens name the issuer as their audience: the resource this app is."""
    guard = guard_for(authgate, resource_name="Notes")
    app = guard.protect(Starlette(routes=[Route("/notes", whoami), Route("/health", lambda r: JSONResponse({}))]),
                        required_scopes=["users:read"], public_paths=["/health"])
    with Loopback(app) as running:
        yield running


def challenge_params(header: str) -> dict:
    scheme, _, rest = header.partition(" ")
    assert scheme == "Bearer", header
    params = {}
    for part in rest.split(", "):
        name, _, value = part.partition("=")
        params[name] = value.strip('"')
    return params


def test_a_token_for_this_resource_reaches_the_app_with_its_subject_and_scopes(authgate, service, protected):
    """RFC 9068 §4: signature by the issuer's JWKS, ``typ`` at+jwt, ``iss``, ``aud``, ``exp``."""
    r = protected.get("/notes", client_token(authgate, service))
    assert r.status_code == 200, r.text
    assert r.json() == {"sub": service.client_id, "client_id": service.client_id, "scopes": ["users:read"]}


def test_no_token_is_a_401_whose_challenge_names_the_resource_metadata(authgate, protected):
    """RFC 6750 §3.1: no error code when no token came; RFC 9728 §5.1: ``resource_metadata``."""
    r = protected.get("/notes")
    assert r.status_code == 401
    params = challenge_params(r.headers["www-authenticate"])
    assert params == {"resource_metadata": f"{authgate.issuer.rstrip('/')}/.well-known/oauth-protected-resource"}
    assert protected.get("/health").status_code == 200


def test_the_metadata_names_the_resource_and_its_authorization_server(authgate, protected):
    """RFC 9728 §2 (the members) and §3.1 (served at the well-known path, before the resource's path)."""
    r = protected.get("/.well-known/oauth-protected-resource")
    assert r.status_code == 200 and r.headers["access-control-allow-origin"] == "*"
    assert r.json() == {"resource": authgate.issuer, "authorization_servers": [authgate.issuer],
                        "bearer_methods_supported": ["header"], "scopes_supported": SCOPES, "resource_name": "Notes"}
    with_path = ResourceServer(authgate.issuer, "https://api.example.org/mcp")
    assert with_path.metadata_url == "https://api.example.org/.well-known/oauth-protected-resource/mcp"


def test_a_token_for_another_resource_is_refused(authgate, service):
    """RFC 8707 §2 / RFC 9068 §4 step 3: the audience must name this resource."""
    guard = guard_for(authgate, "https://other.example.org/api")
    with Loopback(guard.protect(Starlette(routes=[Route("/notes", whoami)]))) as other:
        r = other.get("/notes", client_token(authgate, service))
    assert r.status_code == 401
    params = challenge_params(r.headers["www-authenticate"])
    assert params["error"] == "invalid_token" and "not for this resource" in params["error_description"]
    assert params["resource_metadata"] == "https://other.example.org/.well-known/oauth-protected-resource/api"


def forged(token: str, **changes) -> str:
    header, claims, signature = token.split(".")
    body = json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))
    body.update(changes)
    return ".".join([header, base64.urlsafe_b64encode(json.dumps(body).encode()).rstrip(b"=").decode(), signature])


def test_a_token_with_changed_claims_or_no_signature_is_refused(authgate, service, protected):
    """RFC 9068 §4 step 4 (the signature); RFC 7515 §3.1: ``alg`` ``none`` is never accepted."""
    token = client_token(authgate, service)
    assert protected.get("/notes", forged(token, scope="users:read groups:read", sub="admin")).status_code == 401
    header = base64.urlsafe_b64encode(b'{"alg":"none","typ":"at+jwt"}').rstrip(b"=").decode()
    unsigned = ".".join([header, token.split(".")[1], ""])
    r = protected.get("/notes", unsigned)
    assert r.status_code == 401 and challenge_params(r.headers["www-authenticate"])["error"] == "invalid_token"


def test_a_token_without_the_scope_is_a_403_naming_it(authgate, service, protected):
    """RFC 6750 §3.1: ``insufficient_scope`` and the ``scope`` the request needs."""
    r = protected.get("/notes", client_token(authgate, service, scope="groups:read"))
    assert r.status_code == 403
    params = challenge_params(r.headers["www-authenticate"])
    assert params["error"] == "insufficient_scope" and params["scope"] == "users:read"


def test_an_expired_token_is_refused(short_ttl_server):
    """RFC 9068 §4 step 6: ``exp``; the kit's leeway set to none."""
    client = short_ttl_server.create_client(grants=["client_credentials"], scopes=SCOPES)
    guard = ResourceServer(short_ttl_server.issuer, short_ttl_server.issuer, leeway=0)
    token = client_token(short_ttl_server, client)
    assert guard.verify(token).subject == client.client_id
    time.sleep(3.5)
    with pytest.raises(TokenRefused) as refused:
        guard.verify(token)
    assert refused.value.status == 401 and "expired" in refused.value.description


def test_with_introspection_a_revoked_token_is_refused_at_once(authgate, service):
    """RFC 7662 §2 with ``introspect_always``: each token is asked of the introspection endpoint, with the
    resource's own client credentials, so a token revoked (RFC 7009) a moment ago is refused."""
    guard = guard_for(authgate, introspection_auth=service.basic, introspect_always=True)
    token = client_token(authgate, service)
    assert guard.verify(token).subject == service.client_id
    revoked = httpx.post(authgate.url("/oauth/revoke"), data={"token": token}, auth=service.basic, timeout=10)
    assert revoked.status_code == 200
    with pytest.raises(TokenRefused) as refused:
        guard.verify(token)
    assert refused.value.error == "invalid_token" and "not active" in refused.value.description


def test_a_personal_access_token_is_for_authgates_api_not_this_one(authgate):
    """A personal access token is opaque (introspected, RFC 7662) and names no audience of another resource
    (RFC 8707 §2): the kit refuses it rather than take it for its own."""
    user = authgate.create_user()
    owned = authgate.create_client(grants=["client_credentials"], owner=user.username)
    pat = authgate.create_pat(user.username, scopes=["users:read"])
    with pytest.raises(TokenRefused) as refused:
        guard_for(authgate).verify(pat["token"])
    assert "only JWT" in refused.value.description
    with pytest.raises(TokenRefused) as refused:
        guard_for(authgate, introspection_auth=owned.basic).verify(pat["token"])
    assert "not for this resource" in refused.value.description


def test_a_key_rotated_at_once_is_fetched_when_a_token_names_it(authgate, service):
    """RFC 7517 §4.5 ``kid``: a token signed by a key the cached JWKS lacks makes the kit fetch it again."""
    guard = guard_for(authgate)
    before = client_token(authgate, service)
    assert guard.verify(before).subject == service.client_id
    guard.jwks.refetch_after = 0
    authgate.cli_json("keys", "rotate", "--now")
    after = eventually(lambda: client_token(authgate, service), lambda t: t.split(".")[0] != before.split(".")[0])
    assert after.split(".")[0] != before.split(".")[0]  # the server signs with the new key after its next poll
    assert guard.verify(after).subject == service.client_id


def test_the_fastapi_dependency_gives_the_route_the_token_or_the_challenge(authgate, service):
    """The same rules through ``Depends(guard.requires(scope))``: 200, 401 with the challenge, 403."""
    guard = guard_for(authgate)
    api = FastAPI()

    @api.get("/notes")
    def notes(token=Depends(guard.requires("users:read"))):
        return {"sub": token.subject}

    with Loopback(api) as running:
        ok = running.get("/notes", client_token(authgate, service))
        missing = running.get("/notes")
        narrow = running.get("/notes", client_token(authgate, service, scope="groups:read"))
    assert ok.status_code == 200 and ok.json() == {"sub": service.client_id}
    assert missing.status_code == 401 and "resource_metadata=" in missing.headers["www-authenticate"]
    assert narrow.status_code == 403 and 'error="insufficient_scope"' in narrow.headers["www-authenticate"]
