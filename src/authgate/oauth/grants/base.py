"""What every authgate grant shares: how tokens are issued and recorded, who may still get them, and scope checks."""

from __future__ import annotations

from authlib.oauth2.rfc6749 import InvalidGrantError, InvalidScopeError

from authgate.services import audit
from authgate.services import scopes as scope_rules
from authgate.services.grant_types import GrantSpec
from authgate.services.principal import account_is_active
from authgate.storage.models import TokenFamily, User


class AuthgateGrant:
    """Mixed into Authlib grants: tokens come from ``TokenService`` and are recorded as they are made."""

    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]
    SPEC: GrantSpec
    AUTHENTICATES_IN_READ = False
    """True when ``validate_token_request`` only authenticates (client, user) and reads: it then runs in
    a read transaction, and the write transaction opens after it, only to persist. A grant that
    consumes a credential (a code, a refresh token) validates in the write transaction that spends it."""

    def __init_subclass__(cls, **kwargs):
        """The spec's URN is the ``grant_type`` Authlib matches, so it is written once."""
        super().__init_subclass__(**kwargs)
        if "SPEC" in cls.__dict__:
            cls.GRANT_TYPE = cls.SPEC.urn

    @classmethod
    def enabled(cls, settings) -> bool:
        """Whether the token endpoint serves it under these settings."""
        return True

    @classmethod
    def extensions(cls, runtime) -> list:
        """Authlib extensions attached when it is registered (PKCE, OpenID Connect)."""
        return []

    def record_authentication(self) -> None:
        """Write what validating found (in the write transaction, also when the request is refused)."""

    def token_family(self, user: User | None, scope: str) -> TokenFamily | None:
        """The family new tokens join: a new one by default, none for tokens without refresh."""
        client = self.request.client.row
        return self.server.runtime.tokens.start_family(self.request.db, client, user, self.SPEC.name, scope)

    @staticmethod
    def active_user(user: User | None) -> User:
        """The grant's user if their account may still get tokens; ``invalid_grant`` for an inactive or
        deleted one, whatever credential they hold (RFC 6749 §5.2; OpenID Connect Core §3.1.3.3)."""
        if not account_is_active(user):
            raise InvalidGrantError("The user of this grant is no longer active.")
        return user

    def generate_token(self, user=None, scope=None, grant_type=None, expires_in=None, include_refresh_token=True):
        client = self.request.client
        scope = scope or scope_rules.join(scope_rules.default_for_client(client.row.scopes))
        tokens = self.server.runtime.tokens
        family = self.token_family(user, scope)
        issued = tokens.issue_access_token(
            self.request.db, client.row, user, scope, family.id if family else None, expires_in
        )
        response = {
            "token_type": "Bearer",
            "access_token": issued.token,
            "expires_in": issued.expires_in,
            "scope": scope,
        }
        if (
            include_refresh_token
            and family is not None
            and client.check_grant_type("refresh_token")
            and scope_rules.allows_refresh(scope_rules.parse(scope))
        ):
            response["refresh_token"] = tokens.issue_refresh_token(self.request.db, family, scope)
        audit.record(
            self.request.db, "token.refreshed" if self.GRANT_TYPE == "refresh_token" else "token.issued",
            user_id=user.id if user is not None else None, client_id=client.get_client_id(), subject=issued.jti,
            details={"grant_type": self.GRANT_TYPE, "scope": scope, "refresh_token": "refresh_token" in response},
        )
        return response

    def save_token(self, token):
        """Nothing left to do: ``generate_token`` recorded the tokens in the request's transaction."""

    def validate_requested_scope(self):
        """Refuse unknown scopes and scopes outside the client's own set (RFC 6749 §3.3, §5.2)."""
        requested = scope_rules.parse(self.request.payload.scope)
        if requested and not scope_rules.allowed_for_client(requested, self.request.client.row.scopes):
            raise InvalidScopeError("The requested scope is unknown or not allowed for this client.")
