"""Token introspection (RFC 7662) on Authlib's ``IntrospectionEndpoint``.

Only confidential clients may ask, and only about the tokens they may manage (their own, and
their owner's personal access tokens); any other token is just ``{"active": false}`` (§2.2).
"""

from __future__ import annotations

from authlib.oauth2.rfc7662 import IntrospectionEndpoint as AuthlibIntrospection

from authgate.oauth.context import current_db
from authgate.oauth.models import OAuthPresentedToken

CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]


class IntrospectionEndpoint(AuthlibIntrospection):
    CLIENT_AUTH_METHODS = CLIENT_AUTH_METHODS

    def check_params(self, request, client):
        """Any ``token_type_hint`` is accepted: the search covers every kind of token anyway (§2.1)."""
        if "token" not in request.form:
            super().check_params(request, client)

    def query_token(self, token_string, token_type_hint):
        return OAuthPresentedToken.find(self.server.runtime, current_db(), token_string, memory_first=True)

    def check_permission(self, token: OAuthPresentedToken, client, request) -> bool:
        return token.check_client(client)

    def introspect_token(self, token: OAuthPresentedToken) -> dict:
        return token.describe()
