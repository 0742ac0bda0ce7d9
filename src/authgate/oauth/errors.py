"""OAuth errors authgate adds to Authlib's (RFC 6749 §5.2 leaves rate limiting to the server)."""

from __future__ import annotations

from authlib.oauth2.rfc6749 import OAuth2Error


class TooManyRequestsError(OAuth2Error):
    """429 with ``Retry-After``: a rate limit or an account lockout."""

    error = "too_many_requests"
    status_code = 429

    def __init__(self, description: str, retry_after: int):
        super().__init__(description)
        self.retry_after = retry_after

    def get_headers(self):
        return super().get_headers() + [("Retry-After", str(self.retry_after))]
