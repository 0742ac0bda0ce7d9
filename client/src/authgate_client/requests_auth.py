"""``AuthgateRequestsAuth``: a ``requests.auth.AuthBase`` (so ``requests.get(url, auth=...)`` works)
that sends a fresh access token and, on a 401, re-sends once: with the API's DPoP nonce when it asks for one
(RFC 9449 §9), else with a refreshed token. Imported only when asked
for, so requests stays an optional dependency."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

try:
    import requests
    from requests.auth import AuthBase
except ImportError as error:  # pragma: no cover - depends on the environment
    raise ImportError("the requests adapter needs requests: pip install 'authgate-client[requests]'") from error

if TYPE_CHECKING:
    from authgate_client.client import Client


class AuthgateRequestsAuth(AuthBase):
    def __init__(self, client: "Client"):
        self.client = client

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        token = self.client.access_token()
        request.headers.update(self.client.authorization_headers(request.method or "GET", request.url or "", token))
        request.register_hook("response", self._retry_on_401)  # type: ignore[no-untyped-call]
        return request

    def _retry_on_401(self, response: requests.Response, **kwargs: Any) -> requests.Response:
        sent = response.request
        if response.status_code != 401 or getattr(sent, "_authgate_retried", False):
            return response
        rejected = (sent.headers.get("Authorization") or "").partition(" ")[2]
        nonce = self.client.nonce_asked(response.status_code, response.headers, rejected)
        fresh = rejected if nonce else self.client.token_after_401(rejected)
        if not fresh:
            return response
        response.content  # read the body so the connection can be reused
        response.close()
        retry = sent.copy()
        retry.headers.update(self.client.authorization_headers(retry.method or "GET", retry.url or "", fresh))
        retry._authgate_retried = True  # type: ignore[attr-defined]
        retry.hooks["response"] = [h for h in retry.hooks["response"] if h != self._retry_on_401]
        again = response.connection.send(retry, **kwargs)
        again.history.append(response)
        again.request = retry
        return again
