"""Upstream identity providers as records: an OpenID Connect provider found by discovery of its issuer, the client
authgate is registered as there (id and secret), the scopes asked for, and the account rules of its sign-ins
(create a user just in time, link by a verified email).

A plain OAuth 2.0 provider (kind ``oauth2``, GitHub-style) has no discovery and no ID token: its authorization,
token and userinfo URLs are given, and who signed in is what its userinfo says. For both kinds the claim mapping
says which upstream claim fills each part of the identity (``subject``, ``username``, ...; GitHub's ``id`` and
``login``), and the group mapping (``provider_group_mappings``) which upstream groups make members of which authgate
groups: each federated sign-in joins the user to the mapped groups the upstream lists and takes them out of the
mapped groups it no longer lists (``sync_groups``), never touching a group the provider does not map. Mapping to a
group that gives permissions is refused to whoever lacks them (the rule of group membership).

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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from authgate.security.encryption import SecretBox, is_sealed
from authgate.services.accounts.people.permissions import PermissionService
from authgate.services.accounts.people.principal import SYSTEM, Principal
from authgate.services.directory.settings import LDAP, DirectoryView, checked_directory, url_problem
from authgate.services.errors import Conflict, Invalid, NotFound
from authgate.services.operations import audit
from authgate.storage.models import IdentityProvider
from authgate.storage.repositories.groups import GroupStore
from authgate.storage.repositories.providers import ProviderStore

OIDC = "oidc"
OAUTH2 = "oauth2"
KINDS = (OIDC, OAUTH2, LDAP)
ENDPOINTS = ("authorization_url", "token_url", "userinfo_url")
CLAIM_KEYS = ("subject", "username", "email", "email_verified", "given_name", "family_name", "name", "groups")
STANDARD_CLAIMS = {"subject": "sub", "username": "preferred_username", "email": "email",
                   "email_verified": "email_verified", "given_name": "given_name", "family_name": "family_name",
                   "name": "name", "groups": "groups"}
MAX_GROUP_MAPPINGS = 200
DISCOVERY_FIELDS = frozenset({"issuer", "allow_private_network"})
"""The changes after which a provider's discovery document is read again before saving (disabling a provider whose
upstream is down must not need the upstream)."""
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
DEFAULT_SCOPES = ("openid", "email", "profile")
MAX_SCOPES = 20
MAX_SECRET = 2000
EDITABLE = frozenset({"issuer", "client_id", "client_secret", "scopes", "enabled", "allow_jit",
                      "link_verified_email", "allow_private_network", *ENDPOINTS, "claims", "groups_claim",
                      "group_mappings", "directory"})


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
    kind: str = OIDC
    authorization_url: str | None = None
    token_url: str | None = None
    userinfo_url: str | None = None
    claims: Mapping[str, str] = field(default_factory=dict, hash=False)

    def claim(self, key: str) -> str:
        """The upstream claim that fills ``key`` of the identity (the mapped one, else the standard one)."""
        return self.claims.get(key) or STANDARD_CLAIMS[key]


def public_view(row: IdentityProvider, group_mappings: Sequence[dict] = ()) -> dict:
    """The provider as the API and the CLI show it: never its client secret."""
    claims = dict(row.claim_mapping or {})
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
        **{endpoint: getattr(row, endpoint) for endpoint in ENDPOINTS},
        "claims": claims,
        "groups_claim": claims.get("groups"),
        "group_mappings": list(group_mappings),
        "created_at": row.created_at.isoformat(),
        "updated_at": row.updated_at.isoformat(),
    }


def endpoint_problem(name: str, url: object) -> str | None:
    """Why ``url`` cannot be a plain OAuth 2.0 provider's endpoint (https, http only on loopback; a query is
    kept, a fragment or credentials are not)."""
    return _https_url_problem(name, url, query=True)


def _claim_name_ok(value: object) -> bool:
    return isinstance(value, str) and 0 < len(value) <= 255 and not any(c.isspace() or ord(c) < 0x21 for c in value)


def claims_of(value: object) -> dict:
    """A claim mapping (KEY to upstream claim, from a dict or ``KEY=CLAIM`` texts); ``Invalid`` otherwise."""
    if isinstance(value, Mapping):
        pairs = list(value.items())
    elif isinstance(value, (list, tuple)):
        pairs = []
        for item in value:
            key, sep, claim = item.partition("=") if isinstance(item, str) else ("", "", "")
            if not sep:
                raise Invalid(f"claims: {str(item)[:100]!r} is not KEY=CLAIM", field="claims")
            pairs.append((key.strip(), claim.strip()))
    else:
        raise Invalid("claims must map KEY to CLAIM", field="claims")
    mapping = {}
    for key, claim in pairs:
        if key not in CLAIM_KEYS:
            raise Invalid(f"claims: {str(key)[:64]!r} is not one of {', '.join(CLAIM_KEYS)}", field="claims")
        if not _claim_name_ok(claim):
            raise Invalid(f"claims: the claim for {key} must be 1 to 255 characters without spaces", field="claims")
        mapping[key] = claim
    return mapping


def group_pairs_of(value: object) -> list[tuple[str, str]]:
    """Group mappings (upstream group, authgate group name or id) from ``{"upstream", "group"}`` objects or
    ``UPSTREAM=GROUP`` texts (split at the last ``=``: an upstream group may be a DN); ``Invalid`` otherwise."""
    if not isinstance(value, (list, tuple)) or len(value) > MAX_GROUP_MAPPINGS:
        raise Invalid(f"group_mappings: a list of at most {MAX_GROUP_MAPPINGS}", field="group_mappings")
    pairs = []
    for item in value:
        if isinstance(item, Mapping):
            upstream, group = item.get("upstream"), item.get("group")
        elif isinstance(item, str) and "=" in item:
            upstream, _, group = item.rpartition("=")
        elif isinstance(item, (list, tuple)) and len(item) == 2:
            upstream, group = item
        else:
            raise Invalid(f"group_mappings: {str(item)[:100]!r} is not UPSTREAM=GROUP", field="group_mappings")
        upstream = upstream.strip() if isinstance(upstream, str) else ""
        group = str(group).strip() if isinstance(group, (str, int)) and not isinstance(group, bool) else ""
        if not upstream or len(upstream) > 255 or not group:
            raise Invalid("group_mappings: each names an upstream group (1 to 255 characters) and an authgate group",
                          field="group_mappings")
        pairs.append((upstream, group))
    return list(dict.fromkeys(pairs))


def issuer_problem(issuer: object) -> str | None:
    """Why ``issuer`` cannot be an OpenID Provider's issuer (Discovery 1.0 §2: https, no query or fragment; http
    only to a loopback host, fetched only where private addresses are allowed)."""
    return _https_url_problem("issuer", issuer, query=False)


def _https_url_problem(name: str, url: object, *, query: bool) -> str | None:
    if not isinstance(url, str) or not url or len(url) > 2000:
        return f"{name} must be an https URL of at most 2000 characters"
    try:
        parts = urlsplit(url)
        parts.port
    except ValueError:
        return f"{name}: {url!r} is not a valid URL"
    loopback = parts.hostname in ("127.0.0.1", "::1", "localhost")
    if not parts.hostname or not (parts.scheme == "https" or (parts.scheme == "http" and loopback)):
        return f"{name} must be an https URL (http only on loopback)"
    if (parts.query and not query) or parts.fragment or "#" in url or parts.username or parts.password:
        return f"{name} must have no {'' if query else 'query, '}fragment or credentials"
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


def _round_trip(row: IdentityProvider | None) -> bool:
    return row is not None and bool(row.enabled) and row.kind != LDAP


class ProviderService:
    def __init__(self, store: ProviderStore, box: SecretBox, permissions: PermissionService,
                 discovery: Callable[[ProviderView], str | None] | None = None, groups: GroupStore | None = None):
        self.store = store
        self.box = box
        self.permissions = permissions
        self.discovery = discovery
        self.groups = groups

    # -- the sign-in page and the round trip ---------------------------------------------------------

    def with_round_trip(self, s: Session) -> list[IdentityProvider]:
        """The enabled providers the browser is sent to and back from (an LDAP directory has no round trip: it checks
        the password typed on the sign-in form)."""
        return [row for row in self.store.all(s, enabled_only=True) if _round_trip(row)]

    def enabled_names(self, s: Session) -> list[str]:
        """The providers the sign-in page offers (names only: anyone may see the buttons)."""
        return [row.name for row in self.with_round_trip(s)]

    def for_sign_in(self, s: Session, name: str) -> ProviderView | None:
        """The enabled provider ``name``, secret opened; None if there is none."""
        row = self.store.by_name(s, name) if isinstance(name, str) else None
        return self._view(row) if _round_trip(row) else None

    def for_sign_in_by_id(self, s: Session, id: int) -> ProviderView | None:
        row = self.store.by_id(s, id)
        return self._view(row) if _round_trip(row) else None

    def directories(self, s: Session) -> list[DirectoryView]:
        """The enabled LDAP directories, bind passwords opened, by name (the password form tries them in turn)."""
        views = []
        for row in self.store.all(s, enabled_only=True):
            if row.kind == LDAP:
                d = row.directory or {}
                views.append(DirectoryView(row.id, row.name, row.issuer, row.client_id, self._open(row),
                                           d.get("user_base", ""), d.get("user_filter", ""), d.get("group_base"),
                                           d.get("group_filter", ""), bool(row.allow_jit), bool(row.link_verified_email)))
        return views

    def _view(self, row: IdentityProvider, secret: str | None = None) -> ProviderView:
        return ProviderView(row.id or 0, row.name, row.issuer, row.client_id,
                            self._open(row) if secret is None else secret, tuple(row.scopes or ()),
                            bool(row.allow_jit), bool(row.link_verified_email), bool(row.allow_private_network),
                            row.kind, row.authorization_url, row.token_url, row.userinfo_url,
                            dict(row.claim_mapping or {}))

    def described(self, s: Session, row: IdentityProvider) -> dict:
        """``public_view`` with the provider's group mappings."""
        return public_view(row, [{"upstream": m.upstream_group, "group": g.name, "group_id": g.id}
                                 for m, g in self.store.group_mappings(s, row.id)])

    def sync_groups(self, s: Session, provider: ProviderView, user, upstream_groups: Sequence[str] | None) -> None:
        """Join ``user`` to the groups the provider maps from the groups the upstream lists, and take them out of
        those it maps from none it lists where this provider made the membership (one made by hand or by another
        provider's mapping stays); other groups are left alone, and so is everything when the upstream's answer had no
        groups claim (``None``: it said nothing, not "none"). Each change is audited. An LDAP directory's group names
        (``cn``) match in any case, as LDAP compares them."""
        if upstream_groups is None or self.groups is None:
            return
        fold = (lambda name: name.lower()) if provider.kind == LDAP else (lambda name: name)
        listed = {fold(name) for name in upstream_groups}
        managed: dict[int, str] = {}
        wanted: set[int] = set()
        for mapping, group in self.store.group_mappings(s, provider.id):
            managed[group.id] = group.name
            if fold(mapping.upstream_group) in listed:
                wanted.add(group.id)
        for group_id, group_name in sorted(managed.items()):
            member = self.groups.membership(s, group_id, user.id)
            if group_id in wanted and member is None:
                self.groups.add_member(s, group_id, user.id, provider_id=provider.id)
                audit.record(s, "federation.group_joined", user_id=user.id, subject=user.username,
                             details={"provider": provider.name, "group": group_name})
            elif group_id not in wanted and member is not None and member.provider_id == provider.id:
                self.groups.remove_membership(s, member)
                audit.record(s, "federation.group_left", user_id=user.id, subject=user.username,
                             details={"provider": provider.name, "group": group_name})

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

    def create(self, s: Session, name: str, issuer: str | None, client_id: str, client_secret: str, *,
               kind: str = OIDC, scopes: Sequence[str] = (), enabled: bool = True, allow_jit: bool = False,
               link_verified_email: bool = False, allow_private_network: bool = False,
               authorization_url: str | None = None, token_url: str | None = None, userinfo_url: str | None = None,
               claims: object = None, groups_claim: str | None = None, group_mappings: object = (),
               directory: dict | None = None, actor: Principal = SYSTEM) -> IdentityProvider:
        """An LDAP directory (``kind="ldap"``): ``issuer`` is its URL, ``client_id`` the service bind DN,
        ``client_secret`` its password, ``directory`` the rest (``services/directory/settings.py``)."""
        self.require_manager(actor, "add an identity provider")
        name = _checked_identity(kind, name)
        if self.store.by_name(s, name) is not None:
            raise Conflict(f"an identity provider named {name!r} already exists", field="name")
        row = IdentityProvider(name=name, kind=kind, claim_mapping={})
        values = {"issuer": issuer, "client_id": client_id, "client_secret": client_secret,
                  "scopes": list(scopes) or (list(DEFAULT_SCOPES) if kind == OIDC else []), "enabled": enabled,
                  "allow_jit": allow_jit, "link_verified_email": link_verified_email,
                  "allow_private_network": allow_private_network}
        if kind == LDAP:
            given = [key for key, value in (("authorization_url", authorization_url), ("token_url", token_url),
                                            ("userinfo_url", userinfo_url), ("claims", claims),
                                            ("groups_claim", groups_claim)) if value]
            if given:
                raise Invalid(f"{given[0]} is not an LDAP directory's setting", field=given[0])
            values["directory"] = directory or {}
        elif directory:
            raise Invalid("directory settings are an LDAP directory's", field="directory")
        else:
            values.update({"authorization_url": authorization_url, "token_url": token_url,
                           "userinfo_url": userinfo_url, "claims": claims or {}})
            if groups_claim:
                values["groups_claim"] = groups_claim
        self._apply(row, values)
        pairs = self._group_pairs(s, actor, row, group_mappings or ())
        self.store.add(s, row)
        self.store.replace_group_mappings(s, row.id, pairs)
        audit.record(s, "provider.created", actor=actor, subject=name,
                     details={"issuer": row.issuer or row.authorization_url, "kind": kind,
                              "group_mappings": len(pairs)})
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
        values = dict(values)
        mappings = values.pop("group_mappings", None)
        self._apply(row, values)
        if mappings is not None:
            self.store.replace_group_mappings(s, row.id, self._group_pairs(s, actor, row, mappings))
            values["group_mappings"] = mappings
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
            kind = values.get("kind", OIDC)
            draft = IdentityProvider(name=_checked_identity(kind, values.get("name")), kind=kind,
                                     scopes=list(DEFAULT_SCOPES) if kind == OIDC else [], claim_mapping={})
        else:
            draft = IdentityProvider(id=current.id, name=current.name, kind=current.kind, issuer=current.issuer,
                                     client_id=current.client_id, scopes=list(current.scopes or ()),
                                     allow_jit=current.allow_jit, link_verified_email=current.link_verified_email,
                                     allow_private_network=current.allow_private_network,
                                     **{endpoint: getattr(current, endpoint) for endpoint in ENDPOINTS},
                                     claim_mapping=dict(current.claim_mapping or {}),
                                     directory=dict(current.directory or {}) if current.kind == LDAP else None)
        wanted = {k: v for k, v in values.items() if k in EDITABLE and k not in ("client_secret", "group_mappings")}
        self._apply(draft, wanted if current else {"issuer": None, "client_id": None, **wanted})
        if draft.kind != OIDC:
            return
        if self.discovery is None:
            raise Invalid("this server cannot read discovery documents", field="issuer")
        problem = self.discovery(self._view(draft, secret=""))
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

    def _group_pairs(self, s: Session, actor: Principal, row: IdentityProvider, value: object
                     ) -> list[tuple[str, int]]:
        """The mappings ``value`` names, with their groups found; mapping to (or unmapping from) a group that gives
        permissions needs the actor to hold them, as adding members to it does."""
        pairs, groups = [], {}
        for upstream, ref in group_pairs_of(value):
            group = self.store.group_named(s, ref)
            if group is None:
                raise Invalid(f"group_mappings: there is no group {ref!r}", field="group_mappings")
            groups[group.id] = group
            pairs.append((upstream, group.id))
        before = {}
        if row.id:
            for mapping, group in self.store.group_mappings(s, row.id):
                before[(mapping.upstream_group, group.id)] = group
                groups[group.id] = group
        for group_id in sorted({group_id for _, group_id in set(pairs) ^ set(before)}):
            self.permissions.require_holds_all(s, actor, self.permissions.names_of_group(s, groups[group_id]),
                                               "map upstream groups to a group that gives")
        return list(dict.fromkeys(pairs))

    def _apply(self, row: IdentityProvider, values: dict) -> None:
        if row.kind == LDAP:
            return self._apply_directory(row, values)
        if "directory" in values:
            raise Invalid("directory settings are an LDAP directory's", field="directory")
        if "issuer" in values:
            issuer = (values["issuer"] or "").strip()
            problem = issuer_problem(issuer) if issuer or row.kind == OIDC else None
            if problem:
                raise Invalid(problem, field="issuer")
            row.issuer = issuer
        for endpoint in ENDPOINTS:
            if endpoint in values:
                url = (values[endpoint] or "").strip() or None
                if url is not None and row.kind == OIDC:
                    raise Invalid(f"{endpoint} is for a plain OAuth 2.0 provider (kind oauth2); an OpenID Connect "
                                  "provider's endpoints come from its discovery document", field=endpoint)
                problem = endpoint_problem(endpoint, url) if row.kind == OAUTH2 and url is not None else None
                if problem:
                    raise Invalid(problem, field=endpoint)
                setattr(row, endpoint, url)
        if "claims" in values:
            mapping = claims_of(values["claims"] or {})
            if "groups" not in mapping and (row.claim_mapping or {}).get("groups") and "groups_claim" not in values:
                mapping["groups"] = row.claim_mapping["groups"]
            row.claim_mapping = mapping
        if "groups_claim" in values:
            claim = (values["groups_claim"] or "").strip()
            if claim and not _claim_name_ok(claim):
                raise Invalid("groups_claim must be 1 to 255 characters without spaces", field="groups_claim")
            mapping = {k: v for k, v in (row.claim_mapping or {}).items() if k != "groups"}
            row.claim_mapping = {**mapping, "groups": claim} if claim else mapping
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
            if "openid" not in scopes and row.kind == OIDC:
                scopes.insert(0, "openid")
            row.scopes = scopes
        for flag in ("enabled", "allow_jit", "link_verified_email", "allow_private_network"):
            if flag in values:
                if not isinstance(values[flag], bool):
                    raise Invalid(f"{flag} must be true or false", field=flag)
                setattr(row, flag, values[flag])
        if row.kind == OAUTH2:
            for endpoint in ENDPOINTS:
                if not getattr(row, endpoint, None):
                    raise Invalid(f"a plain OAuth 2.0 provider needs its {endpoint}", field=endpoint)

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
