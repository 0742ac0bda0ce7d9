"""An MCP server's token check by authgate: ``TokenVerifier`` adapts a ``ResourceServer`` to the official
``mcp`` SDK's ``TokenVerifier`` protocol (``mcp.server.auth.provider``), for a server whose ``AuthSettings``
name authgate as ``issuer_url`` and the server's own URL as ``resource_server_url`` (MCP authorization,
revisions 2025-06-18 and 2025-11-25: the server is an OAuth 2.1 resource server, its tokens bound to it by
RFC 8707).

    from mcp.server.auth.settings import AuthSettings
    from mcp.server.mcpserver import MCPServer
    from authgate_client.resource_server import ResourceServer
    from authgate_client.resource_server.mcp import TokenVerifier

    guard = ResourceServer("https://auth.example.com", "https://notes.example.com/mcp", scopes_supported=["notes:read"])
    server = MCPServer("notes", token_verifier=TokenVerifier(guard), auth=AuthSettings(
        issuer_url=guard.issuer, resource_server_url=guard.resource, required_scopes=["notes:read"],
        validate_token_resource=True))

A token the kit refuses (another resource's, expired, forged, ...) is ``None``: the SDK answers 401 with its
RFC 9728 ``resource_metadata``; scopes are the SDK's ``required_scopes`` to check (403
``insufficient_scope``). Needs the ``mcp`` package besides the ``resource`` extra.
"""

from __future__ import annotations

import anyio.to_thread
from mcp.server.auth.provider import AccessToken as McpAccessToken

from authgate_client.resource_server.refusals import TokenRefused
from authgate_client.resource_server.server import ResourceServer


class TokenVerifier:
    """``verify_token`` as the ``mcp`` SDK calls it; the kit's (blocking) check runs on a worker thread."""

    def __init__(self, guard: ResourceServer):
        self.guard = guard

    async def verify_token(self, token: str) -> McpAccessToken | None:
        try:
            verified = await anyio.to_thread.run_sync(self.guard.verify, token)
        except TokenRefused:
            return None
        return McpAccessToken(token=token, client_id=verified.client_id or verified.subject,
                              scopes=sorted(verified.scopes), expires_at=verified.expires_at,
                              resource=self.guard.resource, subject=verified.subject or None,
                              claims=verified.claims)
