"""Upstream identity providers, their group mappings, the identities linked to local users, and the round trips
under way."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from authgate.storage.models import (FederatedIdentity, FederatedSignIn, Group, IdentityProvider,
                                     ProviderGroupMapping, User)


class ProviderStore(Protocol):
    def add(self, s: Session, row) -> None:
        """Add a provider, identity or round trip and flush it."""
    def by_id(self, s: Session, id: int) -> IdentityProvider | None: ...
    def by_name(self, s: Session, name: str) -> IdentityProvider | None: ...
    def all(self, s: Session, enabled_only: bool = False) -> list[IdentityProvider]:
        """Every provider (or every enabled one), by name."""
    def delete(self, s: Session, id: int) -> bool: ...
    def identity(self, s: Session, provider_id: int, subject: str) -> tuple[FederatedIdentity, User] | None:
        """The link of ``subject`` at the provider and its user (one query)."""
    def identities_of(self, s: Session, user_id: int, lock: bool = False) -> list[FederatedIdentity]:
        """The user's links, oldest first; ``lock``: locked until the transaction ends (a concurrent unlink waits,
        then sees what this one left)."""
    def add_identity(self, s: Session, row: FederatedIdentity) -> bool:
        """Add a link; False (nothing added) when its (provider, subject) is linked already, concurrently too."""
    def delete_identity(self, s: Session, user_id: int, id: int) -> bool:
        """Delete the user's link ``id``; whether there was one."""
    def take_sign_in(self, s: Session, state_hash: str, now: datetime) -> FederatedSignIn | None:
        """The live round trip with that state, deleted as it is read (single use; an expired one is deleted and
        not returned; those never taken are the purge's)."""
    def group_mappings(self, s: Session, provider_id: int) -> list[tuple[ProviderGroupMapping, Group]]:
        """The provider's group mappings with their groups, by upstream group then group name."""
    def replace_group_mappings(self, s: Session, provider_id: int, pairs: list[tuple[str, int]]) -> None:
        """Make the provider's mappings exactly these (upstream group, group id) pairs."""
    def group_named(self, s: Session, ref: str) -> Group | None:
        """The group with that name, else (digits) that id."""


class SqlProviderStore:
    def add(self, s: Session, row) -> None:
        s.add(row)
        s.flush()

    def by_id(self, s: Session, id: int) -> IdentityProvider | None:
        return s.get(IdentityProvider, id)

    def by_name(self, s: Session, name: str) -> IdentityProvider | None:
        return s.scalar(select(IdentityProvider).where(IdentityProvider.name == name))

    def all(self, s: Session, enabled_only: bool = False) -> list[IdentityProvider]:
        query = select(IdentityProvider).order_by(IdentityProvider.name)
        if enabled_only:
            query = query.where(IdentityProvider.enabled.is_(True))
        return list(s.scalars(query))

    def delete(self, s: Session, id: int) -> bool:
        return bool(s.execute(delete(IdentityProvider).where(IdentityProvider.id == id)).rowcount)

    def identity(self, s: Session, provider_id: int, subject: str) -> tuple[FederatedIdentity, User] | None:
        row = s.execute(select(FederatedIdentity, User).join(User, User.id == FederatedIdentity.user_id).where(
            FederatedIdentity.provider_id == provider_id, FederatedIdentity.subject == subject)).first()
        return (row[0], row[1]) if row else None

    def identities_of(self, s: Session, user_id: int, lock: bool = False) -> list[FederatedIdentity]:
        query = select(FederatedIdentity).where(FederatedIdentity.user_id == user_id).order_by(FederatedIdentity.id)
        return list(s.scalars(query.with_for_update() if lock else query))

    def add_identity(self, s: Session, row: FederatedIdentity) -> bool:
        try:
            with s.begin_nested():
                s.add(row)
                s.flush()
        except IntegrityError:
            return False
        return True

    def delete_identity(self, s: Session, user_id: int, id: int) -> bool:
        return bool(s.execute(delete(FederatedIdentity).where(FederatedIdentity.id == id,
                                                              FederatedIdentity.user_id == user_id)).rowcount)

    def take_sign_in(self, s: Session, state_hash: str, now: datetime) -> FederatedSignIn | None:
        row = s.scalar(select(FederatedSignIn).where(FederatedSignIn.state_hash == state_hash))
        if row is None or not s.execute(delete(FederatedSignIn).where(FederatedSignIn.id == row.id)).rowcount:
            return None
        return row if row.expires_at > now else None

    def group_mappings(self, s: Session, provider_id: int) -> list[tuple[ProviderGroupMapping, Group]]:
        rows = s.execute(select(ProviderGroupMapping, Group).join(Group, Group.id == ProviderGroupMapping.group_id)
                         .where(ProviderGroupMapping.provider_id == provider_id)
                         .order_by(ProviderGroupMapping.upstream_group, Group.name))
        return [(row[0], row[1]) for row in rows]

    def replace_group_mappings(self, s: Session, provider_id: int, pairs: list[tuple[str, int]]) -> None:
        s.execute(delete(ProviderGroupMapping).where(ProviderGroupMapping.provider_id == provider_id))
        s.add_all(ProviderGroupMapping(provider_id=provider_id, upstream_group=upstream, group_id=group_id)
                  for upstream, group_id in pairs)
        s.flush()

    def group_named(self, s: Session, ref: str) -> Group | None:
        group = s.scalar(select(Group).where(Group.name == ref))
        if group is None and ref.isdigit() and len(ref) <= 9:
            group = s.get(Group, int(ref))
        return group
