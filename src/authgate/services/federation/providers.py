"""Upstream identity providers as records: an OpenID Connect provider found by discovery of its issuer, the client
authgate is registered as there (id and secret), the scopes asked for, and the account rules of its sign-ins
(create a user just in time, link by a verified email).

Only administrators manage them, from every surface (the CLI as ``SYSTEM``, the API): a provider decides who may
sign in as whom, and its URLs are fetched by the server. The client secret is sealed under
``AUTHGATE_SECRET_KEY`` when one is set (as the server secrets are; authgate must send it, so it cannot be
hashed) and is never shown back: the views say only whether one is set.

``check_discovery`` reads the discovery document of a provider as a change would leave it, before the change is
saved (the admin page does, unless told not to): the check is the sign-in's own (``Upstream.discovery_problem``,
given to the service as ``discovery``), made outside any transaction, and its failure is an ``Invalid`` on the
issuer."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from authgate.security.encryption import SecretBox, is_sealed
from authgate.services.accounts.people.permissions import PermissionService
from authgate.services.accounts.people.principal import SYSTEM, Principal
from authgate.services.directory.settings import LDAP, DirectoryView, checked_directory, url_problem
from authgate.services.errors import Conflict, Invalid, NotFound
from authgate.services.operations import audit
from authgate.storage.models import IdentityProvider
from authgate.storage.repositories.providers import ProviderStore

OIDC = "oidc"
KINDS = (OIDC, LDAP)
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
DEFAULT_SCOPES = ("openid", "email", "profile")
MAX_SCOPES = 20
MAX_SECRET = 2000
EDITABLE = frozenset({"issuer", "client_id", "client_secret", "scopes", "enabled", "allow_jit",
                      "link_verified_email", "allow_private_network", "directory"})


def secret_context(name: str) -> str:
    return f"identity_providers:{name}"


@dataclass(frozen=True)
class ProviderView:
    """A provider as the sign-in reads it, with its secret opened."""

    id: int
    name: str
    issuer: str
    client_id: str
    client_secret: str
    scopes: tuple[str, ...]
    allow_jit: bool
    link_verified_email: bool
    allow_private_network: bool


def public_view(row: IdentityProvider) -> dict:
    """The provider as the API and the CLI show it: never its client secret."""
    return {
        "id": row.id,
        "name": row.name,
        "kind": row.kind,
        "issuer": row.issuer,
        "client_id": row.client_id,
        "client_secret_set": bool(row.client_secret),
        "scopes": list(row.scopes or ()),
        "enabled": bool(row.enabled),
        "allow_jit": bool(row.allow_jit),
        "link_verified_email": bool(row.link_verified_email),
        "allow_private_network": bool(row.allow_private_network),
        **({"directory": dict(row.directory or {})} if row.kind == LDAP else {}),
        "created_at": row.created_at.isoformat(),
        "updated_at": row.updated_at.isoformat(),
    }


def issuer_problem(issuer: object) -> str | None:
    """Why ``issuer`` cannot be an OpenID Provider's issuer (Discovery 1.0 §2: https, no query or fragment; http
    only to a loopback host, fetched only where private addresses are allowed)."""
    if not isinstance(issuer, str) or not issuer or len(issuer) > 2000:
        return "issuer must be an https URL of at most 2000 characters"
    try:
        parts = urlsplit(issuer)
        parts.port
    except ValueError:
        return f"{issuer!r} is not a valid URL"
    loopback = parts.hostname in ("127.0.0.1", "::1", "localhost")
    if not parts.hostname or not (parts.scheme == "https" or (parts.scheme == "http" and loopback)):
        return "issuer must be an https URL (http only on loopback)"
    if parts.query or parts.fragment or "#" in issuer or parts.username or parts.password:
        return "issuer must have no query, fragment or credentials"
    return None


def _checked_identity(kind: object, name: object) -> str:
    """The name a new provider of ``kind`` may have, stripped; ``Invalid`` otherwise."""
    if kind not in KINDS:
        raise Invalid(f"kind must be one of: {', '.join(KINDS)}", field="kind")
    name = (name if isinstance(name, str) else "").strip()
    if not NAME.match(name):
        raise Invalid("name must be 1 to 64 letters, digits, dots, dashes or underscores, starting with a letter "
                      "or digit (it is part of the callback URL)", field="name")
    return name


class ProviderService:
    def __init__(self, store: ProviderStore, box: SecretBox, permissions: PermissionService,
                 discovery: Callable[[ProviderView], str | None] | None = None):
        self.store = store
        self.box = box
        self.permissions = permissions
        self.discovery = discovery

    # -- the sign-in page and the round trip ---------------------------------------------------------

    def enabled_names(self, s: Session) -> list[str]:
        """The providers the sign-in page offers (names only: anyone may see the buttons)."""
        return [row.name for row in self.store.all(s, enabled_only=True) if row.kind == OIDC]

    def for_sign_in(self, s: Session, name: str) -> ProviderView | None:
        """The enabled provider ``name``, secret opened; None if there is none."""
        row = self.store.by_name(s, name) if isinstance(name, str) else None
        if row is None or not row.enabled or row.kind != OIDC:
            return None
        return self._view(row)

    def for_sign_in_by_id(self, s: Session, id: int) -> ProviderView | None:
        row = self.store.by_id(s, id)
        return self._view(row) if row is not None and row.enabled and row.kind == OIDC else None

    def directories(self, s: Session) -> list[DirectoryView]:
        """The enabled LDAP directories, bind passwords opened, by name (the password form tries them in turn)."""
        views = []
        for row in self.store.all(s, enabled_only=True):
            if row.kind == LDAP:
                d = row.directory or {}
                views.append(DirectoryView(row.id, row.name, row.issuer, row.client_id, self._open(row),
                                           d.get("user_base", ""), d.get("user_filter", ""), d.get("group_base"),
                                           d.get("group_filter", ""), dict(d.get("group_map") or {}),
                                           bool(row.allow_jit), bool(row.link_verified_email)))
        return views

    def _view(self, row: IdentityProvider) -> ProviderView:
        return ProviderView(row.id, row.name, row.issuer, row.client_id, self._open(row), tuple(row.scopes or ()),
                            bool(row.allow_jit), bool(row.link_verified_email), bool(row.allow_private_network))

    def _open(self, row: IdentityProvider) -> str:
        value = row.client_secret or ""
        return self.box.open(value, secret_context(row.name)).decode() if is_sealed(value) else value

    def _seal(self, name: str, secret: str) -> str:
        return self.box.seal_if_enabled(secret.encode(), secret_context(name), secret)

    # -- management (administrators) -----------------------------------------------------------------

    def require_manager(self, actor: Principal, action: str) -> None:
        """Only administrators manage providers (``Forbidden`` otherwise): every change, and the empty form."""
        self.permissions.require_administrator(actor, action)

    def list(self, s: Session, actor: Principal = SYSTEM) -> list[IdentityProvider]:
        self.permissions.require_administrator(actor, "see the identity providers")
        return self.store.all(s)

    def visible(self, s: Session, actor: Principal, ref: int | str) -> IdentityProvider:
        self.permissions.require_administrator(actor, "see the identity providers")
        return self._existing(s, ref)

    def create(self, s: Session, name: str, issuer: str, client_id: str, client_secret: str, *,
               kind: str = OIDC, scopes: Sequence[str] = (), enabled: bool = True, allow_jit: bool = False,
               link_verified_email: bool = False, allow_private_network: bool = False,
               directory: dict | None = None, actor: Principal = SYSTEM) -> IdentityProvider:
        """An LDAP directory (``kind="ldap"``): ``issuer`` is its URL, ``client_id`` the service bind DN,
        ``client_secret`` its password, ``directory`` the rest (``services/directory/settings.py``)."""
        self.require_manager(actor, "add an identity provider")
        name = _checked_identity(kind, name)
        if self.store.by_name(s, name) is not None:
            raise Conflict(f"an identity provider named {name!r} already exists", field="name")
        row = IdentityProvider(name=name, kind=kind)
        self._apply(row, {"issuer": issuer, "client_id": client_id, "client_secret": client_secret,
                          "scopes": list(scopes) or (list(DEFAULT_SCOPES) if kind == OIDC else []),
                          "enabled": enabled, "allow_jit": allow_jit,
                          "link_verified_email": link_verified_email,
                          "allow_private_network": allow_private_network,
                          **({"directory": directory or {}} if kind == LDAP else {})})
        self.store.add(s, row)
        audit.record(s, "provider.created", actor=actor, subject=name, details={"issuer": row.issuer})
        return row

    def update(self, s: Session, actor: Principal, ref: int | str, values: dict) -> IdentityProvider:
        """Change anything but the name and kind (the callback URL registered upstream carries the name)."""
        self.require_manager(actor, "change an identity provider")
        row = self._existing(s, ref)
        unknown = set(values) - EDITABLE
        if unknown:
            field = sorted(unknown)[0]
            raise Invalid(f"{field} cannot be changed (the callback URL registered upstream carries the name)"
                          if field in ("name", "kind") else f"{field} is not a provider setting", field=field)
        self._apply(row, values)
        s.flush()
        audit.record(s, "provider.updated", actor=actor, subject=row.name, details={"fields": ",".join(sorted(values))})
        return row

    def delete(self, s: Session, actor: Principal, ref: int | str) -> str:
        """Delete a provider and the links of its identities (its users stay, and sign in otherwise)."""
        self.require_manager(actor, "delete an identity provider")
        row = self._existing(s, ref)
        name = row.name
        self.store.delete(s, row.id)
        audit.record(s, "provider.deleted", actor=actor, subject=name)
        return name

    def check_discovery(self, actor: Principal, values: dict, current: IdentityProvider | None = None) -> None:
        """Read the discovery document of the provider ``current`` (None: a new one, ``values`` holding its name and
        kind) would be once ``values`` are applied, as the sign-in reads it; ``Invalid`` on the field at fault.
        Nothing is saved; call it outside a transaction (the fetch may take seconds)."""
        self.require_manager(actor, "change an identity provider" if current else "add an identity provider")
        if current is None:
            draft = IdentityProvider(name=_checked_identity(values.get("kind", OIDC), values.get("name")),
                                     kind=values.get("kind", OIDC), scopes=list(DEFAULT_SCOPES))
        else:
            draft = IdentityProvider(name=current.name, kind=current.kind, issuer=current.issuer,
                                     client_id=current.client_id, scopes=list(current.scopes or ()),
                                     allow_jit=current.allow_jit, link_verified_email=current.link_verified_email,
                                     allow_private_network=current.allow_private_network)
        wanted = {k: v for k, v in values.items() if k in EDITABLE and k != "client_secret"}
        self._apply(draft, wanted if current else {"issuer": None, "client_id": None, **wanted})
        if draft.kind != OIDC:
            return
        if self.discovery is None:
            raise Invalid("this server cannot read discovery documents", field="issuer")
        problem = self.discovery(ProviderView(current.id if current else 0, draft.name, draft.issuer,
                                              draft.client_id, "", tuple(draft.scopes or ()), bool(draft.allow_jit),
                                              bool(draft.link_verified_email), bool(draft.allow_private_network)))
        if problem:
            raise Invalid(f"the issuer did not pass discovery: {problem}", field="issuer")

    def reseal(self, s: Session) -> int:
        """Seal every client secret under the current secret key (``keys encrypt``); how many changed."""
        changed = 0
        for row in self.store.all(s):
            if self.box.enabled and not self.box.is_current(row.client_secret or ""):
                row.client_secret = self._seal(row.name, self._open(row))
                changed += 1
        s.flush()
        return changed

    def _apply(self, row: IdentityProvider, values: dict) -> None:
        if row.kind == LDAP:
            return self._apply_directory(row, values)
        if "directory" in values:
            raise Invalid("directory settings are an LDAP directory's", field="directory")
        if "issuer" in values:
            issuer = (values["issuer"] or "").strip()
            problem = issuer_problem(issuer)
            if problem:
                raise Invalid(problem, field="issuer")
            row.issuer = issuer
        if "client_id" in values:
            client_id = (values["client_id"] or "").strip()
            if not client_id or len(client_id) > 512 or any(ord(c) < 0x21 for c in client_id):
                raise Invalid("client_id must be 1 to 512 printable characters", field="client_id")
            row.client_id = client_id
        if "client_secret" in values:
            secret = values["client_secret"] or ""
            if not secret.strip() or len(secret) > MAX_SECRET or any(ord(c) < 0x20 for c in secret):
                raise Invalid(f"client_secret must be 1 to {MAX_SECRET} printable characters", field="client_secret")
            row.client_secret = self._seal(row.name, secret.strip())
        if "scopes" in values:
            scopes = list(dict.fromkeys(values["scopes"] or ()))
            if len(scopes) > MAX_SCOPES or any(
                    not isinstance(sc, str) or not sc or len(sc) > 128
                    or any(c.isspace() or c in '"\\' or ord(c) < 0x21 for c in sc) for sc in scopes):
                raise Invalid(f"scopes: at most {MAX_SCOPES}, each 1 to 128 characters without spaces, quotes or "
                              "backslashes", field="scopes")
            if "openid" not in scopes:
                scopes.insert(0, "openid")
            row.scopes = scopes
        for flag in ("enabled", "allow_jit", "link_verified_email", "allow_private_network"):
            if flag in values:
                if not isinstance(values[flag], bool):
                    raise Invalid(f"{flag} must be true or false", field=flag)
                setattr(row, flag, values[flag])

    def _apply_directory(self, row: IdentityProvider, values: dict) -> None:
        """As ``_apply``, for an LDAP directory: the URL in ``issuer``, the bind DN in ``client_id``, its password
        (sealed) in ``client_secret``; no scopes."""
        if "issuer" in values:
            url = (values["issuer"] or "").strip()
            problem = url_problem(url)
            if problem:
                raise Invalid(problem, field="issuer")
            row.issuer = url
        if "client_id" in values:
            bind_dn = (values["client_id"] or "").strip()
            if not bind_dn or len(bind_dn) > 512 or any(ord(c) < 0x20 for c in bind_dn):
                raise Invalid("the bind DN must be 1 to 512 printable characters", field="client_id")
            row.client_id = bind_dn
        if "scopes" in values and values["scopes"]:
            raise Invalid("an LDAP directory has no scopes", field="scopes")
        row.scopes = []
        if "directory" in values:
            row.directory = checked_directory({**(row.directory or {}), **(values["directory"] or {})})
        rest = {k: v for k, v in values.items() if k not in ("issuer", "client_id", "scopes", "directory")}
        if rest:
            row.kind = OIDC  # the common checks below are the same for both kinds
            try:
                self._apply(row, rest)
            finally:
                row.kind = LDAP

    def _existing(self, s: Session, ref: int | str) -> IdentityProvider:
        row = None
        if isinstance(ref, int) or (isinstance(ref, str) and ref.isdigit() and len(ref) <= 9):
            row = self.store.by_id(s, int(ref))
        if row is None and isinstance(ref, str):
            row = self.store.by_name(s, ref)
        if row is None:
            raise NotFound(f"No identity provider {ref!r}.")
        return row
