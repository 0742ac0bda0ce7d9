"""What every authgate grant shares: the services it is given, how tokens are issued, who may still
get them, and scope checks."""

from __future__ import annotations

from dataclasses import dataclass

from authlib.oauth2.rfc6749 import InvalidGrantError, InvalidScopeError

from authgate.oauth import resources as targets
from authgate.oauth.issuing import issuing
from authgate.services.accounts.people.users import UserService
from authgate.services.accounts.sessions.sessions import SessionService
from authgate.services.accounts.sign_in.login_guard import LoginGuard
from authgate.services.accounts.sign_in.second_step import SecondStep
from authgate.services.applications.clients import ClientService
from authgate.services.applications.grant_types import GrantSpec
from authgate.services.applications.resources import ResourceService
from authgate.services.caching.users import UserCache
from authgate.services.credentials import scopes as scope_rules
from authgate.services.credentials.codes import CodeService
from authgate.services.credentials.device_codes import DeviceCodeService
from authgate.services.credentials.keys import KeyService
from authgate.services.credentials.token_policy import token_refusal
from authgate.services.credentials.tokens import TokenService
from authgate.settings import Settings
from authgate.storage.models import TokenFamily, User


@dataclass(frozen=True)
class GrantServices:
    """The services grants use, given at registration: ``AuthorizationServer`` registers it as each
    grant's first extension, and Authlib hands extensions every grant it makes (``grant.services``)."""

    settings: Settings
    tokens: TokenService
    codes: CodeService
    device_codes: DeviceCodeService
    clients: ClientService
    keys: KeyService
    users: UserService
    login_guard: LoginGuard
    user_cache: UserCache
    """``get(s, user_id)``: the user from memory while the bus is fresh, else read through ``s``."""
    resources: ResourceService
    sessions: SessionService
    """For the ``sid`` of ID tokens."""
    second_step: SecondStep
    """Whether a password alone may sign the user in (the second-factor policy)."""

    @classmethod
    def of(cls, runtime) -> "GrantServices":
        return cls(settings=runtime.settings, tokens=runtime.tokens, codes=runtime.codes,
                   device_codes=runtime.device_codes, clients=runtime.clients, keys=runtime.keys,
                   users=runtime.users, login_guard=runtime.login_guard, user_cache=runtime.cached_users,
                   resources=runtime.resources, sessions=runtime.sessions,
                   second_step=runtime.second_step)

    def __call__(self, grant) -> None:
        grant.services = self


class AuthgateGrant:
    """Mixed into Authlib grants: tokens come from ``TokenGenerator`` (``oauth/issuing.py``), into the
    family ``token_family`` names."""

    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"]
    SPEC: GrantSpec
    AUTHENTICATES_IN_READ = False
    """True when ``validate_token_request`` only authenticates (client, user) and reads: it then runs in
    a read transaction, and the write transaction opens after it, only to persist. A grant that
    consumes a credential (a code, a refresh token) validates in the write transaction that spends it."""
    INSERTS_ONLY = False
    """True when the grant, once validated, writes nothing but inserts (no credential to spend, no family):
    it then runs whole in a read transaction and its rows are written after it, in one short write
    transaction without an ORM session (``AuthorizationServer._inserting_token_response``)."""
    services: GrantServices
    target: targets.Target | None = None
    """The resources the token is for (RFC 8707), decided while validating; None: none named."""

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
    def extensions(cls, services: GrantServices) -> list:
        """Authlib extensions attached when it is registered (PKCE, OpenID Connect)."""
        return []

    def record_authentication(self) -> None:
        """Write what validating found (in the write transaction, also when the request is refused)."""

    def token_family(self, user: User | None, scope: str) -> TokenFamily | None:
        """The family new tokens join: a new one by default, none for tokens without refresh."""
        client = self.request.client.row
        return self.services.tokens.start_family(self.request.db, client, user, self.SPEC.name, scope,
                                                 dpop_jkt=self.request.dpop_jkt, resources=self.granted_resources())

    def granted_resources(self) -> list[str] | None:
        return list(self.target.granted) if self.target else None

    def requested_resources(self) -> list[str]:
        """The request's ``resource`` parameters (RFC 8707 §2)."""
        return targets.requested(self.request.payload)

    @staticmethod
    def active_user(user: User | None) -> User:
        """The grant's user if they may still get tokens (``token_refusal``); ``invalid_grant`` for an
        inactive or deleted one, whatever credential they hold (RFC 6749 §5.2; OpenID Connect Core §3.1.3.3)."""
        if token_refusal(for_user=True, user=user):
            raise InvalidGrantError("The user of this grant is no longer active.")
        return user

    def generate_token(self, user=None, scope=None, grant_type=None, expires_in=None, include_refresh_token=True):
        """Authlib's, with the client's default scope (or the resources', RFC 8707) and the family the tokens
        join decided first; bound to the request's DPoP key when it came with a proof (RFC 9449 §5)."""
        client_scopes = self.request.client.row.scopes
        target = self.target
        if not scope:
            scope = target.default_scope(client_scopes) if target else \
                scope_rules.join(scope_rules.default_for_client(client_scopes))
        audience = target.audience if target else None
        ttl = target.ttl(self.services.settings.access_token_ttl) if target else None
        with issuing(self.token_family(user, scope), self.request.dpop_jkt, audience, ttl,
                     target.signing_alg if target else None):
            return super().generate_token(user=user, scope=scope, grant_type=grant_type, expires_in=expires_in,
                                          include_refresh_token=include_refresh_token)

    def save_token(self, token):
        """Nothing left to do: the generator recorded the tokens in the request's transaction."""

    def validate_requested_scope(self):
        """Refuse unknown scopes and scopes outside the client's own set (RFC 6749 §3.3, §5.2); with
        ``resource``, scopes the resources do not define (RFC 8707 §2) and resources that are not known."""
        asked = self.requested_resources()
        if asked:
            client = self.request.client.row
            self.target = targets.for_new_grant(self.services.resources, self.request.db, asked,
                                                self.request.payload.scope, client.scopes)
            return
        requested = scope_rules.parse(self.request.payload.scope)
        if requested and not scope_rules.allowed_for_client(requested, self.request.client.row.scopes):
            raise InvalidScopeError("The requested scope is unknown or not allowed for this client.")
