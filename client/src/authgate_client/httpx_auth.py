"""``AuthgateAuth``: an ``httpx.Auth`` for ``httpx.Client`` and ``httpx.AsyncClient`` that sends a
fresh access token (RFC 6750 §2.1, or RFC 9449 §7.1 with its DPoP proof), sends it again once with the API's
DPoP nonce when asked (§9), and, when the API still answers 401, refreshes once and retries."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Generator
from typing import TYPE_CHECKING

import anyio.to_thread
import httpx

if TYPE_CHECKING:
    from authgate_client.client import Client


class AuthgateAuth(httpx.Auth):
    requires_request_body = True

    def __init__(self, client: "Client"):
        self.client = client

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        token = self.client.access_token()
        request.headers.update(self.client.authorization_headers(request.method, str(request.url), token))
        response = yield request
        if self.client.nonce_asked(response.status_code, response.headers, token):
            request.headers.update(self.client.authorization_headers(request.method, str(request.url), token))
            response = yield request
        if response.status_code == 401:
            fresh = self.client.token_after_401(token)
            if fresh:
                request.headers.update(self.client.authorization_headers(request.method, str(request.url), fresh))
                yield request

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        token = await anyio.to_thread.run_sync(self.client.access_token)
        request.headers.update(self.client.authorization_headers(request.method, str(request.url), token))
        response = yield request
        if self.client.nonce_asked(response.status_code, response.headers, token):
            request.headers.update(self.client.authorization_headers(request.method, str(request.url), token))
            response = yield request
        if response.status_code == 401:
            fresh = await anyio.to_thread.run_sync(self.client.token_after_401, token)
            if fresh:
                request.headers.update(self.client.authorization_headers(request.method, str(request.url), fresh))
                yield request
