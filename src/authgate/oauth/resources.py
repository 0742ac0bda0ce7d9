"""RFC 8707 resource indicators in the protocol core: the ``resource`` parameter of the authorization,
token and device authorization endpoints, and what a grant makes of it (a ``Target``).

A request names zero or more resources (``resource``, repeatable, RFC 8707 §2). Each must be an
absolute URI of a registered resource server, else ``invalid_target``; the scopes asked for must be
defined by those resources (the sign-in scopes ``openid``, ``profile``, ``email`` and ``offline_access``
always may be), else ``invalid_scope``. At the token endpoint a code, refresh token or device code
that was granted for resources may be narrowed to some of them, never widened (§2.2). A request
naming none behaves as it did before resources existed: its token's audience is the issuer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from authlib.oauth2.rfc6749 import InvalidScopeError, OAuth2Error

from authgate.oauth.errors import printable
from authgate.services.applications.resources import (
    InvalidTarget,
    ResourceService,
    ResourceView,
    default_scopes,
    signing_alg,
    token_ttl,
    undefined_scopes,
)
from authgate.services.credentials import scopes as scope_rules

PARAMETER = "resource"
DESCRIPTION_LIMIT = 300


class InvalidTargetError(OAuth2Error):
    """RFC 8707 §2: the requested resource is invalid, missing, unknown, or malformed."""

    error = "invalid_target"


@dataclass(frozen=True)
class Target:
    """What a token request is for: ``resources`` (its access token's audience, in the order asked) and
    ``granted`` (what the whole grant was made for, kept with its code, family or device code)."""

    resources: tuple[ResourceView, ...]
    granted: tuple[str, ...]

    @property
    def audience(self) -> list[str]:
        return [r.identifier for r in self.resources]

    @property
    def signing_alg(self) -> str | None:
        return signing_alg(self.resources)

    def ttl(self, default: int) -> int:
        return token_ttl(self.resources, default)

    def default_scope(self, client_scopes: Sequence[str]) -> str:
        return scope_rules.join(default_scopes(self.resources, client_scopes))


def requested(payload) -> list[str]:
    """The ``resource`` values of a request, repeats kept apart (``ParamsPayload.datalist``)."""
    return list(payload.datalist.get(PARAMETER, ()))


def invalid_target(description: str) -> InvalidTargetError:
    return InvalidTargetError(printable(description.replace("§", "section "), DESCRIPTION_LIMIT))


def resolve(resources: ResourceService, db, identifiers: Sequence[str]) -> tuple[ResourceView, ...]:
    try:
        return resources.resolve(db, identifiers)
    except InvalidTarget as error:
        raise invalid_target(str(error)) from None


def scope_refusal(resources: Sequence[ResourceView], scopes: Sequence[str], client_scopes: Sequence[str]) -> str | None:
    """Why ``scopes`` may not be asked for ``resources`` by a client limited to ``client_scopes``; None if they may."""
    undefined = undefined_scopes(resources, scopes)
    if undefined:
        names = ", ".join(r.identifier for r in resources)
        return f"The scope {' '.join(undefined)} is not defined by the requested resource ({names})."
    if client_scopes and any(s not in client_scopes for s in scopes):
        return "The requested scope is unknown or not allowed for this client."
    return None


def check_scope(resources: Sequence[ResourceView], scopes: Sequence[str], client_scopes: Sequence[str]) -> None:
    refusal = scope_refusal(resources, scopes, client_scopes)
    if refusal:
        raise InvalidScopeError(printable(refusal, DESCRIPTION_LIMIT))


def for_new_grant(resources: ResourceService, db, identifiers: Sequence[str], scope: str | None,
                  client_scopes: Sequence[str]) -> Target:
    """A grant made now for ``identifiers`` (authorization, device authorization, password, client
    credentials): the resources resolved and the scope (or its default) checked against them."""
    found = resolve(resources, db, identifiers)
    target = Target(found, tuple(r.identifier for r in found))
    check_scope(found, scope_rules.parse(scope) or scope_rules.parse(target.default_scope(client_scopes)), client_scopes)
    return target


def within_grant(resources: ResourceService, db, asked: Sequence[str], granted: Sequence[str] | None,
                 scope: str) -> Target | None:
    """The target of a token asked from an earlier grant (a code, a refresh token, a device code) that was
    made for ``granted`` (None: for no resource): ``asked`` must be among them (RFC 8707 §2.2), and the
    token's ``scope`` defined by the resources it is for. None for a grant and request naming none."""
    if not asked and not granted:
        return None
    chosen = list(dict.fromkeys(asked)) or list(granted)
    outside = [i for i in chosen if not granted or i not in granted]
    if outside:
        raise invalid_target(f"The resource {', '.join(outside)} was not part of this grant: a token may be asked "
                             "for the resources the grant was made for, or fewer, never others.")
    found = resolve(resources, db, chosen)
    check_scope(found, scope_rules.parse(scope), ())
    return Target(found, tuple(granted))
