"""Dynamic client registration's rules (RFC 7591, RFC 7592): the operator's mode and policy, initial access
tokens, registration access tokens, and the per-address limit.

``AUTHGATE_REGISTRATION`` is ``off`` (nobody registers), ``open`` (anyone, counted per address by
``AUTHGATE_LIMIT_REGISTRATIONS_PER_IP``) or ``token`` (whoever holds an initial access token an operator made:
``authgate registration token create``; it may be limited in uses and time, and a use is spent only by a
registration that succeeds). The policy says which grants a registered client may have
(``AUTHGATE_REGISTRATION_GRANTS``: never the password grant), which scopes it may ask for
(``AUTHGATE_REGISTRATION_SCOPES``, authgate's or resource servers') and which it gets when it asks for none
(``AUTHGATE_REGISTRATION_DEFAULT_SCOPES``), and how long its secret lives
(``AUTHGATE_REGISTRATION_SECRET_SECONDS``, 0: for ever). Everything else about the client is
``ClientService``'s: ``register``, ``reregister`` and ``deregister`` keep every client rule.

Both kinds of token are 256-bit random secrets stored by keyed hash; a registration access token is good
only for its own client's configuration endpoint.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from authgate.security import secrets as gen
from authgate.security.secrets import SecretHasher
from authgate.services.accounts.people.principal import SYSTEM
from authgate.services.applications.clients import ClientService
from authgate.services.credentials import scopes as scope_rules
from authgate.services.credentials.consents import ConsentService, identity
from authgate.services.errors import Invalid, ServiceError
from authgate.services.operations import audit
from authgate.services.operations.ratelimit import RateLimiter, TooManyAttempts
from authgate.settings import Settings, SettingsError
from authgate.storage.models import Client, InitialAccessToken
from authgate.storage.repositories.registration import RegistrationStore
from authgate.storage.types import utcnow

OFF, OPEN, TOKEN = "off", "open", "token"
INITIAL_TOKEN_PREFIX = "agi_"
REGISTRATION_TOKEN_PREFIX = "agm_"
LIMIT = "registrations"


class Unauthenticated(ServiceError):
    """The bearer token the request needs (an initial or a registration access token) is missing or wrong."""


@dataclass(frozen=True)
class Registration:
    """What a client asks to be registered with, as the protocol core read it (grant names authgate's)."""

    name: str | None
    redirect_uris: list[str]
    grants: list[str]
    scopes: list[str] | None
    """None: the client asked for no scope, and gets the default set."""
    public: bool
    metadata: dict = field(default_factory=dict)
    """What authgate keeps as given and does not act on (``token_endpoint_auth_method``, ``client_uri``, ...)."""
    secret: str | None = None
    """The ``client_secret`` an update repeats (RFC 7592 §2.2): it must be the client's."""
    logout: dict = field(default_factory=dict)
    """Its sign-out URIs (``logout_uris.FIELDS``), acted on."""
    auth_method: str | None = None
    """``private_key_jwt`` (with ``jwks`` or ``jwks_uri``), or None for a secret or none."""
    jwks: dict | None = None
    jwks_uri: str | None = None
    requirements: dict = field(default_factory=dict)
    """``require_par`` / ``require_dpop`` / ``require_request_object`` as asked (``ClientService.REQUIREMENTS``)."""


def _check_policy(settings: Settings) -> None:
    """authgate's own scopes, or a resource server's (named by an administrator, maybe later): those are
    checked when a client registers, and the policy's scopes no resource defines then are not offered."""
    if not settings.registration_scopes:
        raise SettingsError("AUTHGATE_REGISTRATION_SCOPES must name at least one scope")
    extra = [s for s in settings.registration_default_scopes if s not in settings.registration_scopes]
    if extra or not settings.registration_default_scopes:
        raise SettingsError("AUTHGATE_REGISTRATION_DEFAULT_SCOPES must be some of AUTHGATE_REGISTRATION_SCOPES"
                            + (f", not {' '.join(extra)}" if extra else ""))


class RegistrationService:
    def __init__(self, settings: Settings, clients: ClientService, store: RegistrationStore, hasher: SecretHasher,
                 limiter: RateLimiter, consents: ConsentService):
        _check_policy(settings)
        self.settings = settings
        self.clients = clients
        self.consents = consents
        self.store = store
        self.hasher = hasher
        self.limiter = limiter

    @property
    def mode(self) -> str:
        return self.settings.registration_mode

    def throttle(self, ip: str | None) -> None:
        """Count one anonymous registration request from ``ip``; ``TooManyAttempts`` past its limit. In
        ``token`` mode the operator's token bounds registrations instead."""
        if self.mode != OPEN or not ip:
            return
        decision = self.limiter.hit(LIMIT, ip, self.settings.registrations_per_ip)
        if not decision.allowed:
            raise TooManyAttempts(f"Too many client registrations from this address; try again in "
                                  f"{decision.retry_after} seconds.", decision.retry_after)

    def create_initial_token(self, s: Session, expires_in: int | None = None,
                             uses: int | None = None) -> tuple[InitialAccessToken, str]:
        """A new initial access token (the operator's, at the CLI), shown this once."""
        token = gen.generate(INITIAL_TOKEN_PREFIX)
        row = InitialAccessToken(token_hash=self.hasher.hash(token), uses_allowed=uses, uses=0,
                                 expires_at=utcnow() + timedelta(seconds=expires_in) if expires_in else None)
        self.store.add_initial_token(s, row)
        audit.record(s, "registration.token_created", actor=SYSTEM, subject=str(row.id),
                     details={"uses": uses, "expires_at": row.expires_at.isoformat() if row.expires_at else None})
        return row, token

    def register(self, s: Session, initial_token: str | None,
                 asked: Callable[[], Registration]) -> tuple[Client, str | None, str]:
        """The new client, its secret (None when public) and its registration access token, both shown once.

        In ``token`` mode a use of ``initial_token`` is spent in this transaction, so a refused registration
        spends none; ``asked`` (which reads the request, and may refuse it) is called only once the caller is
        admitted, so a caller without a token learns nothing but 401."""
        if self.mode == TOKEN and not (initial_token and self.store.spend_initial_token(
                s, self.hasher.hash(initial_token), utcnow())):
            raise Unauthenticated("A valid initial access token is needed to register a client here.")
        wanted = asked()
        grants, scopes = self._within_policy(s, wanted)
        management_token = gen.generate(REGISTRATION_TOKEN_PREFIX)
        client, secret = self.clients.register(
            s, wanted.name, redirect_uris=wanted.redirect_uris, grants=grants, scopes=scopes, public=wanted.public,
            secret_expires_at=self._secret_expiry(), registration_token_hash=self.hasher.hash(management_token),
            metadata=wanted.metadata, logout=wanted.logout, keys=(wanted.auth_method, wanted.jwks, wanted.jwks_uri),
            requirements=wanted.requirements)
        return client, secret, management_token

    def registered(self, s: Session, client_id: str, registration_token: str | None) -> Client:
        """The registered client ``registration_token`` manages (RFC 7592 §2); ``Unauthenticated`` otherwise,
        an unknown client included (§2.1: 401, not 404)."""
        client = self.clients.get(s, client_id)
        if client is None or not registration_token \
                or not self.hasher.matches(registration_token, client.registration_token_hash):
            raise Unauthenticated("The registration access token is not valid for this client.")
        if client.disabled_at is not None:
            raise Unauthenticated("This client has been disabled by an administrator.")
        return client

    def update(self, s: Session, client_id: str, registration_token: str | None,
               asked: Callable[[], Registration]) -> Client:
        """Replace the client's registration (RFC 7592 §2.2) under the same policy as registering; ``asked``
        is read once the token is known good. New redirect URIs, name or displayed URLs make every user
        consent again (``ConsentService.client_changed``)."""
        client = self.registered(s, client_id, registration_token)
        before = identity(client)
        wanted = asked()
        if wanted.public != bool(client.public):
            raise Invalid("token_endpoint_auth_method cannot change between none and a secret: register a new "
                          "client instead", field="token_endpoint_auth_method")
        if bool(wanted.auth_method) != bool(client.auth_method):
            raise Invalid("token_endpoint_auth_method cannot change between a secret and private_key_jwt: register "
                          "a new client instead", field="token_endpoint_auth_method")
        if wanted.secret is not None and not self.clients.check_secret(client, wanted.secret):
            raise Invalid("client_secret does not match the client's secret", field="client_secret")
        grants, scopes = self._within_policy(s, wanted)
        client = self.clients.reregister(s, client, name=wanted.name, redirect_uris=wanted.redirect_uris,
                                         grants=grants, scopes=scopes, metadata=wanted.metadata,
                                         logout=wanted.logout, keys=(wanted.auth_method, wanted.jwks, wanted.jwks_uri),
                                         requirements=wanted.requirements)
        self.consents.client_changed(s, client, before)
        return client

    def delete(self, s: Session, client_id: str, registration_token: str | None) -> None:
        """The client deletes itself (RFC 7592 §2.3): its codes and tokens go with it."""
        self.registered(s, client_id, registration_token)
        self.clients.deregister(s, client_id)

    def _within_policy(self, s: Session, asked: Registration) -> tuple[list[str], list[str]]:
        refused = [g for g in asked.grants if g not in self.settings.registration_grants]
        if refused:
            raise Invalid(f"grant types not open to registered clients here: {', '.join(refused)}; allowed: "
                          f"{', '.join(self.settings.registration_grants)}", field="grant_types")
        offered, defaults = self._offered(s, self.settings.registration_scopes), \
            self._offered(s, self.settings.registration_default_scopes)
        if asked.scopes is None:
            return asked.grants, defaults
        refused = [name for name in asked.scopes if name not in offered]
        if refused:
            raise Invalid(f"scopes not open to registered clients here: {' '.join(refused)}; allowed: "
                          f"{' '.join(offered)}", field="scope")
        return asked.grants, list(asked.scopes) or defaults

    def _offered(self, s: Session, policy: tuple[str, ...]) -> list[str]:
        """The policy's scopes authgate or a resource server (RFC 8707) defines now."""
        defined = scope_rules.KNOWN | self.clients.resource_scopes(s) \
            if any(name not in scope_rules.KNOWN for name in policy) else scope_rules.KNOWN
        return [name for name in policy if name in defined]

    def _secret_expiry(self) -> datetime | None:
        seconds = self.settings.registration_secret_seconds
        return utcnow() + timedelta(seconds=seconds) if seconds else None
