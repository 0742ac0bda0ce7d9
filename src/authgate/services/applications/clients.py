"""Client applications: registration, lookup by id or by secret, changes, new secrets, deletion.

The protocol core reads clients as ``ClientView``: an immutable copy that every request of a worker
can share, kept in memory (``caching/clients.py``: dropped when the client changes or is deleted), so
the token endpoint's client authentication costs no query once a client is known.

Deleting a client revokes its codes and tokens. Through the API, the ``*-auth_clients``
permissions decide who may do what, and changing, disabling, enabling, deleting a client or giving it a new
secret that another user owns also needs ``PermissionService.require_over`` against its owner (an
administrator's client: an administrator; anyone else's: holding every permission they hold), since whoever
controls a client's redirect URIs or secret acts as that client towards every user who trusts it (a client
made at the command line has no owner: ``edit-auth_clients`` suffices); letting a client read the directory with client credentials
(``users:read`` / ``groups:read``) also needs what that read needs, and the client records who gave it
(``PermissionService.service_read_stands`` checks them at every read); so does giving such a client a new
secret or new keys, which would let whoever holds them read the directory as the client. The grants a client may be
given are those of the grant registry (``services/applications/grant_types.py``); ProcessMaker calls grants
``types`` and has its own names for some, and both are accepted.

A client may also register itself (RFC 7591, ``registration.py`` beside this module): ``register``,
``reregister`` and ``deregister`` are the same rules without the human permission check, and a client
that registered itself is never let read the directory (nobody gave it that read). Its secret may
expire (``secret_expires_at``): an expired secret authenticates nothing.

A client may be **disabled** (``disable`` / ``enable``, ``edit-auth_clients``): the protocol's lookups
(``view``, ``remembered``, ``by_secret``) then do not find it, so every endpoint refuses it as an unknown
client, and disabling revokes its tokens and forgets its pending codes, device codes and pushed requests,
which enabling does not bring back. A client known by its metadata document has a URL for ``client_id``,
which no path segment can hold: it is addressed by ``client_key`` (``doc-<row id>``), and its registration
is its document's, so ``update`` and ``regenerate_secret`` refuse it; it may be viewed, disabled and deleted.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from authgate.security import secrets as gen
from authgate.security.secrets import SecretHasher
from authgate.services.accounts.people.permissions import (
    GRANTED_BY_SYSTEM, GRANTED_BY_USER, SERVICE_ACCOUNT_READS, PermissionService, service_reads,
)
from authgate.services.accounts.people.principal import SYSTEM, Principal
from authgate.services.applications import client_keys, profiles
from authgate.services.applications.grant_types import GRANTS
from authgate.services.applications.logout_uris import FIELDS as LOGOUT_FIELDS, apply_logout_fields, logout_view
from authgate.services.caching import events
from authgate.services.caching.clients import ClientCache
from authgate.services.credentials import scopes as scope_rules
from authgate.services.credentials.consents import identity
from authgate.services.errors import Forbidden, Invalid, NotFound
from authgate.services.operations import audit
from authgate.services.operations.listing import ListQuery, Page, paginate
from authgate.storage.models import Client
from authgate.storage.repositories.clients import ClientStore
from authgate.storage.types import utcnow

DEFAULT_GRANTS = ("authorization_code", "password", "refresh_token")
DEFAULT_GRANTS_WITHOUT_REDIRECT = ("password", "refresh_token")
SORTABLE = ("id", "name", "created_at", "updated_at", "client_id")
DOCUMENT_KEY = re.compile(r"doc-([1-9][0-9]{0,17})")
"""How a client known by its metadata document is named in paths: ``doc-`` and its row id."""


def client_key(client: Client) -> str:
    """What addresses the client in the admin pages, the API and the CLI: its ``client_id``, or for a client known
    by its metadata document (a URL no path segment can hold) ``doc-<row id>``."""
    return f"doc-{client.id}" if client.metadata_document_at is not None else client.client_id


def normalize_grants(grants: list[str] | None, has_redirect_uri: bool = True) -> list[str]:
    """The grants as given, or the defaults; ``refresh_token`` comes with the grants that use it."""
    chosen = list(dict.fromkeys(grants or (DEFAULT_GRANTS if has_redirect_uri else DEFAULT_GRANTS_WITHOUT_REDIRECT)))
    aliases = GRANTS.aliases()
    chosen = list(dict.fromkeys(aliases.get(g, g) for g in chosen))
    unknown = [g for g in chosen if g not in GRANTS.names()]
    if unknown:
        choices = ", ".join(GRANTS.choices())
        raise Invalid(f"unknown grant: {', '.join(unknown)}; choose from {choices}", field="types")
    if any(g in GRANTS.refreshable() for g in chosen) and "refresh_token" not in chosen:
        chosen.append("refresh_token")
    return chosen


def port_is_valid(uri: str) -> bool:
    """No port, or one from 1 to 65535 (``:0`` and ``:99999`` name no port a browser can reach)."""
    try:
        port = urlsplit(uri).port
    except ValueError:
        return False
    return port is None or port > 0


def check_redirect_uri(uri: str) -> None:
    if not isinstance(uri, str) or len(uri) > 2000:
        raise Invalid("a redirect URI must be a URL of at most 2000 characters", field="redirect_uris")
    try:
        parts = urlsplit(uri)
        hostname = parts.hostname
    except ValueError:
        raise Invalid(f"redirect URI {uri!r} is not a valid URL", field="redirect_uris") from None
    if not port_is_valid(uri):
        raise Invalid(f"redirect URI {uri!r} has a port outside 1 to 65535", field="redirect_uris")
    if parts.scheme not in ("http", "https") and not (parts.scheme and "." in parts.scheme):
        raise Invalid(f"redirect URI {uri!r} must be an absolute http(s) URL or a private-use scheme", field="redirect_uris")
    if parts.fragment or "#" in uri:
        raise Invalid(f"redirect URI {uri!r} must not contain a fragment (RFC 6749 §3.1.2)", field="redirect_uris")
    if parts.scheme in ("http", "https") and not hostname:
        raise Invalid(f"redirect URI {uri!r} has no host", field="redirect_uris")


def self_managing(client_id: str) -> Principal:
    """A registered client managing its own registration with its registration access token (RFC 7592)."""
    return Principal(user=None, client_id=client_id, scopes=(), kind="registration")


def public_view(client: Client) -> dict:
    """The client without its secret; ``id``, ``redirect``, ``types`` and the two flags are ProcessMaker's."""
    aliases = {grant: alias for alias, grant in GRANTS.aliases().items()}
    return {
        "id": client_key(client),
        "client_id": client.client_id,
        "name": client.name,
        "redirect": ",".join(client.redirect_uris),
        "redirect_uris": list(client.redirect_uris),
        "types": [aliases.get(g, g) for g in client.grants],
        "grants": list(client.grants),
        "scopes": list(client.scopes),
        "public": client.public,
        "personal_access_client": "personal_access" in client.grants,
        "password_client": "password" in client.grants,
        "revoked": client.disabled_at is not None,
        "disabled_at": client.disabled_at.isoformat() if client.disabled_at else None,
        "user_id": client.owner_id,
        "created_at": client.created_at.isoformat(),
        "updated_at": client.updated_at.isoformat(),
        "registered_at": client.registered_at.isoformat() if client.registered_at else None,
        **logout_view(client),
        "token_endpoint_auth_method": auth_method_of(client),
        "jwks": client.jwks,
        "jwks_uri": client.jwks_uri,
        "metadata_document": client.metadata_document_at is not None,
        "require_pushed_authorization_requests": bool(client.require_par),
        "dpop_bound_access_tokens": bool(client.require_dpop),
        "require_signed_request_object": bool(client.require_request_object),
        "profile": client.profile,
    }


