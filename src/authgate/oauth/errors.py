"""OAuth errors authgate adds to Authlib's (RFC 6749 §5.2 leaves rate limiting to the server)."""

from __future__ import annotations

from authlib.oauth2.base import invalid_error_characters
from authlib.oauth2.rfc6749 import InvalidRequestError, OAuth2Error


def printable(text: str, limit: int = 64) -> str:
    """``text`` cut to what an ``error_description`` may hold (RFC 6749 §5.2: %x20-21 / %x23-5B / %x5D-7E)."""
    forbidden = set(invalid_error_characters(text))
    return "".join(c for c in text if c not in forbidden)[:limit] or "?"


def repeated_parameters(names: list[str]) -> InvalidRequestError:
    """RFC 6749 §3.1: request parameters must not be included more than once."""
    return InvalidRequestError(f"Parameter repeated: {', '.join(printable(n) for n in sorted(names))}.")


class TooManyRequestsError(OAuth2Error):
    """429 with ``Retry-After``: a rate limit or an account lockout."""

    error = "too_many_requests"
    status_code = 429

    def __init__(self, description: str, retry_after: int):
        super().__init__(description)
        self.retry_after = retry_after

    def get_headers(self):
        return super().get_headers() + [("Retry-After", str(self.retry_after))]


class DpopProofError(OAuth2Error):
    """A DPoP proof refused at the token endpoint (RFC 9449 §5): ``invalid_dpop_proof``, or ``use_dpop_nonce``
    with the nonce to use in ``DPoP-Nonce`` (§8)."""

    status_code = 400

    def __init__(self, error: str, description: str, nonce: str | None = None):
        super().__init__(description)
        self.error = error
        self.nonce = nonce

    def get_headers(self):
        return super().get_headers() + ([("DPoP-Nonce", self.nonce)] if self.nonce else [])
