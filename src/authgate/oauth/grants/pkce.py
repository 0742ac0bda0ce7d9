"""PKCE (RFC 7636) as an extension of the code grant: S256 only, required for public clients."""

from __future__ import annotations

from authlib.oauth2.rfc6749 import InvalidRequestError
from authlib.oauth2.rfc7636 import CodeChallenge


class S256CodeChallenge(CodeChallenge):
    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]
    DEFAULT_CODE_CHALLENGE_METHOD = "S256"

    def validate_code_challenge(self, grant, redirect_uri):
        data = grant.request.payload.data
        challenge, method = data.get("code_challenge"), data.get("code_challenge_method")
        if grant.request.client.row.public and not challenge:
            raise InvalidRequestError("A public client must send a PKCE 'code_challenge' (S256).")
        if challenge and method != "S256":
            raise InvalidRequestError("'code_challenge_method' must be S256; 'plain' is not accepted.")
        super().validate_code_challenge(grant, redirect_uri)
