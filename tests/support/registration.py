"""Dynamic client registration as a client does it (RFC 7591 §3, RFC 7592 §2): JSON to /oauth/register and to
the client's own ``registration_client_uri``, each registration from an address of its own so that only the
tests meant to meet the per-address limit meet it."""

from __future__ import annotations

import itertools

import requests

from support.api import from_address
from support.server import HTTP_TIMEOUT, ServerProcess
from support.values import Client

_addresses = (f"127.0.{n // 250}.{n % 250 + 2}" for n in itertools.count(1000))


def register(server: ServerProcess, metadata, token: str | None = None, address: str | None = None,
             **kw) -> requests.Response:
    headers = {**({"Authorization": f"Bearer {token}"} if token else {}), **kw.pop("headers", {})}
    session = from_address(address or next(_addresses))
    if isinstance(metadata, (bytes, str)):
        return session.post(server.url("/oauth/register"), data=metadata, timeout=HTTP_TIMEOUT,
                            headers={"Content-Type": "application/json", **headers}, **kw)
    return session.post(server.url("/oauth/register"), json=metadata, headers=headers, timeout=HTTP_TIMEOUT, **kw)


def registered(server: ServerProcess, metadata, token: str | None = None) -> dict:
    r = register(server, metadata, token)
    assert r.status_code == 201, r.text
    return r.json()


def as_client(info: dict) -> Client:
    """A registration's answer as the helpers of ``support.oauth`` take a client."""
    return Client(client_id=info["client_id"], client_secret=info.get("client_secret"),
                  name=info.get("client_name", ""), redirect_uris=list(info.get("redirect_uris", [])), data=info)


def manage(method: str, info: dict, token: str | None = "same", **kw) -> requests.Response:
    """``method`` on the client's configuration endpoint with its registration access token (or ``token``)."""
    token = info["registration_access_token"] if token == "same" else token
    headers = {**({"Authorization": f"Bearer {token}"} if token else {}), **kw.pop("headers", {})}
    return requests.request(method, info["registration_client_uri"], headers=headers, timeout=HTTP_TIMEOUT, **kw)


def assert_registration_error(response: requests.Response, error: str, status: int = 400) -> dict:
    assert response.status_code == status, f"expected {status} {error}, got {response.status_code}: {response.text}"
    body = response.json()
    assert body.get("error") == error, body
    assert body.get("error_description"), body
    assert "no-store" in response.headers.get("Cache-Control", "")
    return body
