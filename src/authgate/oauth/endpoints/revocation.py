"""Token revocation (RFC 7009) on Authlib's ``RevocationEndpoint``.

Access and refresh tokens are revoked by the client they were issued to, personal access tokens
by a client of their owner; an unknown token is answered 200 like a revoked one (§2.2).
"""

from __future__ import annotations

from authlib.oauth2.rfc6749 import InvalidGrantError, OAuth2Error
from authlib.oauth2.rfc7009 import RevocationEndpoint as AuthlibRevocation

from authgate.oauth.context import current_db
from authgate.oauth.models import OAuthPresentedToken

CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"]


class UnsupportedTokenTypeError(OAuth2Error):
    """RFC 7009 §2.2.1, answered like the errors of RFC 6749 §5.2: 400."""

    error = "unsupported_token_type"
    status_code = 400
    description = "token_type_hint must be access_token or refresh_token."


class RevocationEndpoint(AuthlibRevocation):
    CLIENT_AUTH_METHODS = CLIENT_AUTH_METHODS

    def check_params(self, request, client):
        hint = request.form.get("token_type_hint")
        if hint and hint not in self.SUPPORTED_TOKEN_TYPES:
            raise UnsupportedTokenTypeError()
        super().check_params(request, client)

    def authenticate_token(self, request, client):
        try:
            return super().authenticate_token(request, client)
        except InvalidGrantError:
            raise InvalidGrantError("The token was issued to another client.") from None

    def query_token(self, token_string, token_type_hint):
        return OAuthPresentedToken.find(self.server.runtime, current_db(), token_string)

    def revoke_token(self, token: OAuthPresentedToken, request):
        self.server.runtime.token_lookup.revoke(request.db, token.presented, client_id=request.client.get_client_id())
