"""CORS for the endpoints a browser app (a SPA using oidc-client-ts, say) calls itself: token, pushed
authorization requests, UserInfo, JWKS, revocation, dynamic client registration and its client configuration
endpoints, the discovery documents and the API's protected resource metadata (a pure ASGI middleware).

They answer preflights and allow any origin, *without* credentials: these endpoints authenticate by
what the request carries (a code and PKCE verifier, a bearer token, a public client's id), never by
a cookie, so a cross-origin caller gains nothing it did not already hold. Pages, introspection (a
resource server's back channel) and the JSON API send no CORS headers at all.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from authgate.oauth.endpoints.metadata import AUTHORIZATION_SERVER_PATH, OPENID_CONFIGURATION_PATH, PATHS
from authgate.oauth.endpoints.protected_resource import PROTECTED_RESOURCE_PATH

METHODS = {
    PATHS["token_endpoint"]: b"POST",
    PATHS["revocation_endpoint"]: b"POST",
    PATHS["pushed_authorization_request_endpoint"]: b"POST",
    PATHS["userinfo_endpoint"]: b"GET, POST",
    PATHS["jwks_uri"]: b"GET",
    AUTHORIZATION_SERVER_PATH: b"GET",
    OPENID_CONFIGURATION_PATH: b"GET",
    PATHS["registration_endpoint"]: b"POST",
    PROTECTED_RESOURCE_PATH: b"GET",
}
PREFIXES = ((PATHS["registration_endpoint"] + "/", b"GET, PUT, DELETE"),
            (AUTHORIZATION_SERVER_PATH + "/", b"GET"), (PROTECTED_RESOURCE_PATH + "/", b"GET"))
"""Paths under these too: RFC 7592's ``registration_client_uri`` of each client, and the well-known documents
of an identifier with a path (RFC 8414 §3.1, RFC 9728 §3.1)."""
ALLOW_ORIGIN = (b"access-control-allow-origin", b"*")
EXPOSE = (b"access-control-expose-headers", b"WWW-Authenticate, Retry-After")
ALLOW_HEADERS = (b"access-control-allow-headers", b"Authorization, Content-Type, DPoP")
MAX_AGE = (b"access-control-max-age", b"600")


def _methods(path: str) -> bytes | None:
    return METHODS.get(path) or next((methods for prefix, methods in PREFIXES if path.startswith(prefix)), None)


def _is_preflight(scope: Scope) -> bool:
    names = {name for name, _ in scope["headers"]}
    return scope["method"] == "OPTIONS" and b"origin" in names and b"access-control-request-method" in names


class Cors:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        methods = _methods(scope["path"]) if scope["type"] == "http" else None
        if methods is None:
            await self.app(scope, receive, send)
            return
        if _is_preflight(scope):
            headers = [ALLOW_ORIGIN, (b"access-control-allow-methods", methods), ALLOW_HEADERS, MAX_AGE,
                       (b"content-length", b"0")]
            await send({"type": "http.response.start", "status": 204, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                kept = [(name, value) for name, value in message.get("headers", [])
                        if not name.lower().startswith(b"access-control-")]
                message["headers"] = kept + [ALLOW_ORIGIN, EXPOSE]
            await send(message)

        await self.app(scope, receive, send_with_cors)
