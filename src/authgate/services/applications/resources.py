"""Resource servers: the APIs tokens are issued for (RFC 8707 resource indicators).

A resource server has an identifier (an absolute URI without a fragment, RFC 8707 §2), which becomes
the ``aud`` of the access tokens asked for it, a name, the scopes it defines and its token settings:
how long its access tokens live, whether introspection describes them and the algorithm they are signed
with (``signing_alg``: RS256, which RFC 9068 §2.1 requires every verifier to support, unless it opts in to
PS256, ES256 or EdDSA; a token for several resources that chose differently is signed RS256). Access tokens are always
signed JWTs (RFC 9068) in authgate, so there is no format to choose.

authgate's own API (``/api/1.0``) is one of them, ``builtin``: made at start, its identifier kept in
step with the issuer (``ensure_own``), its scopes authgate's API scopes, never deleted.

Who may manage them: reading needs ``view-auth_clients`` (whoever registers clients must see which
APIs they may ask for), every change an administrator — a resource decides what tokens any client
may be issued for, a server-wide trust decision like a signing key, and ProcessMaker's catalog has no
permission for it.

The rules for a token request that names resources (``resolve``, ``undefined_scopes``,
``default_scopes``, ``token_ttl``) live here too, so every grant applies the same ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from authgate.services.accounts.people.permissions import PermissionService
from authgate.services.accounts.people.principal import SYSTEM, Principal
from authgate.services.credentials import scopes as scope_rules
from authgate.services.errors import Conflict, Invalid, NotFound, ServiceError
from authgate.services.operations import audit
from authgate.services.operations.listing import ListQuery, Page, paginate
from authgate.settings import Settings
from authgate.storage.models import ResourceServer
from authgate.storage.repositories.resources import ResourceStore

OWN_API_PATH = "/api/1.0"
OWN_API_NAME = "authgate API"
PROTOCOL_SCOPES = frozenset({"openid", "profile", "email", "offline_access"})
"""Scopes about the sign-in and the grant, not about an API: allowed whatever the resources."""
OWN_API_SCOPES = tuple(s for s in scope_rules.DESCRIPTIONS if s not in PROTOCOL_SCOPES)
MAX_IDENTIFIER = 2000
MAX_TTL = 31_536_000
MAX_RESOURCES = 10
DEFAULT_SIGNING_ALG = "RS256"
SIGNING_ALGS = ("RS256", "PS256", "ES256", "EdDSA")
SORTABLE = ("id", "name", "identifier", "created_at", "updated_at")


class InvalidTarget(ServiceError):
    """A requested resource is malformed or unknown (RFC 8707 §2: ``invalid_target``)."""


@dataclass(frozen=True)
class ResourceView:
    """A resource server as a token request reads it."""

    id: int
    identifier: str
    name: str
    scopes: tuple[str, ...]
    access_token_ttl: int | None
    introspection: bool
    builtin: bool
    signing_alg: str = DEFAULT_SIGNING_ALG

    @classmethod
    def of(cls, row: ResourceServer) -> "ResourceView":
        return cls(row.id, row.identifier, row.name, tuple(row.scopes or ()), row.access_token_ttl,
                   bool(row.introspection), bool(row.builtin), row.signing_alg or DEFAULT_SIGNING_ALG)


def own_api_identifier(issuer: str) -> str:
    return issuer + OWN_API_PATH


def identifier_problem(identifier: object) -> str | None:
    """Why ``identifier`` cannot name a resource (RFC 8707 §2: an absolute URI, no fragment); None if it can."""
    if not isinstance(identifier, str) or not identifier or len(identifier) > MAX_IDENTIFIER:
        return f"a resource identifier is an absolute URI of at most {MAX_IDENTIFIER} characters"
    if any(c.isspace() or ord(c) < 0x21 for c in identifier):
        return "a resource identifier has no spaces or control characters"
    try:
        parts = urlsplit(identifier)
        parts.port
    except ValueError:
        return f"{identifier!r} is not a valid URI"
    if not parts.scheme or not identifier.partition(":")[2]:
        return f"{identifier!r} is not an absolute URI (RFC 8707 §2)"
    if "#" in identifier:
        return f"{identifier!r} has a fragment, which a resource identifier must not have (RFC 8707 §2)"
    if parts.scheme in ("http", "https") and not parts.hostname:
        return f"{identifier!r} has no host"
    return None


def undefined_scopes(resources: Sequence[ResourceView], scopes: Sequence[str]) -> list[str]:
    """The scopes none of ``resources`` defines (the sign-in scopes are always allowed)."""
    return [s for s in scopes if s not in PROTOCOL_SCOPES and not any(s in r.scopes for r in resources)]


def default_scopes(resources: Sequence[ResourceView], client_scopes: Sequence[str]) -> list[str]:
    """The scope of a request naming ``resources`` and no scope: the client's default, kept to what the
    resources define; for a client that may ask for anything and whose default they do not define, all
    they define."""
    chosen = [s for s in scope_rules.default_for_client(list(client_scopes)) if not undefined_scopes(resources, [s])]
    if chosen or client_scopes:
        return chosen
    return list(dict.fromkeys(s for r in resources for s in r.scopes))


def token_ttl(resources: Sequence[ResourceView], default: int) -> int:
    """Its access tokens live as long as the shortest lifetime among its resources."""
    return min([r.access_token_ttl for r in resources if r.access_token_ttl] or [default])


def signing_alg(resources: Sequence[ResourceView]) -> str | None:
    """The algorithm of an access token for ``resources``: the one they chose, RS256 when they differ, None for none."""
    algs = {r.signing_alg for r in resources}
    if not algs:
        return None
    return algs.pop() if len(algs) == 1 else DEFAULT_SIGNING_ALG


def public_view(row: ResourceServer) -> dict:
    return {
        "id": row.id,
        "identifier": row.identifier,
        "name": row.name,
        "scopes": list(row.scopes or ()),
        "access_token_ttl": row.access_token_ttl,
        "introspection": bool(row.introspection),
        "signing_alg": row.signing_alg or DEFAULT_SIGNING_ALG,
        "builtin": bool(row.builtin),
        "created_at": row.created_at.isoformat(),
        "updated_at": row.updated_at.isoformat(),
    }


class ResourceService:
    def __init__(self, settings: Settings, store: ResourceStore, permissions: PermissionService):
        self.settings = settings
        self.store = store
        self.permissions = permissions
        self.own_identifier = own_api_identifier(settings.issuer)

    # -- authgate's own API ---------------------------------------------------------------------------

    def ensure_own(self, s: Session) -> ResourceServer:
        """authgate's own API as a resource server, made on first start and kept at the issuer's URL."""
        row = self.store.builtin(s)
        if row is None:
            row = ResourceServer(identifier=self.own_identifier, name=OWN_API_NAME, scopes=list(OWN_API_SCOPES),
                                 introspection=True, builtin=True)
            self.store.add(s, row)
            return row
        if row.identifier != self.own_identifier or list(row.scopes or ()) != list(OWN_API_SCOPES):
            row.identifier, row.scopes = self.own_identifier, list(OWN_API_SCOPES)
            s.flush()
        return row

    # -- token requests -------------------------------------------------------------------------------

    def resolve(self, s: Session, identifiers: Sequence[str]) -> tuple[ResourceView, ...]:
        """The resources a request names, in its order, once each; ``InvalidTarget`` for one malformed or
        unknown (RFC 8707 §2). authgate's own API is known by its identifier even before ``ensure_own`` ran."""
        wanted = list(dict.fromkeys(identifiers))
        if len(wanted) > MAX_RESOURCES:
            raise InvalidTarget(f"At most {MAX_RESOURCES} resources may be asked for at once.")
        for identifier in wanted:
            problem = identifier_problem(identifier)
            if problem:
                raise InvalidTarget(problem[0].upper() + problem[1:] + ".")
        found = {row.identifier: ResourceView.of(row) for row in self.store.by_identifiers(s, wanted)}
        if self.own_identifier in wanted and self.own_identifier not in found:
            found[self.own_identifier] = ResourceView(0, self.own_identifier, OWN_API_NAME, OWN_API_SCOPES, None,
                                                      True, True)
        unknown = [i for i in wanted if i not in found]
        if unknown:
            raise InvalidTarget(f"Unknown resource: {', '.join(unknown)}.")
        return tuple(found[i] for i in wanted)

    def introspection_allowed(self, s: Session, audience: Sequence[str]) -> bool:
        """Whether every resource a token is for lets introspection describe it."""
        rows = self.store.by_identifiers(s, list(audience))
        return all(row.introspection for row in rows)

    def longest_ttl(self, s: Session) -> int:
        """The longest access-token lifetime any resource server gives its tokens, or the server's default."""
        return max([self.settings.access_token_ttl, *(row.access_token_ttl or 0 for row in self.store.all(s))])

    def all_scopes(self, s: Session) -> set[str]:
        """Every scope some resource server defines (a client may be limited to them)."""
        return {scope for row in self.store.all(s) for scope in (row.scopes or ())}

    # -- management -----------------------------------------------------------------------------------

    def page(self, s: Session, actor: Principal, query: ListQuery) -> Page:
        self.permissions.require(s, actor, "view-auth_clients")
        return paginate(query, sortable=SORTABLE, default_order="id", fetch=lambda checked: self.store.page(s, checked))

    def list(self, s: Session, actor: Principal = SYSTEM) -> list[ResourceServer]:
        self.permissions.require(s, actor, "view-auth_clients")
        return self.store.all(s)

    def visible(self, s: Session, actor: Principal, ref: int | str) -> ResourceServer:
        """A resource server by id or identifier."""
        self.permissions.require(s, actor, "view-auth_clients")
        return self._existing(s, ref)

    def create(self, s: Session, identifier: str, name: str, scopes: Sequence[str] = (), *,
               access_token_ttl: int | None = None, introspection: bool = True,
               signing_alg: str = DEFAULT_SIGNING_ALG, actor: Principal = SYSTEM) -> ResourceServer:
        self.permissions.require_administrator(actor, "register a resource server")
        identifier = (identifier or "").strip()
        self._check_identifier(s, identifier)
        row = ResourceServer(identifier=identifier, builtin=False)
        self._apply(row, name, scopes, access_token_ttl, introspection, signing_alg)
        self.store.add(s, row)
        audit.record(s, "resource.created", actor=actor, subject=identifier, details={"name": row.name})
        return row

    def update(self, s: Session, actor: Principal, ref: int | str, values: dict) -> ResourceServer:
        """Change the name, scopes, lifetime, introspection or signing algorithm; the identifier stays (tokens carry
        it). authgate's own API takes only its lifetime, introspection and signing algorithm."""
        self.permissions.require_administrator(actor, "change a resource server")
        row = self._existing(s, ref)
        if "identifier" in values and values["identifier"] != row.identifier:
            raise Invalid("the identifier cannot change (tokens carry it): register a new resource instead",
                          field="identifier")
        if row.builtin:
            renamed = "name" in values and values["name"] != row.name
            rescoped = "scopes" in values and list(values["scopes"] or ()) != list(row.scopes or ())
            if renamed or rescoped:
                raise Invalid("authgate's own API keeps its name and scopes", field="name" if renamed else "scopes")
        self._apply(row, values.get("name", row.name), values.get("scopes", row.scopes),
                    values.get("access_token_ttl", row.access_token_ttl), values.get("introspection", row.introspection),
                    values.get("signing_alg", row.signing_alg or DEFAULT_SIGNING_ALG))
        s.flush()
        audit.record(s, "resource.updated", actor=actor, subject=row.identifier,
                     details={"fields": ",".join(sorted(values))})
        return row

    def delete(self, s: Session, actor: Principal, ref: int | str) -> str:
        """Delete a resource server (the tokens already issued for it keep working until they expire);
        its identifier. authgate's own API cannot be deleted."""
        self.permissions.require_administrator(actor, "delete a resource server")
        row = self._existing(s, ref)
        if row.builtin:
            raise Invalid("authgate's own API cannot be deleted", field="identifier")
        identifier = row.identifier
        self.store.delete(s, row.id)
        audit.record(s, "resource.deleted", actor=actor, subject=identifier)
        return identifier

    def _check_identifier(self, s: Session, identifier: str) -> None:
        problem = identifier_problem(identifier)
        if problem:
            raise Invalid(problem, field="identifier")
        if identifier in (self.settings.issuer, self.own_identifier):
            raise Conflict(f"{identifier} is authgate's own: the issuer is the audience of tokens asked for no "
                           "resource, and its API is already registered", field="identifier")
        if self.store.by_identifier(s, identifier) is not None:
            raise Conflict(f"a resource server with identifier {identifier} already exists", field="identifier")

    @staticmethod
    def _apply(row: ResourceServer, name: str, scopes: Sequence[str], ttl: int | None, introspection: bool,
               alg: str = DEFAULT_SIGNING_ALG) -> None:
        name = (name or "").strip()
        if not name or len(name) > 255:
            raise Invalid("name must be 1 to 255 characters", field="name")
        scopes = list(dict.fromkeys(scopes or ()))
        for scope in () if row.builtin else scopes:
            if (not isinstance(scope, str) or not scope or len(scope) > 64
                    or any(c.isspace() or c in '"\\' or ord(c) < 0x21 for c in scope)):
                raise Invalid(f"scope {scope!r} must be 1 to 64 characters, without spaces, quotes or backslashes",
                              field="scopes")
            if scope in PROTOCOL_SCOPES or scope == scope_rules.ALL:
                raise Invalid(f"{scope} is authgate's own scope, not one a resource server defines", field="scopes")
        if ttl is not None and not (isinstance(ttl, int) and 1 <= ttl <= MAX_TTL):
            raise Invalid(f"access_token_ttl must be 1 to {MAX_TTL} seconds, or empty for the default",
                          field="access_token_ttl")
        if alg not in SIGNING_ALGS:
            raise Invalid(f"signing_alg must be one of {', '.join(SIGNING_ALGS)}", field="signing_alg")
        row.name = name
        row.signing_alg = alg
        if not row.builtin:
            row.scopes = scopes
        row.access_token_ttl = ttl
        row.introspection = bool(introspection)

    def _existing(self, s: Session, ref: int | str) -> ResourceServer:
        row = None
        if isinstance(ref, int) or (isinstance(ref, str) and ref.isdigit() and len(ref) <= 9):
            row = self.store.by_id(s, int(ref))
        if row is None and isinstance(ref, str):
            row = self.store.by_identifier(s, ref)
        if row is None:
            raise NotFound(f"No resource server {ref!r}.")
        return row