def auth_method_of(client: Client) -> str:
    return client.auth_method or ("none" if client.public else "client_secret_basic")


@dataclass(frozen=True)
class ClientView:
    """A client's registration, read-only: what client authentication and the grants look at."""

    id: int
    client_id: str
    name: str
    secret_hash: str | None
    public: bool
    redirect_uris: tuple[str, ...]
    grants: tuple[str, ...]
    scopes: tuple[str, ...]
    owner_id: int | None
    directory_granted_by: str | None = None
    directory_grantor_id: int | None = None
    registered: bool = False
    secret_expires_at: datetime | None = None
    auth_method: str | None = None
    jwks: dict | None = field(default=None, hash=False, compare=False)
    jwks_uri: str | None = None
    from_document: bool = False
    require_par: bool = False
    """Its authorization requests must be pushed (RFC 9126 §5)."""
    require_dpop: bool = False
    """Its token requests must carry a DPoP proof (RFC 9449 §5.2)."""
    disabled: bool = False
    """An administrator disabled it: the protocol's lookups do not find it."""
    require_request_object: bool = False
    """Its authorization requests must be signed request objects (RFC 9101 §10.5)."""
    profile: str | None = None
    """The security profile it is held to (``profiles.FAPI2``), or None."""

    @classmethod
    def of(cls, row: Client) -> "ClientView":
        return cls(row.id, row.client_id, row.name, row.secret_hash, bool(row.public), tuple(row.redirect_uris or ()),
                   tuple(row.grants or ()), tuple(row.scopes or ()), row.owner_id, row.directory_granted_by,
                   row.directory_grantor_id, row.registered_at is not None, row.secret_expires_at,
                   row.auth_method, row.jwks, row.jwks_uri, row.metadata_document_at is not None,
                   require_par=bool(row.require_par), require_dpop=bool(row.require_dpop),
                   disabled=row.disabled_at is not None,
                   require_request_object=bool(row.require_request_object), profile=row.profile)


