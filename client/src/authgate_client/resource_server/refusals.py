"""A refused request, in RFC 6750 §3's terms: 401 ``invalid_token`` (or no token at all), 403
``insufficient_scope`` naming the scope needed; ``challenge`` is the ``WWW-Authenticate`` value, with the
resource's metadata URL (RFC 9728 §5.1) so that a client can find the authorization server."""

from __future__ import annotations


class TokenRefused(Exception):
    def __init__(self, error: str | None, description: str, status: int = 401, scope: str | None = None):
        super().__init__(description)
        self.error = error
        """None when no token came at all (RFC 6750 §3.1: then no error code)."""
        self.description = description
        self.status = status
        self.scope = scope

    def challenge(self, metadata_url: str) -> str:
        params = [f'resource_metadata="{metadata_url}"']
        if self.error:
            params += [f'error="{self.error}"', f'error_description="{_quoted(self.description)}"']
        if self.scope:
            params.append(f'scope="{self.scope}"')
        return "Bearer " + ", ".join(params)

    def body(self) -> dict:
        return {"error": self.error or "invalid_request", "error_description": self.description}


def missing() -> TokenRefused:
    return TokenRefused(None, "This resource needs an access token (Authorization: Bearer ...).")


def invalid(description: str) -> TokenRefused:
    return TokenRefused("invalid_token", description)


def insufficient(scopes: list[str]) -> TokenRefused:
    needed = " ".join(scopes)
    return TokenRefused("insufficient_scope", f"This needs the scope {needed}.", status=403, scope=needed)


def _quoted(text: str) -> str:
    return text.replace("\\", "").replace('"', "'")
