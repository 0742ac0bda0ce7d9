"""The composition root: the database, the keys and every service, one of each per process.

Each service is a ``Runtime`` attribute built, and its modules imported, the first time it is asked for,
so a command of the CLI pays only for what it uses (``authgate keys list`` imports no password hashing,
no token issuing, no Authlib). The server builds everything when it opens the runtime (``eager``), so no
request pays for a first use and no two threads build one service twice. Whatever the mode, the
invalidation bus is built with the runtime (it hooks the database's sessions: every write must record
its events) and the server secrets are read then (made if missing, in a transaction of their own).
"""

from __future__ import annotations

import logging
from functools import cached_property
from typing import TYPE_CHECKING

from authgate.settings import Settings

if TYPE_CHECKING:
    from authgate.security.encryption import SecretBox
    from authgate.security.passwords import Passwords
    from authgate.security.secrets import SecretHasher
    from authgate.services.accounts.email_links.account_links import AccountLinks
    from authgate.services.accounts.email_links.email_verification import EmailVerification
    from authgate.services.accounts.email_links.invitations import Invitations
    from authgate.services.accounts.email_links.password_reset import PasswordReset
    from authgate.services.accounts.factors.factor_policy import FactorPolicyService
    from authgate.services.accounts.factors.factors import FactorService
    from authgate.services.accounts.factors.passkeys import PasskeyService
    from authgate.services.accounts.people.effective_permissions import EffectivePermissions
    from authgate.services.accounts.people.groups import GroupService
    from authgate.services.accounts.people.permissions import PermissionService
    from authgate.services.accounts.people.users import UserService
    from authgate.services.accounts.sessions.last_seen import LastSeen
    from authgate.services.accounts.sessions.sessions import SessionService
    from authgate.services.accounts.sessions.user_sessions import UserSessions
    from authgate.services.accounts.sign_in.lockout import Lockout
    from authgate.services.accounts.sign_in.login_guard import LoginGuard
    from authgate.services.accounts.sign_in.passkey_sign_in import PasskeySignIn
    from authgate.services.accounts.sign_in.second_step import SecondStep
    from authgate.services.applications.client_limits import ClientLimits
    from authgate.services.applications.clients import ClientService
    from authgate.services.applications.logout_deliveries import LogoutDeliveries
    from authgate.services.applications.metadata_documents import MetadataDocuments
    from authgate.services.applications.registration import RegistrationService
    from authgate.services.applications.resources import ResourceService
    from authgate.services.caching.personal_tokens import PersonalTokenCache
    from authgate.services.caching.revoked import RevokedCache
    from authgate.services.caching.users import UserCache
    from authgate.services.credentials.assertion_jtis import AssertionMemory
    from authgate.services.credentials.authorizations import AuthorizationService
    from authgate.services.credentials.bearer import BearerService
    from authgate.services.credentials.codes import CodeService
    from authgate.services.credentials.consents import ConsentService
    from authgate.services.credentials.device_codes import DeviceCodeService
    from authgate.services.credentials.dpop_proofs import ProofMemory
    from authgate.services.credentials.keys import KeyService
    from authgate.services.credentials.personal_tokens import PersonalTokenService
    from authgate.services.credentials.pushed_requests import PushedRequestService
    from authgate.services.credentials.token_lookup import TokenLookup
    from authgate.services.credentials.tokens import TokenService
    from authgate.services.federation.providers import ProviderService
    from authgate.services.federation.linking import IdentityLinks
    from authgate.services.federation.sign_in import FederatedSignIns
    from authgate.services.directory.sign_in import DirectorySignIn
    from authgate.services.federation.upstream import Upstream
    from authgate.services.operations.activity import Activity
    from authgate.services.operations.audit import AuditService
    from authgate.services.operations.background import Background
    from authgate.services.operations.mail import Mailer
    from authgate.services.operations.purge import Purge
    from authgate.services.operations.ratelimit import RateLimiter
    from authgate.services.operations.safe_fetch import SafeFetcher
    from authgate.services.operations.shown_once import ShownOnce
    from authgate.storage.db import Database
    from authgate.storage.repositories.clients import SqlClientStore
    from authgate.storage.repositories.factors import SqlFactorStore
    from authgate.storage.repositories.groups import SqlGroupStore
    from authgate.storage.repositories.permissions import SqlPermissionStore
    from authgate.storage.repositories.personal_tokens import SqlPersonalTokenStore
    from authgate.storage.repositories.sessions import SqlSessionStore
    from authgate.storage.repositories.tokens import SqlTokenStore
    from authgate.storage.repositories.users import SqlUserStore

