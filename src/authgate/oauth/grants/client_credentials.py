"""The client credentials grant (RFC 6749 §4.4): a token for the client itself, with no user."""

from __future__ import annotations

from authlib.oauth2.rfc6749 import grants

from authgate.oauth.grants.base import AuthgateGrant
from authgate.services.applications.grant_types import GrantSpec


class ClientCredentialsGrant(AuthgateGrant, grants.ClientCredentialsGrant):
    SPEC = GrantSpec("client_credentials", "Client credentials", urn="client_credentials")
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]
    AUTHENTICATES_IN_READ = True

    def token_family(self, user, scope):
        """No family: client credentials tokens carry no refresh token (RFC 6749 §4.4.3)."""
        return None
