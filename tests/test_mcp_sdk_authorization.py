"""An MCP server and client nobody here wrote, against a real authgate (issue 16's headline test).

The server is the official ``mcp`` SDK's ``MCPServer`` on loopback (streamable HTTP), its ``AuthSettings``
naming authgate as the authorization server and its own URL as the resource, its token check the kit's
``authgate_client.resource_server.mcp.TokenVerifier``. The client is the SDK's ``OAuthClientProvider``. The
flow is MCP authorization (revisions 2025-06-18 and 2025-11-25, "Authorization Flow Steps"): a 401 whose
``WWW-Authenticate`` names the resource metadata (RFC 9728 §5.1) → that metadata (RFC 9728 §3) → authgate's
discovery (RFC 8414) → dynamic client registration (RFC 7591 §3) → authorization with PKCE S256 and
``resource`` (RFC 7636, RFC 8707 §2) → the token → a tool call that succeeds. A token authgate issued for
another resource is then refused by the MCP server (RFC 8707 §2, MCP "Token Audience Binding").

Then the same flow once with a Client ID Metadata Document instead of registration (MCP authorization
2025-11-25, "Client ID Metadata Documents"): the SDK takes only an https ``client_id`` URL with a path, so
the test serves the document over https on loopback with a certificate from a CA it made
(``support/tls.py``), which authgate trusts through ``AUTHGATE_FETCH_CA_FILE`` and reaches on loopback
through the test-only ``AUTHGATE_FETCH_ALLOW_PRIVATE``.

Sign-in and consent are driven over HTTP by the test (``support.Browser``); the SDK gets the code and state
from the redirect's Location, as a loopback redirect listener would hand them over."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import anyio
import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.auth import OAuthClientProvider
from mcp.client.streamable_http import streamable_http_client
from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.auth.settings import AuthSettings
from mcp.server.mcpserver import MCPServer
from mcp.shared.auth import AuthorizationCodeResult, OAuthClientMetadata

from authgate_client.resource_server import ResourceServer
from authgate_client.resource_server.mcp import TokenVerifier
from support import Browser, free_port, pkce_pair, token_request, unique
from support.documents import DocumentServer
from support.registration import register
from support.tls import TestAuthority
from support.values import jwt_parts
from support.loopback import Loopback

SCOPE = "notes:read"
GHOST = "ghost:read"
"""In the registration policy, but defined by no resource."""
OTHER = "https://other.example.com/notes"
REDIRECT = "http://127.0.0.1:33418/callback"
TIMEOUT = 15


@pytest.fixture(scope="module")
def authority(tmp_path_factory) -> TestAuthority:
    return TestAuthority(tmp_path_factory.mktemp("mcp-ca"))


@pytest.fixture(scope="module")
def https_documents(authority):
    """Client ID Metadata Documents over https on loopback, its certificate signed by the test's CA."""
    published = DocumentServer(tls=authority.server_context())
    yield published
    published.close()


@pytest.fixture(scope="module")
def authgate(server_factory, authority):
    """Open registration (RFC 7591), registered clients allowed the MCP server's scope; metadata documents on,
    fetched from loopback and trusting the test's CA."""
    return server_factory({"AUTHGATE_REGISTRATION": "open",
                           "AUTHGATE_REGISTRATION_SCOPES": f"openid profile email offline_access {SCOPE} {GHOST}",
                           "AUTHGATE_CIMD": "on", "AUTHGATE_FETCH_ALLOW_PRIVATE": "1",
                           "AUTHGATE_FETCH_CA_FILE": str(authority.ca_file)})


@pytest.fixture(scope="module")
def mcp_url(authgate):
    """The MCP server's URL, registered as an authgate resource defining ``notes:read`` (RFC 8707 §2); a
    second resource defines the same scope, so only the audience tells their tokens apart."""
    url = f"http://127.0.0.1:{free_port()}/mcp"
    authgate.commands.run_json("resources", "create", "--identifier", url, "--name", "Notes MCP", "--scope", SCOPE)
    authgate.commands.run_json("resources", "create", "--identifier", OTHER, "--name", "Other", "--scope", SCOPE)
    return url


@pytest.fixture(scope="module")
def mcp_server(authgate, mcp_url):
    guard = ResourceServer(authgate.issuer, mcp_url, scopes_supported=[SCOPE], resource_name="Notes MCP")
    server = MCPServer("notes", token_verifier=TokenVerifier(guard), auth=AuthSettings(
        issuer_url=authgate.issuer, resource_server_url=mcp_url, required_scopes=[SCOPE],
        validate_token_resource=True))

    @server.tool()
    def whoami() -> str:
        """The subject of the caller's token."""
        return get_access_token().subject

    with Loopback(server.streamable_http_app(), mcp_url):
        yield mcp_url


