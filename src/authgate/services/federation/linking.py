"""The identities at upstream providers linked to the signed-in user, as the account page lists them, and the
user's own linking and unlinking.

Only the user, signed in on the pages, links or unlinks (a session principal; no token, no administrator on their
behalf). **Link** is the sign-in's round trip (``sign_in.py``) with the user's id sealed in it: at the callback the
browser must still be signed in as that user, and the identity the provider answers with is linked to them, unless
it is linked to another user here already (refused: nobody takes over someone's sign-in by linking it) or the user
has an identity at that provider already; the provider's group mapping applies at once, as at its sign-ins.
**Unlink** deletes one of the user's own links, found by id among theirs
(another user's id is unknown), never the last way the account signs in: a user without a usable password (made
just in time by a provider, or invited and never accepted) and without a passkey keeps their last link at an
enabled provider (a disabled provider's link signs nobody in, so it neither counts nor is kept). Both are audited
(``identity.linked``, ``identity.unlinked``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from authgate.services.accounts.factors.passkeys import PasskeyService
from authgate.services.accounts.people.principal import Principal, has_usable_password
from authgate.services.errors import Forbidden, Invalid, NotFound
from authgate.services.federation.providers import ProviderService, ProviderView
from authgate.services.federation.upstream import Identity
from authgate.services.operations import audit
from authgate.storage.models import FederatedIdentity, User
from authgate.storage.repositories.providers import ProviderStore
from authgate.storage.types import utcnow

LAST_WAY_IN = ("This is the only way your account signs in: you have no password here and no passkey. Set a "
               "password first (“Forgot your password?” on the sign-in page), then unlink it.")


@dataclass(frozen=True)
class LinkedIdentity:
    """One link as its user sees it."""

    id: int
    provider: str
    subject: str
    email: str | None
    linked_at: datetime
    last_used_at: datetime | None


@dataclass(frozen=True)
class Linked:
    provider: str


@dataclass(frozen=True)
class NotLinked:
    """The identity was not linked: ``message`` for the person."""

    message: str


class IdentityLinks:
    def __init__(self, store: ProviderStore, providers: ProviderService, passkeys: PasskeyService):
        self.store = store
        self.providers = providers
        self.passkeys = passkeys

    @staticmethod
    def _self(actor: Principal) -> User:
        if actor.user is None or actor.kind != "session":
            raise Forbidden("Linked sign-ins are managed by their user, signed in on the account page.")
        return actor.user

    def of(self, s: Session, actor: Principal) -> list[LinkedIdentity]:
        """The actor's links, oldest first, with their provider's name."""
        user = self._self(actor)
        names = {row.id: row.name for row in self.store.all(s)}
        return [LinkedIdentity(link.id, names.get(link.provider_id, "?"), link.subject, link.email, link.created_at,
                               link.last_used_at) for link in self.store.identities_of(s, user.id)]

    def linkable(self, s: Session, actor: Principal) -> list[str]:
        """The enabled OpenID providers the actor has no identity at yet: a **Link** button each (an LDAP directory
        links at a sign-in with its password, and has no round trip to link by)."""
        user = self._self(actor)
        taken = {link.provider_id for link in self.store.identities_of(s, user.id)}
        return [row.name for row in self.providers.with_round_trip(s) if row.id not in taken]

    def provider_to_link(self, s: Session, actor: Principal, name: str) -> ProviderView:
        """The enabled provider ``name`` the actor may start linking; ``NotFound`` or ``Invalid`` otherwise."""
        user = self._self(actor)
        provider = self.providers.for_sign_in(s, name)
        if provider is None:
            raise NotFound("There is no such way to sign in here (it may have been turned off).")
        if any(link.provider_id == provider.id for link in self.store.identities_of(s, user.id)):
            raise Invalid(f"Your account is linked to a {provider.name} account already: unlink it first.")
        return provider

    def complete(self, s: Session, actor: Principal, provider: ProviderView, identity: Identity | str
                 ) -> Linked | NotLinked:
        """Link ``identity`` (validated by ``Upstream.finish``) to the actor, under the rules of the module; a
        string is why the provider's answer was refused (audited, shown)."""
        user = self._self(actor)
        if isinstance(identity, str):
            audit.record(s, "federation.refused", user_id=user.id, subject=provider.name,
                         details={"stage": "link", "reason": identity[:200]})
            return NotLinked(f"Linking your {provider.name} account did not work: {identity}.")
        found = self.store.identity(s, provider.id, identity.subject)
        if found is not None and found[1].id == user.id:
            return Linked(provider.name)
        if found is not None:
            audit.record(s, "federation.refused", user_id=user.id, subject=provider.name,
                         details={"stage": "link", "reason": "linked to another user"})
            return NotLinked(f"This {provider.name} account is linked to another account here, so it cannot be "
                             "linked to yours. Sign in with it to use that account, or unlink it there first.")
        if any(link.provider_id == provider.id for link in self.store.identities_of(s, user.id)):
            return NotLinked(f"Your account is linked to a {provider.name} account already: unlink it first.")
        if not self.store.add_identity(s, FederatedIdentity(provider_id=provider.id, subject=identity.subject,
                                                            user_id=user.id, email=identity.email,
                                                            last_used_at=utcnow())):
            return NotLinked(f"This {provider.name} account was linked to an account here just now. Reload your "
                             "account page.")
        audit.record(s, "identity.linked", actor=actor, user_id=user.id, subject=provider.name,
                     details={"provider": provider.name})
        self.providers.sync_groups(s, provider, user, identity.groups)
        return Linked(provider.name)

    def get(self, s: Session, actor: Principal, link_id: int) -> LinkedIdentity:
        """One of the actor's own links; ``NotFound`` for any other id (another user's included)."""
        for link in self.of(s, actor):
            if link.id == link_id:
                return link
        raise NotFound("No such linked sign-in on your account.")

    def unlink(self, s: Session, actor: Principal, link_id: int) -> LinkedIdentity:
        """Delete one of the actor's links, unless it is their last way to sign in (``Invalid``)."""
        user = self._self(actor)
        mine = self.store.identities_of(s, user.id, lock=True)
        link = self.get(s, actor, link_id)
        enabled = {row.id for row in self.store.all(s, enabled_only=True)}
        ways_in = [other for other in mine if other.provider_id in enabled]
        if [way.id for way in ways_in] == [link.id] and not has_usable_password(user) \
                and not self.passkeys.count(s, user.id):
            raise Invalid(LAST_WAY_IN)
        self.store.delete_identity(s, user.id, link.id)
        audit.record(s, "identity.unlinked", actor=actor, user_id=user.id, subject=link.provider,
                     details={"provider": link.provider})
        return link