log = logging.getLogger("authgate.revocations")


class _built(cached_property):
    """A part of the runtime, built on first use (or by ``Runtime.build_all``)."""


class Runtime:
    """Everything a request or a command needs; ``Runtime.open`` expects a migrated database."""

    def __init__(self, settings: Settings, db: Database, *, eager: bool = True):
        """``eager``: build every service now (the server); otherwise each on first use (the CLI)."""
        from authgate.services.caching.bus import InvalidationBus
        from authgate.services.operations.bootstrap import server_secret
        from authgate.storage.repositories.events import SqlEventStore

        self.settings = settings
        self.db = db
        self.bus = InvalidationBus(db, SqlEventStore(), settings.access_token_ttl, settings.redis_url,
                                   settings.redis_prefix)
        with db.session() as s:  # now: a first use inside a write transaction would wait on SQLite's write lock
            self._hash_key = server_secret(s, "secret_hash_key", self.secret_box)
            self._csrf_key = server_secret(s, "csrf_key", self.secret_box)
            self._dpop_nonce_key = server_secret(s, "dpop_nonce_key", self.secret_box)
        if eager:
            self.build_all()

    def build_all(self) -> None:
        """Build every service now, and the one-time work they would do on first use."""
        for name, part in vars(type(self)).items():
            if isinstance(part, _built):
                getattr(self, name)
        self.passwords.dummy_hash()

    # -- keys and secrets ----------------------------------------------------------------------------

    @_built
    def secret_box(self) -> SecretBox:
        from authgate.security.encryption import SecretBox

        return SecretBox(self.settings.secret_key, self.settings.old_secret_key)

    @_built
    def hasher(self) -> SecretHasher:
        from authgate.security.secrets import SecretHasher

        return SecretHasher(self._hash_key)

    @_built
    def passwords(self) -> Passwords:
        from authgate.security.passwords import Passwords

        return Passwords(self.settings)

    @_built
    def background(self) -> Background:
        from authgate.services.operations.background import Background

        return Background(self.settings.revocation_poll_seconds)

    # -- stores shared by several services -----------------------------------------------------------

    @_built
    def user_store(self) -> SqlUserStore:
        from authgate.storage.repositories.users import SqlUserStore

        return SqlUserStore()

    @_built
    def group_store(self) -> SqlGroupStore:
        from authgate.storage.repositories.groups import SqlGroupStore

        return SqlGroupStore()

    @_built
    def client_store(self) -> SqlClientStore:
        from authgate.storage.repositories.clients import SqlClientStore

        return SqlClientStore()

    @_built
    def personal_token_store(self) -> SqlPersonalTokenStore:
        from authgate.storage.repositories.personal_tokens import SqlPersonalTokenStore

        return SqlPersonalTokenStore()

    @_built
    def permission_store(self) -> SqlPermissionStore:
        from authgate.storage.repositories.permissions import SqlPermissionStore

        return SqlPermissionStore()

    @_built
    def token_store(self) -> SqlTokenStore:
        from authgate.storage.repositories.tokens import SqlTokenStore

        return SqlTokenStore()

    @_built
    def _session_store(self) -> SqlSessionStore:
        from authgate.storage.repositories.sessions import SqlSessionStore

        return SqlSessionStore()

    @_built
    def _factor_store(self) -> SqlFactorStore:
        from authgate.storage.repositories.factors import SqlFactorStore

        return SqlFactorStore()

    # -- caches --------------------------------------------------------------------------------------

    @_built
    def revoked(self) -> RevokedCache:
        from authgate.services.caching.revoked import RevokedCache

        return RevokedCache(self.bus)

    @_built
    def cached_users(self) -> UserCache:
        from authgate.services.caching.users import UserCache

        return UserCache(self.bus, self.user_store)

    @_built
    def cached_personal_tokens(self) -> PersonalTokenCache:
        from authgate.services.caching.personal_tokens import PersonalTokenCache

        return PersonalTokenCache(self.bus, self.db, self.personal_token_store)

    # -- services ------------------------------------------------------------------------------------

    @_built
    def keys(self) -> KeyService:
        from authgate.services.caching.events import KEYS
        from authgate.services.credentials.keys import KeyService
        from authgate.storage.repositories.keys import SqlKeyStore

        keys = KeyService(self.db, SqlKeyStore(), max_token_lifetime=self.settings.access_token_ttl,
                          box=self.secret_box, publish_ahead=self.settings.key_publish_ahead,
                          trust_cache=self.bus.fresh, lifetime=lambda s: self.resources.longest_ttl(s))
        self.bus.on(KEYS, lambda _kid: keys.forget())
        return keys

    @_built
    def permissions(self) -> PermissionService:
        from authgate.services.accounts.people.permissions import PermissionService

        return PermissionService(self.permission_store, self.user_store, self.group_store, self.client_store)

    @_built
    def resources(self) -> ResourceService:
        from authgate.services.applications.resources import ResourceService
        from authgate.storage.repositories.resources import SqlResourceStore

        return ResourceService(self.settings, SqlResourceStore(), self.permissions)

    @_built
    def clients(self) -> ClientService:
        from authgate.services.applications.clients import ClientService
        from authgate.services.caching.clients import ClientCache

        return ClientService(self.client_store, self.hasher, ClientCache(self.bus), self.permissions,
                             resource_scopes=self.resources.all_scopes,
                             revoke_tokens=lambda s, client_pk: self.tokens.revoke_client(s, client_pk),
                             profile_key=lambda s: self.keys.ensure_profile_key(s),
                             identity_changed=lambda s, client, before: self.consents.client_changed(s, client, before))

    @_built
    def tokens(self) -> TokenService:
        from authgate.services.credentials.tokens import TokenService

        return TokenService(self.settings, self.hasher, self.keys, self.token_store)

    @_built
    def codes(self) -> CodeService:
        from authgate.services.credentials.codes import CodeService
        from authgate.storage.repositories.codes import SqlCodeStore

        return CodeService(self.settings, self.hasher, self.tokens, SqlCodeStore())

    @_built
    def pushed_requests(self) -> PushedRequestService:
        from authgate.services.credentials.pushed_requests import PushedRequestService
        from authgate.storage.repositories.pushed_requests import SqlPushedRequestStore

        return PushedRequestService(self.settings, self.hasher, SqlPushedRequestStore())

    @_built
    def personal_tokens(self) -> PersonalTokenService:
        from authgate.services.credentials.personal_tokens import PersonalTokenService

        return PersonalTokenService(self.personal_token_store, self.user_store, self.settings, self.hasher,
                                    self.permissions, self.token_store)

    @_built
    def purge(self) -> Purge:
        from authgate.services.operations.purge import Purge
        from authgate.storage.repositories.purge import SqlPurgeStore

        return Purge(self.settings, self.db, SqlPurgeStore())

    @_built
    def bearer(self) -> BearerService:
        from authgate.services.credentials.bearer import BearerService

        return BearerService(self.settings, self.db, self.keys, self.hasher, self.bus, self.cached_users,
                             self.cached_personal_tokens, self.revoked, self.user_store,
                             self.personal_token_store, self.token_store)

    @_built
    def last_seen(self) -> LastSeen:
        from authgate.services.accounts.sessions.last_seen import LastSeen

        return LastSeen(self.db, self._session_store)

    @_built
    def sessions(self) -> SessionService:
        from authgate.services.accounts.sessions.sessions import SessionService

        sessions = SessionService(self.settings, self.hasher, self._csrf_key, self._session_store, self.last_seen)
        # the deliveries are built at the first ending (they need the sessions, and sign with JOSE)
        sessions.on_end = lambda *ended: self.logout_deliveries.sessions_ended(*ended)
        return sessions

    @_built
    def user_sessions(self) -> UserSessions:
        from authgate.services.accounts.sessions.user_sessions import UserSessions

        return UserSessions(self._session_store, self.user_store, self.permissions, self.hasher, self.sessions)

    @_built
    def logout_deliveries(self) -> LogoutDeliveries:
        from authgate.services.applications.logout_deliveries import LogoutDeliveries
        from authgate.storage.repositories.logout_deliveries import SqlLogoutDeliveryStore

        return LogoutDeliveries(self.settings.issuer, self.db, SqlLogoutDeliveryStore(), self.keys, self.sessions,
                                self.fetcher)

    @_built
    def fetcher(self) -> SafeFetcher:
        from authgate.services.operations.safe_fetch import SafeFetcher

        return SafeFetcher(allow_private=self.settings.fetch_allow_private, ca_file=self.settings.fetch_ca_file)

    @_built
    def _provider_store(self):
        from authgate.storage.repositories.providers import SqlProviderStore

        return SqlProviderStore()

    @_built
    def providers(self) -> ProviderService:
        from authgate.services.federation.providers import ProviderService

        return ProviderService(self._provider_store, self.secret_box, self.permissions,
                               discovery=lambda provider: self.upstream.discovery_problem(provider),
                               groups=self.group_store)

    @_built
    def upstream(self) -> Upstream:
        from authgate.services.federation.upstream import Upstream
        from authgate.services.operations.safe_fetch import SafeFetcher

        # a provider an administrator marked allow_private_network may be inside the network; nothing else is
        return Upstream(self.fetcher, SafeFetcher(allow_private=True))

    @_built
    def federated_sign_ins(self) -> FederatedSignIns:
        from authgate.services.federation.sign_in import FederatedSignIns

        return FederatedSignIns(self.settings.issuer, self.providers, self._provider_store, self.upstream, self.hasher,
                                self.users, self.sessions, self.second_step)

    @_built
    def directory_sign_in(self) -> DirectorySignIn:
        from authgate.services.directory.sign_in import DirectorySignIn

        return DirectorySignIn(self.providers, self._provider_store, self.federated_sign_ins,
                               self.lockout)

    @_built
    def identity_links(self) -> IdentityLinks:
        from authgate.services.federation.linking import IdentityLinks

        return IdentityLinks(self._provider_store, self.providers, self.passkeys)

    @_built
    def assertion_memory(self) -> AssertionMemory:
        from authgate.services.credentials.assertion_jtis import AssertionMemory

        return AssertionMemory(self.limiter)

    @_built
    def request_object_memory(self) -> AssertionMemory:
        from authgate.services.credentials.assertion_jtis import AssertionMemory

        return AssertionMemory(self.limiter, "request-object")

    @_built
    def metadata_documents(self) -> MetadataDocuments:
        from authgate.services.applications.metadata_documents import MetadataDocuments

        return MetadataDocuments(self.settings, self.fetcher, self.clients, self.consents)

    @_built
    def token_lookup(self) -> TokenLookup:
        from authgate.services.credentials.token_lookup import TokenLookup

        return TokenLookup(self.settings, self.hasher, self.bearer, self.tokens, self.cached_users,
                           self.personal_token_store, self.client_store, self.token_store)

    @_built
    def limiter(self) -> RateLimiter:
        from authgate.services.operations.ratelimit import RateLimiter

        return RateLimiter(self.settings.redis_url, self.settings.redis_prefix)

    @_built
    def proof_memory(self) -> ProofMemory:
        from authgate.services.credentials.dpop_proofs import ProofMemory

        return ProofMemory(self.limiter, self._dpop_nonce_key, self.settings.dpop_nonce_seconds)

    @_built
    def lockout(self) -> Lockout:
        from authgate.services.accounts.sign_in.lockout import Lockout

        return Lockout(self.settings, self.limiter)

    @_built
    def mailer(self) -> Mailer:
        from authgate.services.operations.mail import Mailer

        return Mailer(self.settings.mail, self.db, self.settings.issuer)

    @_built
    def account_links(self) -> AccountLinks:
        from authgate.services.accounts.email_links.account_links import AccountLinks
        from authgate.storage.repositories.account_links import SqlAccountLinkStore

        return AccountLinks(self.settings, self.hasher, SqlAccountLinkStore(), self.mailer)

    @_built
    def email_verification(self) -> EmailVerification:
        from authgate.services.accounts.email_links.email_verification import EmailVerification

        return EmailVerification(self.settings, self.account_links, self.limiter)

    @_built
    def users(self) -> UserService:
        from authgate.services.accounts.people.password_policy import PasswordPolicy
        from authgate.services.accounts.people.users import UserService

        return UserService(self.user_store, self.passwords, PasswordPolicy(self.settings), self.permissions,
                           self.tokens, self.personal_tokens, self.sessions, self.lockout, self.email_verification,
                           self.account_links, self._factor_store)

    @_built
    def password_reset(self) -> PasswordReset:
        from authgate.services.accounts.email_links.password_reset import PasswordReset

        return PasswordReset(self.settings, self.users, self.account_links, self.limiter)

    @_built
    def invitations(self) -> Invitations:
        from authgate.services.accounts.email_links.invitations import Invitations

        return Invitations(self.users, self.account_links)

    @_built
    def login_guard(self) -> LoginGuard:
        from authgate.services.accounts.sign_in.login_guard import LoginGuard

        return LoginGuard(self.lockout, self.users, self.hasher, self.permissions, self.bus)

    @_built
    def passkeys(self) -> PasskeyService:
        from authgate.services.accounts.factors.passkeys import PasskeyService
        from authgate.storage.repositories.passkeys import SqlPasskeyStore

        return PasskeyService(SqlPasskeyStore(), self.hasher, self.users, self.settings.issuer,
                              self.settings.webauthn_challenge_seconds)

    @_built
    def factors(self) -> FactorService:
        from authgate.services.accounts.factors.factors import FactorService

        return FactorService(self._factor_store, self.secret_box, self.hasher, self.users, self.passkeys,
                             self.permissions)

    @_built
    def factor_policy(self) -> FactorPolicyService:
        from authgate.services.accounts.factors.factor_policy import FactorPolicyService
        from authgate.storage.repositories.factor_policy import SqlFactorPolicyStore

        return FactorPolicyService(SqlFactorPolicyStore(), self.permissions)

    @_built
    def second_step(self) -> SecondStep:
        from authgate.services.accounts.sign_in.second_step import SecondStep

        return SecondStep(self.factors, self._factor_store, self.hasher, self.lockout, self.login_guard,
                          self.sessions, self.factor_policy, self.passkeys, self.settings.pending_sign_in_seconds)

    @_built
    def passkey_sign_in(self) -> PasskeySignIn:
        from authgate.services.accounts.sign_in.passkey_sign_in import PasskeySignIn

        return PasskeySignIn(self.passkeys, self.lockout, self.sessions)

    @_built
    def client_limits(self) -> ClientLimits:
        from authgate.services.applications.client_limits import ClientLimits

        return ClientLimits(self.settings, self.limiter)

    @_built
    def registration(self) -> RegistrationService:
        from authgate.services.applications.registration import RegistrationService
        from authgate.storage.repositories.registration import SqlRegistrationStore

        return RegistrationService(self.settings, self.clients, SqlRegistrationStore(), self.hasher, self.limiter,
                                   self.consents)

    @_built
    def device_codes(self) -> DeviceCodeService:
        from authgate.services.credentials.device_codes import DeviceCodeService
        from authgate.storage.repositories.device_codes import SqlDeviceCodeStore

        return DeviceCodeService(self.settings, self.hasher, self.limiter, SqlDeviceCodeStore(), self.client_store)

    @_built
    def groups(self) -> GroupService:
        from authgate.services.accounts.people.groups import GroupService

        return GroupService(self.group_store, self.user_store, self.permissions)

    @_built
    def consents(self) -> ConsentService:
        from authgate.services.credentials.consents import ConsentService
        from authgate.storage.repositories.consents import SqlConsentStore

        return ConsentService(SqlConsentStore())

    @_built
    def authorizations(self) -> AuthorizationService:
        from authgate.services.credentials.authorizations import AuthorizationService

        return AuthorizationService(self.permissions, self.tokens, self.consents, self.clients)

    @_built
    def audit(self) -> AuditService:
        from authgate.services.operations.audit import AuditService
        from authgate.storage.repositories.audit import SqlAuditStore

        return AuditService(SqlAuditStore(), self.permissions)

    @_built
    def shown_once(self) -> ShownOnce:
        from authgate.services.operations.shown_once import ShownOnce
        from authgate.storage.repositories.shown_once import SqlShownOnceStore

        return ShownOnce(self.hasher, SqlShownOnceStore(), self.settings.shown_once_seconds)

    @_built
    def activity(self) -> Activity:
        from authgate.services.operations.activity import Activity
        from authgate.storage.repositories.activity import SqlActivityStore

        return Activity(SqlActivityStore(), self.permissions)

    @_built
    def effective_permissions(self) -> EffectivePermissions:
        from authgate.services.accounts.people.effective_permissions import EffectivePermissions

        return EffectivePermissions(self.permission_store, self.group_store, self.permissions)

    # -- the serving process -------------------------------------------------------------------------

    def start_background(self) -> None:
        """The serving process's background work: the events loaded, then synced (and heard on Redis),
        PAT use times written, logout tokens delivered (Back-Channel Logout), and the purge of expired rows at start and every
        ``AUTHGATE_PURGE_INTERVAL`` seconds (unless 0)."""
        poll = self.settings.revocation_poll_seconds
        self.background.every(poll, self.bus.sync,
                              failure="revocation sync failed; the bearer check asks the database meanwhile")
        self.background.every(poll, self.cached_personal_tokens.flush, failure="could not store PAT use times")
        self.background.every(poll, self.last_seen.flush, failure="could not store when sessions were last seen")
        if self.settings.purge_interval:
            self.background.every(self.settings.purge_interval, self.purge.run, first_after=0)
        if self.bus.uses_redis:
            self.background.alongside(self.bus.listen)
        self.background.alongside(self.logout_deliveries.run)
        try:
            self.bus.load()
        except Exception as error:
            log.warning("revocations not loaded at start (%s); retrying in the background", type(error).__name__)
        self.background.start()

    def stop_background(self) -> None:
        self.background.stop()
        try:
            self.cached_personal_tokens.flush()
        except Exception as error:
            log.warning("could not store PAT use times at stop (%s)", type(error).__name__)
        try:
            self.last_seen.flush()
        except Exception as error:
            log.warning("could not store when sessions were last seen at stop (%s)", type(error).__name__)

    @classmethod
    def open(cls, settings: Settings, *, upgrade: bool = False, eager: bool = True) -> "Runtime":
        from authgate.storage.db import Database

        db = Database(settings.database_url, settings.database_pool_size)
        if upgrade:
            from authgate.storage import migrate  # Alembic: only for serve and `db upgrade`

            migrate.upgrade(db.engine)
        return cls(settings, db, eager=eager)

    def first_start(self) -> str | None:
        """Make the signing key, authgate's own API as a resource server and, on an empty database, the administrator.

        Returns the administrator's generated password when one was made (to print once).
        """
        from authgate.services.operations.bootstrap import ADMIN_USERNAME, generated_admin_password

        with self.db.session() as s:
            self.keys.ensure_signing_key(s, profile=self.settings.profile is not None)
            self.resources.ensure_own(s)
            if self.users.count(s):
                return None
            password = self.settings.admin_password or generated_admin_password()
            self.users.create(s, ADMIN_USERNAME, "admin@localhost.localdomain", password, is_administrator=True,
                              verify_email=False)
        return None if self.settings.admin_password else password