class Memory:
    """The SDK's ``TokenStorage``, in memory."""

    def __init__(self):
        self.tokens = self.client_info = None

    async def get_tokens(self):
        return self.tokens

    async def set_tokens(self, tokens) -> None:
        self.tokens = tokens

    async def get_client_info(self):
        return self.client_info

    async def set_client_info(self, client_info) -> None:
        self.client_info = client_info


class Person:
    """Signs in and consents at authgate when the SDK sends them there; the SDK's callback gets the code."""

    def __init__(self, authgate, user):
        self.browser, self.user = Browser(authgate), user
        self.authorize_urls: list[str] = []
        self.location = None

    async def redirect(self, authorization_url: str) -> None:
        self.authorize_urls.append(authorization_url)
        self.location = await anyio.to_thread.run_sync(self.browser.authorize, authorization_url, self.user)

    async def callback(self) -> AuthorizationCodeResult:
        query = {k: v[0] for k, v in parse_qs(urlsplit(self.location).query).items()}
        assert "code" in query, self.location
        return AuthorizationCodeResult(code=query["code"], state=query.get("state"), iss=query.get("iss"))


async def call_whoami(mcp_url: str, provider: OAuthClientProvider) -> str:
    async with httpx2.AsyncClient(auth=provider, timeout=TIMEOUT) as http:
        async with Client(streamable_http_client(mcp_url, http_client=http), read_timeout_seconds=TIMEOUT) as mcp:
            result = await mcp.call_tool("whoami", {})
    assert not result.is_error, result
    return result.content[0].text


@pytest.fixture(scope="module")
def connected(authgate, mcp_server):
    """The SDK's client, registered by DCR, after its first tool call: (person, storage, the tool's answer)."""
    user = authgate.create_user()
    person, storage = Person(authgate, user), Memory()
    provider = OAuthClientProvider(
        mcp_server, OAuthClientMetadata(client_name=unique("mcp-agent"), redirect_uris=[REDIRECT]),
        storage, redirect_handler=person.redirect, callback_handler=person.callback)
    answer = anyio.run(call_whoami, mcp_server, provider)
    return person, storage, answer


def test_an_unauthenticated_call_gets_401_naming_the_resource_metadata(mcp_server, authgate):
    """RFC 9728 §5.1 (``resource_metadata`` in the challenge) and §3 (the metadata names authgate): how an MCP
    client finds the authorization server (MCP authorization, "Authorization Server Discovery")."""
    r = httpx.post(mcp_server, json={}, headers={"Accept": "application/json, text/event-stream"}, timeout=TIMEOUT)
    assert r.status_code == 401
    challenge = r.headers["www-authenticate"]
    assert challenge.startswith("Bearer ") and "resource_metadata=" in challenge, challenge
    metadata_url = challenge.split('resource_metadata="')[1].split('"')[0]
    metadata = httpx.get(metadata_url, timeout=TIMEOUT).json()
    assert metadata["resource"] == mcp_server
    assert [a.rstrip("/") for a in metadata["authorization_servers"]] == [authgate.issuer.rstrip("/")]


def test_the_sdk_client_registers_authorizes_with_resource_and_calls_a_tool(connected, authgate, mcp_server):
    """The whole MCP authorization flow: RFC 7591 §3 registration, RFC 7636 PKCE S256 and RFC 8707 §2
    ``resource`` at /authorize, the token, and a tool call whose token the kit verified (the subject is the
    person who consented)."""
    person, storage, answer = connected
    assert answer and answer == jwt_parts(storage.tokens.access_token)[1]["sub"], "the tool saw the token's subject"
    assert storage.client_info.client_id, "registered by DCR"
    [authorize_url] = person.authorize_urls
    params = parse_qs(urlsplit(authorize_url).query)
    assert params["resource"] == [mcp_server]
    assert params["code_challenge_method"] == ["S256"]
    assert SCOPE in params["scope"][0].split()
    assert SCOPE in storage.tokens.scope.split()


