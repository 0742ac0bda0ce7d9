"""The composition root: builds the database, the keys and every service once per process."""

from __future__ import annotations

import logging

from authgate.security.encryption import SecretBox
from authgate.security.passwords import Passwords
from authgate.security.secrets import SecretHasher
from authgate.services.accounts.account_links import AccountLinks
from authgate.services.accounts.effective_permissions import EffectivePermissions
from authgate.services.accounts.email_verification import EmailVerification
from authgate.services.accounts.factor_policy import FactorPolicyService
from authgate.services.accounts.factors import FactorService
from authgate.services.accounts.groups import GroupService
from authgate.services.accounts.invitations import Invitations
from authgate.services.accounts.last_seen import LastSeen
from authgate.services.accounts.lockout import Lockout
from authgate.services.accounts.login_guard import LoginGuard
from authgate.services.accounts.password_policy import PasswordPolicy
from authgate.services.accounts.password_reset import PasswordReset
from authgate.services.accounts.permissions import PermissionService
from authgate.services.accounts.passkey_sign_in import PasskeySignIn
from authgate.services.accounts.passkeys import PasskeyService
from authgate.services.accounts.second_step import SecondStep
from authgate.services.accounts.sessions import SessionService
from authgate.services.accounts.user_sessions import UserSessions
from authgate.services.accounts.users import UserService
from authgate.services.applications.client_limits import ClientLimits
from authgate.services.applications.logout_deliveries import LogoutDeliveries
from authgate.services.applications.clients import ClientService
from authgate.services.applications.metadata_documents import MetadataDocuments
from authgate.services.applications.registration import RegistrationService
from authgate.services.applications.resources import ResourceService
from authgate.services.caching.bus import InvalidationBus
from authgate.services.caching.clients import ClientCache
from authgate.services.caching.events import KEYS
from authgate.services.caching.personal_tokens import PersonalTokenCache
from authgate.services.caching.revoked import RevokedCache
from authgate.services.caching.users import UserCache
from authgate.services.credentials.authorizations import AuthorizationService
from authgate.services.credentials.bearer import BearerService
from authgate.services.credentials.codes import CodeService
from authgate.services.credentials.pushed_requests import PushedRequestService
from authgate.services.credentials.consents import ConsentService
from authgate.services.credentials.device_codes import DeviceCodeService
from authgate.services.credentials.assertion_jtis import AssertionMemory
from authgate.services.credentials.dpop_proofs import ProofMemory
from authgate.services.credentials.keys import KeyService
from authgate.services.credentials.personal_tokens import PersonalTokenService
from authgate.services.credentials.token_lookup import TokenLookup
from authgate.services.credentials.tokens import TokenService
from authgate.services.operations.activity import Activity
from authgate.services.operations.audit import AuditService
from authgate.services.operations.background import Background
from authgate.services.operations.mail import Mailer
from authgate.services.operations.bootstrap import ADMIN_USERNAME, generated_admin_password, server_secret
from authgate.services.operations.purge import Purge
from authgate.services.operations.safe_fetch import SafeFetcher
from authgate.services.operations.ratelimit import RateLimiter
from authgate.services.operations.shown_once import ShownOnce
from authgate.settings import Settings
from authgate.storage.db import Database
from authgate.storage.repositories.account_links import SqlAccountLinkStore
from authgate.storage.repositories.activity import SqlActivityStore
from authgate.storage.repositories.audit import SqlAuditStore
from authgate.storage.repositories.clients import SqlClientStore
from authgate.storage.repositories.codes import SqlCodeStore
from authgate.storage.repositories.pushed_requests import SqlPushedRequestStore
from authgate.storage.repositories.consents import SqlConsentStore
from authgate.storage.repositories.device_codes import SqlDeviceCodeStore
from authgate.storage.repositories.events import SqlEventStore
from authgate.storage.repositories.factor_policy import SqlFactorPolicyStore
from authgate.storage.repositories.factors import SqlFactorStore
from authgate.storage.repositories.passkeys import SqlPasskeyStore
from authgate.storage.repositories.groups import SqlGroupStore
from authgate.storage.repositories.keys import SqlKeyStore
from authgate.storage.repositories.logout_deliveries import SqlLogoutDeliveryStore
from authgate.storage.repositories.permissions import SqlPermissionStore
from authgate.storage.repositories.personal_tokens import SqlPersonalTokenStore
from authgate.storage.repositories.purge import SqlPurgeStore
from authgate.storage.repositories.registration import SqlRegistrationStore
from authgate.storage.repositories.resources import SqlResourceStore
from authgate.storage.repositories.sessions import SqlSessionStore
from authgate.storage.repositories.shown_once import SqlShownOnceStore
from authgate.storage.repositories.tokens import SqlTokenStore
from authgate.storage.repositories.users import SqlUserStore

