"""PKCE (RFC 7636) as an extension of the code grant: S256 only, required for public clients and
FAPI 2.0 clients (FAPI 2.0 Security Profile §5.3.2.2 item 4)."""

from __future__ import annotations

from authlib.oauth2.rfc6749 import InvalidRequestError
from authlib.oauth2.rfc7636 import CodeChallenge

from authgate.services.applications import profiles


class S256CodeChallenge(CodeChallenge):
    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]
    DEFAULT_CODE_CHALLENGE_METHOD = "S256"

    def validate_code_challenge(self, grant, redirect_uri):
        data = grant.request.payload.data
        challenge, method = data.get("code_challenge"), data.get("code_challenge_method")
        client = grant.request.client.row
        if client.public and not challenge:
            raise InvalidRequestError("A public client must send a PKCE 'code_challenge' (S256).")
        if not challenge and profiles.fapi2(grant.services.settings, client):
            raise InvalidRequestError("A FAPI 2.0 client must send a PKCE 'code_challenge' (S256).")
        if challenge and method != "S256":
            raise InvalidRequestError("'code_challenge_method' must be S256; 'plain' is not accepted.")
        super().validate_code_challenge(grant, redirect_uri)