REQUIREMENTS = ("require_par", "require_dpop", "require_request_object")
"""What a client may be made to do on every request: push its authorization requests (RFC 9126 §5), prove a
DPoP key at the token endpoint (RFC 9449 §5.2), sign its authorization requests (RFC 9101 §10.5)."""


def _require(client: Client, values: dict) -> None:
    for name in REQUIREMENTS:
        if name in values:
            if not isinstance(values[name], bool):
                raise Invalid(f"{name} must be true or false", field=name)
            setattr(client, name, values[name])
    if "profile" in values:
        try:
            client.profile = profiles.checked(values["profile"])
        except ValueError as error:
            raise Invalid(str(error), field="profile") from None


def _requirements_met(client: Client) -> None:
    """A client made to sign its requests has keys to sign them with (checked once its keys are settled)."""
    if client.require_request_object and not (client.jwks or client.jwks_uri):
        raise Invalid("a client that must sign its authorization requests (require_signed_request_object) needs "
                      "keys: jwks or jwks_uri, with private_key_jwt", field="require_request_object")


def secret_expired(client: Client | ClientView) -> bool:
    return client.secret_expires_at is not None and client.secret_expires_at <= utcnow()


class ClientService:
    def __init__(self, store: ClientStore, hasher: SecretHasher, cache: ClientCache,
                 permissions: PermissionService, resource_scopes: Callable[[Session], set[str]] | None = None,
                 revoke_tokens: Callable[[Session, int], None] | None = None,
                 profile_key: Callable[[Session], None] | None = None,
                 identity_changed: Callable[[Session, Client, tuple], int] | None = None):
        self.resource_scopes = resource_scopes or (lambda s: set())
        """The scopes resource servers define: a client may be limited to them too."""
        self.revoke_tokens = revoke_tokens or (lambda s, client_pk: None)
        """Revokes every token of a client (its row id), when it is disabled."""
        self.profile_key = profile_key or (lambda s: None)
        """Makes sure a signing key FAPI 2.0 allows is active (``KeyService.ensure_profile_key``), so that it is
        published before the first token of a client given the profile carries it."""
        self.identity_changed = identity_changed or (lambda s, client, before: 0)
        """``ConsentService.client_changed``: forgets users' consents when where its codes go or how it looks
        changed."""
        self.store = store
        self.hasher = hasher
        self.permissions = permissions
        self.cache = cache

    def create(
        self,
        s: Session,
        name: str,
        *,
        redirect_uris: list[str] = (),
        grants: list[str] | None = None,
        scopes: list[str] = (),
        public: bool = False,
        owner_id: int | None = None,
        actor: Principal = SYSTEM,
        logout: dict | None = None,
        auth_method: str | None = None,
        jwks: dict | None = None,
        jwks_uri: str | None = None,
        profile: str | None = None,
    ) -> tuple[Client, str | None]:
        """The new client and its secret in clear (``None`` for a public client or one with keys): shown this
        once. ``logout``: its sign-out URIs (``logout_uris.FIELDS``); ``profile``: the security profile it is
        held to (``profiles.FAPI2``)."""
        self.permissions.require(s, actor, "create-auth_clients")
        client = Client(client_id=str(uuid.uuid4()), public=public, owner_id=owner_id)
        self._apply(client, name, list(redirect_uris), grants, list(scopes), self._resource_scopes(s, scopes))
        apply_logout_fields(client, logout or {})
        client.auth_method, client.jwks, client.jwks_uri = client_keys.checked(auth_method, jwks, jwks_uri, public)
        _require(client, {"profile": profile})
        self._fits_profile(s, client)
        given = self._settle_service_reads(s, actor, client, set())
        secret = None if public or client.auth_method else gen.generate(gen.CLIENT_SECRET_PREFIX)
        client.secret_hash = self.hasher.hash(secret) if secret else None
        self.store.add(s, client)
        audit.record(s, "client.created", actor=actor, subject=client.client_id,
                     details={"name": client.name, **given})
        return client, secret

    def register(self, s: Session, name: str | None, *, redirect_uris: list[str], grants: list[str],
                 scopes: list[str], public: bool, secret_expires_at: datetime | None,
                 registration_token_hash: str, metadata: dict, logout: dict | None = None,
                 keys: tuple = (None, None, None), requirements: dict | None = None) -> tuple[Client, str | None]:
        """A client registering itself (RFC 7591): no permission to check, every other rule of ``create``."""
        client = Client(client_id=str(uuid.uuid4()), public=public, registered_at=utcnow())
        _require(client, requirements or {})
        self._apply(client, name or client.client_id, list(redirect_uris), grants, list(scopes),
                    self._resource_scopes(s, scopes))
        apply_logout_fields(client, logout or {})
        self._refuse_self_given_reads(client)
        client.auth_method, client.jwks, client.jwks_uri = client_keys.checked(*keys, public)
        _requirements_met(client)
        secret = None if public or client.auth_method else gen.generate(gen.CLIENT_SECRET_PREFIX)
        client.secret_hash = self.hasher.hash(secret) if secret else None
        client.secret_expires_at = None if public or client.auth_method else secret_expires_at
        client.registration_token_hash = registration_token_hash
        client.registration_metadata = metadata
        self.store.add(s, client)
        audit.record(s, "client.registered", client_id=client.client_id, subject=client.client_id,
                     details={"name": client.name, "grants": ",".join(client.grants), "public": client.public})
        return client, secret

    def reregister(self, s: Session, client: Client, *, name: str | None, redirect_uris: list[str],
                   grants: list[str], scopes: list[str], metadata: dict, logout: dict | None = None,
                   keys: tuple = (None, None, None), requirements: dict | None = None) -> Client:
        """A registered client replacing its own registration (RFC 7592 §2.2): the rules of ``update``."""
        self._apply(client, name or client.client_id, list(redirect_uris), grants, list(scopes),
                    self._resource_scopes(s, scopes))
        apply_logout_fields(client, logout or {})
        _require(client, dict.fromkeys(REQUIREMENTS, False) | (requirements or {}))
        self._refuse_self_given_reads(client)
        client.auth_method, client.jwks, client.jwks_uri = client_keys.checked(*keys, client.public)
        _requirements_met(client)
        client.registration_metadata = metadata
        s.flush()
        audit.record(s, "client.updated", actor=self_managing(client.client_id), subject=client.client_id,
                     details={"fields": "registration"})
        return client

    def deregister(self, s: Session, client_id: str) -> None:
        """A registered client deleting itself (RFC 7592 §2.3), as ``delete`` does."""
        self._remove(s, client_id, self_managing(client_id))

    @staticmethod
    def _refuse_self_given_reads(client: Client) -> None:
        if service_reads(client.grants, client.scopes):
            raise Invalid("a client that registers itself cannot read the directory with client credentials "
                          "(users:read / groups:read): an administrator must give that", field="scopes")

    def _settle_service_reads(self, s: Session, actor: Principal, client: Client, before: set[str]) -> dict:
        """Record the actor as the one who lets ``client`` read the directory, refusing one who may not.

        The record changes only when the reads grow, or when the present one no longer stands and the
        actor may give them; an edit that gives nothing new (a rename by a mere editor) keeps it."""
        after = service_reads(client.grants, client.scopes)
        if not after:
            client.directory_granted_by = client.directory_grantor_id = None
            return {}
        if after <= before and (all(self.permissions.service_read_stands(s, client, name) for name in after)
                                or self.permissions.lacking(s, actor, after)):
            return {}
        self.permissions.require_may_give_service_reads(s, actor, after)
        if actor.is_system:
            client.directory_granted_by, client.directory_grantor_id = GRANTED_BY_SYSTEM, None
        else:
            client.directory_granted_by, client.directory_grantor_id = GRANTED_BY_USER, actor.user.id
        return {"directory_reads": ",".join(sorted(after))}

    def _require_may_hold_credentials(self, s: Session, actor: Principal, client: Client) -> None:
        """New credentials (a secret, keys) let whoever holds them act as the client: for a client that reads the
        directory, only someone who could give it that read may make them."""
        missing = self.permissions.lacking(s, actor, service_reads(client.grants, client.scopes))
        if missing:
            scopes = " / ".join(SERVICE_ACCOUNT_READS[name] for name in missing)
            raise Forbidden(
                f"This client reads the directory with client credentials ({scopes}): a new secret or new keys for "
                f"it need what that read needs, {' and '.join(missing)} (or an administrator); you lack: "
                f"{', '.join(missing)}.")

    def _resource_scopes(self, s: Session, scopes) -> set[str]:
        """The resource servers' scopes, read only when ``scopes`` names one authgate does not know."""
        return self.resource_scopes(s) if any(x not in scope_rules.KNOWN for x in scopes or ()) else set()

    @staticmethod
    def _apply(client: Client, name: str, redirect_uris: list[str], grants: list[str] | None, scopes: list[str],
               resource_scopes: set[str] = frozenset()) -> None:
        name = (name or "").strip()
        if not name or len(name) > 255:
            raise Invalid("name must be 1 to 255 characters", field="name")
        grants = normalize_grants(grants, bool(redirect_uris))
        scopes = list(dict.fromkeys(scopes))
        try:
            scope_rules.check_known([x for x in scopes if x not in resource_scopes])
        except Invalid as error:
            raise Invalid(str(error), field="scopes") from None
        for uri in redirect_uris:
            check_redirect_uri(uri)
        if "authorization_code" in grants and not redirect_uris:
            raise Invalid("the authorization_code grant needs at least one redirect URI", field="redirect_uris")
        if client.public and "client_credentials" in grants:
            raise Invalid("a public client cannot use client_credentials: it has no secret", field="types")
        client.name = name
        client.redirect_uris = list(dict.fromkeys(redirect_uris))
        client.grants = grants
        client.scopes = scopes

    def _fits_profile(self, s: Session, client: Client) -> None:
        """A client given a profile must fit it as registered (``profiles.misfits``), now and after every change."""
        if client.profile == profiles.FAPI2:
            misfits = profiles.misfits(client)
            if misfits:
                raise Invalid("; ".join(misfits), field="profile")
            self.profile_key(s)

    def list(self, s: Session) -> list[Client]:
        return self.store.all(s)

    def get(self, s: Session, client_id: str) -> Client | None:
        """The client, read once per transaction however often the protocol code asks."""
        known = s.info.setdefault("authgate.clients", {})
        if client_id not in known:
            known[client_id] = self.store.by_client_id(s, client_id)
        return known[client_id]

    def view(self, s: Session, client_id: str) -> ClientView | None:
        """The client as the protocol reads it: from memory when cached, else one query; None for a disabled one."""
        view = self.lookup(s, client_id)
        return None if view is None or view.disabled else view

    def lookup(self, s: Session, client_id: str) -> ClientView | None:
        """As ``view``, a disabled client included (to say so rather than that it does not exist)."""
        view = self.cache.cached(client_id)
        if view is None:
            generation = self.cache.generation()
            row = self.get(s, client_id)
            if row is None:
                return None
            view = ClientView.of(row)
            self.cache.remember(client_id, view, generation)
        return view

    def remembered(self, client_id: str) -> ClientView | None:
        """The client from memory only; None when only the database can tell (or it is disabled)."""
        view = self.cache.cached(client_id)
        return None if view is None or view.disabled else view

    def by_secret(self, s: Session, secret: str) -> ClientView | None:
        row = self.store.by_secret_hash(s, self.hasher.hash(secret))
        return ClientView.of(row) if row and not secret_expired(row) and row.disabled_at is None else None

    def lapsed_directory_scopes(self, s: Session, client: ClientView) -> set[str]:
        """The directory scopes (``users:read``, ``groups:read``) of ``client``'s registration whose read no
        longer stands: the client credentials grant gives a token none of them (the API would refuse it)."""
        return {SERVICE_ACCOUNT_READS[name] for name in service_reads(client.grants, client.scopes)
                if not self.permissions.service_read_stands(s, client, name)}

    def check_secret(self, client: Client | ClientView, secret: str) -> bool:
        return self.hasher.matches(secret, client.secret_hash) and not secret_expired(client)

    def delete(self, s: Session, key: str, actor: Principal = SYSTEM) -> None:
        """Delete the client (``key``: see ``client_key``); its codes and tokens go with it, so none works any more."""
        self.permissions.require(s, actor, "delete-auth_clients")
        self._remove(s, self._owned_by_no_stronger(s, actor, self.by_key(s, key), "delete").client_id, actor)

    def disable(self, s: Session, actor: Principal, key: str) -> Client:
        """Stop the client everywhere: no endpoint authenticates it, no authorization request names it, and its
        tokens are revoked (they stay revoked when it is enabled again), its pending codes forgotten."""
        self.permissions.require(s, actor, "edit-auth_clients")
        client = self._owned_by_no_stronger(s, actor, self.by_key(s, key), "disable")
        if client.disabled_at is None:
            client.disabled_at = utcnow()
            s.flush()
            self.revoke_tokens(s, client.id)
            self.store.forget_pending(s, client.id)
            audit.record(s, "client.disabled", actor=actor, subject=client.client_id, details={"name": client.name})
        return client

    def enable(self, s: Session, actor: Principal, key: str) -> Client:
        """Let a disabled client be used again; the tokens revoked when it was disabled stay revoked."""
        self.permissions.require(s, actor, "edit-auth_clients")
        client = self._owned_by_no_stronger(s, actor, self.by_key(s, key), "enable")
        if client.disabled_at is not None:
            client.disabled_at = None
            s.flush()
            audit.record(s, "client.enabled", actor=actor, subject=client.client_id, details={"name": client.name})
        return client

    def _remove(self, s: Session, client_id: str, actor: Principal) -> None:
        client = self.get(s, client_id)
        if client is not None:
            self.revoke_tokens(s, client.id)  # the personal access tokens made with its grants too
        if not self.store.delete_by_client_id(s, client_id):
            raise NotFound(f"no client with id {client_id!r}")
        audit.record(s, "client.deleted", actor=actor, subject=client_id)
        events.record(s, events.CLIENT, [client_id])

    # -- through the API -----------------------------------------------------------------------------

    def page(self, s: Session, actor: Principal, query: ListQuery) -> Page:
        self.permissions.require(s, actor, "view-auth_clients")
        return paginate(query, sortable=SORTABLE, default_order="name", fetch=lambda checked: self.store.page(s, checked))

    def visible(self, s: Session, actor: Principal, client_id: str) -> Client:
        self.permissions.require(s, actor, "view-auth_clients")
        return self.by_key(s, client_id)

    def update(self, s: Session, actor: Principal, client_id: str, values: dict) -> Client:
        """Change name, redirect URIs, grants, scopes or sign-out URIs; a client stays public or confidential for
        life."""
        self.permissions.require(s, actor, "edit-auth_clients")
        client = self._owned_by_no_stronger(s, actor, self._editable(s, client_id), "change")
        if values.get("public", client.public) != client.public:
            raise Invalid("public cannot change: register a new client instead", field="public")
        before, shown_before = service_reads(client.grants, client.scopes), identity(client)
        self._apply(
            client,
            values.get("name", client.name),
            values.get("redirect_uris", client.redirect_uris),
            values.get("grants", client.grants),
            values.get("scopes", client.scopes),
            self._resource_scopes(s, values.get("scopes", client.scopes)),
        )
        apply_logout_fields(client, {k: values[k] for k in LOGOUT_FIELDS if k in values})
        if {"token_endpoint_auth_method", "jwks", "jwks_uri"} & set(values):
            keys_before = (client.auth_method, client.jwks, client.jwks_uri)
            self._apply_keys(client, values)
            if (client.auth_method, client.jwks, client.jwks_uri) != keys_before:
                self._require_may_hold_credentials(s, actor, client)
        given = self._settle_service_reads(s, actor, client, before)
        _require(client, values)
        _requirements_met(client)
        self._fits_profile(s, client)
        s.flush()
        audit.record(s, "client.updated", actor=actor, subject=client.client_id,
                     details={"fields": ",".join(sorted(values)), **given})
        self.identity_changed(s, client, shown_before)
        return client

    @staticmethod
    def _apply_keys(client: Client, values: dict) -> None:
        """A new authentication method or new keys. Moving to keys drops the secret; moving back to a
        secret needs ``rotate-secret`` (a client with keys has none)."""
        method = values.get("token_endpoint_auth_method", client.auth_method)
        keys_given = "jwks" in values or "jwks_uri" in values
        jwks = values.get("jwks") if keys_given else client.jwks
        jwks_uri = values.get("jwks_uri") if keys_given else client.jwks_uri
        if method != client_keys.PRIVATE_KEY_JWT and not keys_given:
            jwks = jwks_uri = None
        client.auth_method, client.jwks, client.jwks_uri = client_keys.checked(method, jwks, jwks_uri, client.public)
        if client.auth_method:
            client.secret_hash = None
            client.secret_expires_at = None

    def regenerate_secret(self, s: Session, actor: Principal, client_id: str) -> tuple[Client, str]:
        """A new secret, shown this once; the old one stops working at once."""
        self.permissions.require(s, actor, "edit-auth_clients")
        client = self._owned_by_no_stronger(s, actor, self._editable(s, client_id), "give a new secret to")
        if client.public:
            raise Invalid("a public client has no secret", field="public")
        self._require_may_hold_credentials(s, actor, client)
        secret = gen.generate(gen.CLIENT_SECRET_PREFIX)
        client.secret_hash = self.hasher.hash(secret)
        client.secret_expires_at = None
        client.auth_method, client.jwks, client.jwks_uri = None, None, None
        self._fits_profile(s, client)
        s.flush()
        audit.record(s, "client.secret_regenerated", actor=actor, subject=client.client_id)
        return client, secret

    def by_key(self, s: Session, key: str) -> Client:
        """The client ``key`` names: a ``client_id`` (a metadata document's URL included) or ``doc-<row id>``."""
        document = DOCUMENT_KEY.fullmatch(key or "")
        if document:
            client = self.store.by_id(s, int(document.group(1)))
            client = client if client is not None and client.metadata_document_at is not None else None
        else:
            client = self.get(s, key)
        if client is None:
            raise NotFound(f"No client with id {key!r}.")
        return client

    def _owned_by_no_stronger(self, s: Session, actor: Principal, client: Client, what: str) -> Client:
        """The client, once ``actor`` may act on it as its owner's: ``PermissionService.require_over_owner``."""
        self.permissions.require_over_owner(s, actor, client.owner_id, f"{what} a client of")
        return client

    def _editable(self, s: Session, key: str) -> Client:
        client = self.by_key(s, key)
        if client.metadata_document_at is not None:
            raise Invalid("this client is described by its metadata document, which alone changes it; it may be "
                          "disabled or deleted", field="client_id")
        return client
