"""The Python client's adapters put the bearer token on requests (RFC 6750 §2.1) of the HTTP library
a script already uses — ``httpx.Client``, ``httpx.AsyncClient`` and ``requests`` — and after a 401
(RFC 6750 §3.1) refresh once and send the request again, body included."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
import requests

from authgate_client import Client
from client_support import refused_access_token, strict_short_server

ME = "/api/1.0/users/me"


@pytest.fixture(scope="module")
def server(server_factory):
    """No refresh grace window here, so that a token can be made one the server refuses."""
    return strict_short_server(server_factory)


@pytest.fixture(scope="module")
def app(server):
    return server.create_client(grants=["password"])


@pytest.fixture(scope="module")
def user(server):
    return server.create_user()


@pytest.fixture
def client(server, app, user, tmp_path):
    client = Client(server.issuer, app.client_id, app.client_secret, scopes=["users:read"], cache_dir=tmp_path,
                    refresh_leeway=0)
    client.login_password(user.username, user.password)
    yield client
    client.close()


def poison(client: Client, server, app, user) -> str:
    """Make the cached access token one the server refuses, while the client believes it is fresh."""
    tokens = client.tokens
    tokens.access_token = refused_access_token(server, app, user)
    tokens.expires_at = time.time() + 3600  # as a client whose clock is wrong would believe
    client.store.save(client.cache_key, tokens)
    return tokens.access_token


def httpx_sync(server, client: Client, statuses: list[int]) -> httpx.Response:
    with httpx.Client(auth=client.auth, event_hooks={"response": [lambda r: statuses.append(r.status_code)]}) as http:
        return http.get(server.url(ME))


def httpx_async(server, client: Client, statuses: list[int]) -> httpx.Response:
    async def record(response: httpx.Response) -> None:
        statuses.append(response.status_code)

    async def call() -> httpx.Response:
        async with httpx.AsyncClient(auth=client.auth, event_hooks={"response": [record]}) as http:
            return await http.get(server.url(ME))

    return asyncio.run(call())


def requests_lib(server, client: Client, statuses: list[int]) -> requests.Response:
    response = requests.get(server.url(ME), auth=client.requests_auth(), timeout=15)
    statuses.extend(r.status_code for r in [*response.history, response])
    return response


ADAPTERS = [httpx_sync, httpx_async, requests_lib]


@pytest.mark.parametrize("call", ADAPTERS, ids=lambda f: f.__name__)
def test_adapter_sends_the_bearer_token_rfc6750_2_1(server, user, client, call):
    statuses: list[int] = []
    response = call(server, client, statuses)
    assert response.status_code == 200 and response.json()["username"] == user.username
    assert statuses == [200]
    assert response.request.headers["Authorization"] == f"Bearer {client.tokens.access_token}"


@pytest.mark.parametrize("call", ADAPTERS, ids=lambda f: f.__name__)
def test_adapter_refreshes_once_on_401_and_retries_rfc6750_3_1(server, app, user, client, call):
    rejected = poison(client, server, app, user)
    statuses: list[int] = []
    response = call(server, client, statuses)
    assert response.status_code == 200, response.text
    assert statuses == [401, 200]
    assert client.tokens.access_token != rejected
    assert response.request.headers["Authorization"] == f"Bearer {client.tokens.access_token}"


def test_retry_resends_the_body(server, app, user, client):
    """A request retried after a 401 carries its body again (the API has only GET so far; the body
    of this GET is ignored by the server but must be sent both times)."""
    rejected = poison(client, server, app, user)
    seen: list[tuple[str, bytes]] = []

    def record(request: httpx.Request) -> None:
        seen.append((request.headers["Authorization"], request.content))

    with httpx.Client(auth=client.auth, event_hooks={"request": [record]}) as http:
        response = http.request("GET", server.url(ME), json={"hello": "world"})
    body = b'{"hello":"world"}'
    assert seen == [(f"Bearer {rejected}", body), (f"Bearer {client.tokens.access_token}", body)]
    assert response.status_code == 200
