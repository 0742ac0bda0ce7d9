"""A refused request, in RFC 6750 §3's terms: 401 ``invalid_token`` (or no token at all), 403
``insufficient_scope`` naming the scope needed; ``challenge`` is the ``WWW-Authenticate`` value, with the
resource's metadata URL (RFC 9728 §5.1) so that a client can find the authorization server. A refusal about DPoP
(RFC 9449 §7.1: a bound token without its proof, a bad proof) is a ``DPoP`` challenge naming the accepted
``algs``."""

from __future__ import annotations


class TokenRefused(Exception):
    def __init__(self, error: str | None, description: str, status: int = 401, scope: str | None = None,
                 scheme: str = "Bearer"):
        super().__init__(description)
        self.scheme = scheme
        """``Bearer`` (RFC 6750 §3) or ``DPoP`` (RFC 9449 §7.1)."""
        self.algs: tuple[str, ...] = ()
        """With ``DPoP``: the proof algorithms accepted."""
        self.error = error
        """None when no token came at all (RFC 6750 §3.1: then no error code)."""
        self.description = description
        self.status = status
        self.scope = scope

    def challenge(self, metadata_url: str) -> str:
        params = [f'algs="{" ".join(self.algs)}"'] if self.scheme == "DPoP" and self.algs else []
        params.append(f'resource_metadata="{metadata_url}"')
        if self.error:
            params += [f'error="{self.error}"', f'error_description="{_quoted(self.description)}"']
        if self.scope:
            params.append(f'scope="{self.scope}"')
        return f"{self.scheme} " + ", ".join(params)

    def body(self) -> dict:
        return {"error": self.error or "invalid_request", "error_description": self.description}


def missing() -> TokenRefused:
    return TokenRefused(None, "This resource needs an access token (Authorization: Bearer ...).")


def invalid(description: str) -> TokenRefused:
    return TokenRefused("invalid_token", description)


def bad_proof(description: str) -> TokenRefused:
    """RFC 9449 §7.1: the DPoP proof is missing, broken or not for this request, token or key."""
    return TokenRefused("invalid_dpop_proof", description, scheme="DPoP")


def unbound_dpop(description: str) -> TokenRefused:
    """A token presented or refused under the DPoP scheme: ``invalid_token`` with a DPoP challenge."""
    return TokenRefused("invalid_token", description, scheme="DPoP")


def insufficient(scopes: list[str]) -> TokenRefused:
    needed = " ".join(scopes)
    return TokenRefused("insufficient_scope", f"This needs the scope {needed}.", status=403, scope=needed)


def _quoted(text: str) -> str:
    return text.replace("\\", "").replace('"', "'")
