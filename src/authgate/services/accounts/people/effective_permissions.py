"""What a user may do and why: each permission they hold, granted directly and through which active groups
(for the user's admin page). Reading it is as reading the user: themselves, or anyone with ``view-users``."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from authgate.services.accounts.people.permissions import PermissionService
from authgate.services.accounts.people.principal import ACTIVE, Principal
from authgate.storage.models import User
from authgate.storage.repositories.groups import GroupStore
from authgate.storage.repositories.permissions import PermissionStore


@dataclass(frozen=True)
class GroupRef:
    id: int
    name: str


@dataclass(frozen=True)
class Held:
    name: str
    title: str
    direct: bool
    groups: tuple[GroupRef, ...]


class EffectivePermissions:
    def __init__(self, store: PermissionStore, groups: GroupStore, permissions: PermissionService):
        self.store = store
        self.groups = groups
        self.permissions = permissions

    def of_user(self, s: Session, actor: Principal, user: User) -> list[Held]:
        """Every permission ``user`` holds (not counting administrator status), by name."""
        if actor.user is None or actor.user.id != user.id:
            self.permissions.require(s, actor, "view-users")
        direct = self.store.direct_permissions(s, user.id)
        through: dict[str, list[GroupRef]] = {}
        for _, group in self.groups.memberships_of(s, user.id):
            if group.status == ACTIVE:
                for name in self.store.group_permissions(s, group.id):
                    through.setdefault(name, []).append(GroupRef(group.id, group.name))
        titles = {p.name: p.title for p in self.store.named(s, direct | set(through))}
        return [Held(name, titles[name], name in direct, tuple(through.get(name, ()))) for name in sorted(titles)]