log = logging.getLogger("authgate.revocations")


class Runtime:
    """Everything a request or a command needs; ``Runtime.open`` expects a migrated database."""

    def __init__(self, settings: Settings, db: Database):
        self.settings = settings
        self.db = db
        self.secret_box = SecretBox(settings.secret_key, settings.old_secret_key)
        with db.session() as s:
            hash_key = server_secret(s, "secret_hash_key", self.secret_box)
            csrf_key = server_secret(s, "csrf_key", self.secret_box)
            dpop_nonce_key = server_secret(s, "dpop_nonce_key", self.secret_box)
        self.hasher = SecretHasher(hash_key)
        self.passwords = Passwords(settings)
        self.bus = InvalidationBus(db, SqlEventStore(), settings.access_token_ttl, settings.redis_url,
                                   settings.redis_prefix)
        self.background = Background(settings.revocation_poll_seconds)
        self.user_store = SqlUserStore()
        self.group_store = SqlGroupStore()
        self.client_store = SqlClientStore()
        self.personal_token_store = SqlPersonalTokenStore()
        self.revoked = RevokedCache(self.bus)
        self.cached_users = UserCache(self.bus, self.user_store)
        self.cached_personal_tokens = PersonalTokenCache(self.bus, db, self.personal_token_store)
        self.keys = KeyService(db, SqlKeyStore(), max_token_lifetime=settings.access_token_ttl, box=self.secret_box,
                               publish_ahead=settings.key_publish_ahead, trust_cache=self.bus.fresh)
        self.bus.on(KEYS, lambda _kid: self.keys.forget())
        self.permission_store = SqlPermissionStore()
        self.permissions = PermissionService(self.permission_store, self.user_store, self.group_store, self.client_store)
        self.resources = ResourceService(settings, SqlResourceStore(), self.permissions)
        self.clients = ClientService(self.client_store, self.hasher, ClientCache(self.bus), self.permissions,
                                     resource_scopes=self.resources.all_scopes)
        self.token_store = SqlTokenStore()
        self.tokens = TokenService(settings, self.hasher, self.keys, self.token_store)
        self.codes = CodeService(settings, self.hasher, self.tokens, SqlCodeStore())
        self.pushed_requests = PushedRequestService(settings, self.hasher, SqlPushedRequestStore())
        self.personal_tokens = PersonalTokenService(self.personal_token_store, self.user_store, settings, self.hasher,
                                                    self.permissions)
        self.purge = Purge(settings, db, SqlPurgeStore())
        self.bearer = BearerService(settings, db, self.keys, self.hasher, self.bus, self.cached_users,
                                    self.cached_personal_tokens, self.revoked, self.user_store,
                                    self.personal_token_store, self.token_store)
        session_store = SqlSessionStore()
        self.last_seen = LastSeen(db, session_store)
        self.sessions = SessionService(settings, self.hasher, csrf_key, session_store, self.last_seen)
        self.user_sessions = UserSessions(session_store, self.user_store, self.permissions, self.hasher,
                                          self.sessions)
        self.fetcher = SafeFetcher(allow_private=settings.fetch_allow_private)
        self.logout_deliveries = LogoutDeliveries(settings.issuer, db, SqlLogoutDeliveryStore(), self.keys,
                                                  self.sessions, self.fetcher)
        self.sessions.on_end = self.logout_deliveries.sessions_ended
        self.token_lookup = TokenLookup(settings, self.hasher, self.bearer, self.tokens, self.cached_users,
                                        self.personal_token_store, self.client_store, self.token_store)
        self.limiter = RateLimiter(settings.redis_url, settings.redis_prefix)
        self.proof_memory = ProofMemory(self.limiter, dpop_nonce_key, settings.dpop_nonce_seconds)
        self.assertion_memory = AssertionMemory(self.limiter)
        self.metadata_documents = MetadataDocuments(settings, self.fetcher, self.clients)
        self.lockout = Lockout(settings, self.limiter)
        self.mailer = Mailer(settings.mail, db, settings.issuer)
        self.account_links = AccountLinks(settings, self.hasher, SqlAccountLinkStore(), self.mailer)
        self.email_verification = EmailVerification(settings, self.account_links, self.limiter)
        self.users = UserService(
            self.user_store, self.passwords, PasswordPolicy(settings), self.permissions, self.tokens,
            self.personal_tokens, self.sessions, self.lockout, self.email_verification, self.account_links,
        )
        self.password_reset = PasswordReset(settings, self.users, self.account_links, self.limiter)
        self.invitations = Invitations(self.users, self.account_links)
        self.login_guard = LoginGuard(self.lockout, self.users, self.hasher, self.permissions, self.bus)
        factor_store = SqlFactorStore()
        self.passkeys = PasskeyService(SqlPasskeyStore(), self.hasher, self.users, settings.issuer)
        self.factors = FactorService(factor_store, self.secret_box, self.hasher, self.users, self.passkeys,
                                     self.permissions)
        self.factor_policy = FactorPolicyService(SqlFactorPolicyStore(), self.permissions)
        self.second_step = SecondStep(self.factors, factor_store, self.hasher, self.lockout, self.login_guard,
                                      self.sessions, self.factor_policy, self.passkeys)
        self.passkey_sign_in = PasskeySignIn(self.passkeys, self.lockout, self.sessions)
        self.client_limits = ClientLimits(settings, self.limiter)
        self.registration = RegistrationService(settings, self.clients, SqlRegistrationStore(), self.hasher,
                                                self.limiter)
        self.device_codes = DeviceCodeService(settings, self.hasher, self.limiter, SqlDeviceCodeStore(),
                                              self.client_store)
        self.groups = GroupService(self.group_store, self.user_store, self.permissions)
        self.consents = ConsentService(SqlConsentStore())
        self.authorizations = AuthorizationService(self.permissions, self.tokens, self.consents, self.clients)
        self.audit = AuditService(SqlAuditStore(), self.permissions)
        self.shown_once = ShownOnce(self.hasher, SqlShownOnceStore())
        self.activity = Activity(SqlActivityStore(), self.permissions)
        self.effective_permissions = EffectivePermissions(self.permission_store, self.group_store, self.permissions)

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
    def open(cls, settings: Settings, *, upgrade: bool = False) -> "Runtime":
        db = Database(settings.database_url, settings.database_pool_size)
        if upgrade:
            from authgate.storage import migrate  # Alembic: only for serve and `db upgrade`

            migrate.upgrade(db.engine)
        return cls(settings, db)

    def first_start(self) -> str | None:
        """Make the signing key, authgate's own API as a resource server and, on an empty database, the administrator.

        Returns the administrator's generated password when one was made (to print once).
        """
        with self.db.session() as s:
            self.keys.ensure_signing_key(s)
            self.resources.ensure_own(s)
            if self.users.count(s):
                return None
            password = self.settings.admin_password or generated_admin_password()
            self.users.create(s, ADMIN_USERNAME, "admin@localhost.localdomain", password, is_administrator=True,
                              verify_email=False)
        return None if self.settings.admin_password else password