def test_a_token_for_another_resource_is_refused_by_the_mcp_server(connected, authgate, mcp_server):
    """RFC 8707 §2 and MCP authorization "Token Audience Binding and Validation": the same client, the same
    person and the same scope, but a token asked for another resource — the MCP server answers 401."""
    person, storage, _ = connected
    info = storage.client_info
    verifier, challenge = pkce_pair()
    redirect_uri = str(info.redirect_uris[0])
    location = person.browser.authorize(
        {"response_type": "code", "client_id": info.client_id, "redirect_uri": redirect_uri, "scope": SCOPE,
         "state": "s", "code_challenge": challenge, "code_challenge_method": "S256", "resource": OTHER},
        person.user)
    code = parse_qs(urlsplit(location).query)["code"][0]
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
            "code_verifier": verifier, "resource": OTHER, "client_id": info.client_id}
    auth = (info.client_id, info.client_secret) if info.client_secret else None
    r = token_request(authgate, data, auth=auth)
    assert r.status_code == 200, r.text
    other_token = r.json()["access_token"]

    def call(token: str) -> httpx.Response:
        return httpx.post(mcp_server, json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"}, timeout=TIMEOUT,
                          headers={"Authorization": f"Bearer {token}",
                                   "Accept": "application/json, text/event-stream"})

    refused = call(other_token)
    assert refused.status_code == 401, refused.text
    assert 'error="invalid_token"' in refused.headers["www-authenticate"]
    assert call(storage.tokens.access_token).status_code != 401, "the MCP server's own token still passes"


@pytest.fixture(scope="module")
def connected_by_document(authgate, mcp_server, https_documents):
    """The SDK's client known by its metadata document, after its first tool call: (person, storage, the tool's
    answer, the document's path and URL)."""
    path = f"/agents/{unique('notes-agent')}/client.json"
    url = https_documents.url(path)
    https_documents.publish(path, {"client_id": url, "client_name": "Notes agent", "redirect_uris": [REDIRECT],
                                   "grant_types": ["authorization_code", "refresh_token"],
                                   "response_types": ["code"], "token_endpoint_auth_method": "none"},
                            headers={"Cache-Control": "max-age=600"})
    user = authgate.create_user()
    person, storage = Person(authgate, user), Memory()
    provider = OAuthClientProvider(
        mcp_server, OAuthClientMetadata(client_name="Notes agent", redirect_uris=[REDIRECT]),
        storage, redirect_handler=person.redirect, callback_handler=person.callback, client_metadata_url=url)
    answer = anyio.run(call_whoami, mcp_server, provider)
    return person, storage, answer, path, url


def test_discovery_advertises_metadata_documents(authgate):
    """What the SDK reads before choosing a metadata document over registration
    (draft-ietf-oauth-client-id-metadata-document ``client_id_metadata_document_supported``; RFC 8414 §2)."""
    metadata = httpx.get(authgate.url("/.well-known/oauth-authorization-server"), timeout=TIMEOUT).json()
    assert metadata["client_id_metadata_document_supported"] is True
    assert "S256" in metadata["code_challenge_methods_supported"] and metadata["registration_endpoint"]


def test_the_sdk_client_known_by_its_metadata_document_calls_a_tool(connected_by_document, authgate, mcp_server,
                                                                   https_documents):
    """MCP authorization with a Client ID Metadata Document: no registration; the https URL is the client_id at
    /authorize (with PKCE S256 and RFC 8707 ``resource``) and at the token endpoint (a public client, RFC 7636),
    authgate fetched the document once for the whole flow, and the tool saw the person who consented."""
    person, storage, answer, path, url = connected_by_document
    assert storage.client_info.client_id == url, "the URL is the client id, nothing was registered"
    [authorize_url] = person.authorize_urls
    params = parse_qs(urlsplit(authorize_url).query)
    assert params["client_id"] == [url]
    assert params["resource"] == [mcp_server] and params["code_challenge_method"] == ["S256"]
    claims = jwt_parts(storage.tokens.access_token)[1]
    assert claims["client_id"] == url and mcp_server in claims["aud"]
    assert answer == claims["sub"], "the tool saw the token's subject"
    assert https_documents.hits[path] == 1, "fetched once within its cache lifetime"
    [row] = [c for c in authgate.commands.run_json("clients", "list")["clients"] if c["client_id"] == url]
    assert row["metadata_document"] is True and row["name"] == "Notes agent"


def test_registration_offers_the_policys_resource_scopes_that_a_resource_defines(authgate, mcp_url):
    """RFC 7591 §2 ``scope``: a registered client may be given a resource server's scope the operator's policy
    names (``AUTHGATE_REGISTRATION_SCOPES``); one no resource defines is not offered (§3.2.2
    ``invalid_client_metadata``)."""
    metadata = {"client_name": unique("agent"), "redirect_uris": ["http://127.0.0.1:33418/callback"],
                "token_endpoint_auth_method": "none"}
    r = register(authgate, {**metadata, "scope": f"openid {SCOPE}"})
    assert r.status_code == 201, r.text
    assert r.json()["scope"] == f"openid {SCOPE}"
    r = register(authgate, {**metadata, "scope": GHOST})
    assert r.status_code == 400 and r.json()["error"] == "invalid_client_metadata", r.text
    assert GHOST not in r.json()["error_description"].split("allowed:")[1]
