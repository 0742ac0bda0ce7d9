"""Protect your own API (or MCP server) with authgate's access tokens: ``ResourceServer`` verifies a token
for one resource identifier, serves that resource's RFC 9728 metadata, and answers refusals with the
right ``WWW-Authenticate``; ``BearerMiddleware`` does it for any ASGI app and ``requires`` for FastAPI.

    from authgate_client.resource_server import ResourceServer
    guard = ResourceServer("https://auth.example.com", "https://api.example.com/notes",
                           scopes_supported=["notes:read", "notes:write"])
    app = guard.protect(app)                          # any ASGI app: scope["auth"] is the AccessToken
    def handler(token = Depends(guard.requires("notes:read"))): ...   # FastAPI

Needs the ``resource`` extra (``pip install 'authgate-client[resource]'``: joserfc verifies the JWTs).
"""

from authgate_client.resource_server.asgi import BearerMiddleware
from authgate_client.resource_server.refusals import TokenRefused
from authgate_client.resource_server.server import ResourceServer
from authgate_client.resource_server.tokens import AccessToken

__all__ = ["AccessToken", "BearerMiddleware", "ResourceServer", "TokenRefused"]
