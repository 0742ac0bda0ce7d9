"""The client credentials grant (RFC 6749 §4.4): a token for the client itself, with no user."""

from __future__ import annotations

from authlib.oauth2.rfc6749 import InvalidScopeError, grants

from authgate.oauth.grants import specs
from authgate.oauth.grants.base import AuthgateGrant
from authgate.services.credentials import scopes as scope_rules


class ClientCredentialsGrant(AuthgateGrant, grants.ClientCredentialsGrant):
    SPEC = specs.CLIENT_CREDENTIALS
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "private_key_jwt"]
    AUTHENTICATES_IN_READ = True
    INSERTS_ONLY = True

    def token_family(self, user, scope):
        """No family: client credentials tokens carry no refresh token (RFC 6749 §4.4.3)."""
        return None

    def validate_requested_scope(self):
        """Also refuse a directory scope whose read has lapsed (its granter was demoted, deactivated or
        deleted): asked for, it is ``invalid_scope`` (RFC 6749 §5.2); by default it is left out of the token's
        scope (§3.3), which the response then names."""
        super().validate_requested_scope()
        client = self.request.client.row
        self.lapsed = self.services.clients.lapsed_directory_scopes(self.request.db, client)
        if not self.lapsed:
            return
        requested = scope_rules.parse(self.request.payload.scope)
        refused = sorted(self.lapsed.intersection(requested))
        if refused:
            raise InvalidScopeError(f"This client may no longer read the directory ({' '.join(refused)}): whoever "
                                    "let it no longer may. An administrator can give it the read again.")
        if not requested and not self._default_scope():
            raise InvalidScopeError("Every scope of this client is a directory read that has lapsed.")

    def _default_scope(self) -> str:
        return scope_rules.join([name for name in scope_rules.default_for_client(self.request.client.row.scopes)
                                 if name not in self.lapsed])

    def generate_token(self, user=None, scope=None, **kwargs):
        if not scope and getattr(self, "lapsed", None):
            scope = self._default_scope()
        return super().generate_token(user=user, scope=scope, **kwargs)
