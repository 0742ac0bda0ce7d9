"""Reading the server's answers: JSON bodies, and the typed error an error answer stands for."""

from __future__ import annotations

from typing import Any

import httpx

from authgate_client.errors import ServerError, oauth_error


def json_body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def error_from(response: httpx.Response, what: str) -> Exception:
    body = json_body(response)
    if isinstance(body, dict) and isinstance(body.get("error"), str) and body["error"] and " " not in body["error"]:
        return oauth_error(body["error"], body.get("error_description"), response.status_code, body)
    if response.status_code == 404:
        return ServerError(f"the server has no {what} at {response.request.url} (HTTP 404)", 404)
    return ServerError(
        f"the {what} at {response.request.url} answered HTTP {response.status_code} without an OAuth error: "
        f"{response.text[:200]!r}", response.status_code)


def resource_asks_for_nonce(status: int, headers) -> bool:
    """A resource server's ``401`` with ``WWW-Authenticate: DPoP error="use_dpop_nonce"`` and a nonce to use:
    retry once with it (RFC 9449 §9)."""
    challenge = headers.get("www-authenticate") or ""
    return (status == 401 and challenge.lower().startswith("dpop") and 'error="use_dpop_nonce"' in challenge
            and bool(headers.get("dpop-nonce")))


def asks_for_nonce(status: int, body: Any, headers) -> bool:
    """The answer is ``use_dpop_nonce`` with a nonce to use: retry once (RFC 9449 §8.1)."""
    return (status in (400, 401) and isinstance(body, dict) and body.get("error") == "use_dpop_nonce"
            and bool(headers.get("dpop-nonce")))
