"""Named permissions and who holds them: directly, through a group, or as listed for one of them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from authgate.storage.models import Group, GroupMember, GroupPermission, Permission, UserPermission
from authgate.storage.repositories.listing import PageQuery, page_of

ACTIVE = "ACTIVE"


class PermissionStore(Protocol):
    def effective_permissions(self, s: Session, user_id: int) -> set[str]:
        """The names granted to the user directly or through an active group they belong to."""
    def direct_permissions(self, s: Session, user_id: int) -> set[str]: ...
    def group_permissions(self, s: Session, group_id: int) -> set[str]: ...
    def named(self, s: Session, names: Iterable[str]) -> list[Permission]:
        """The permissions among ``names`` that exist."""
    def all_names(self, s: Session) -> list[str]:
        """Every permission's name, in catalog order."""
    def page(self, s: Session, query: PageQuery, *, user_id: int | None = None,
             group_id: int | None = None) -> tuple[list[Permission], int]:
        """Every permission, or those held directly by a user or a group."""
    def replace_user_permissions(self, s: Session, user_id: int, permission_ids: Iterable[int]) -> None: ...
    def replace_group_permissions(self, s: Session, group_id: int, permission_ids: Iterable[int]) -> None: ...


class SqlPermissionStore:
    def effective_permissions(self, s: Session, user_id: int) -> set[str]:
        direct = (
            select(Permission.name)
            .join(UserPermission, UserPermission.permission_id == Permission.id)
            .where(UserPermission.user_id == user_id)
        )
        via_groups = (
            select(Permission.name)
            .join(GroupPermission, GroupPermission.permission_id == Permission.id)
            .join(Group, Group.id == GroupPermission.group_id)
            .join(GroupMember, GroupMember.group_id == Group.id)
            .where(GroupMember.member_id == user_id, Group.status == ACTIVE)
        )
        return set(s.scalars(direct.union(via_groups)))

    def direct_permissions(self, s: Session, user_id: int) -> set[str]:
        return set(s.scalars(
            select(Permission.name)
            .join(UserPermission, UserPermission.permission_id == Permission.id)
            .where(UserPermission.user_id == user_id)
        ))

    def group_permissions(self, s: Session, group_id: int) -> set[str]:
        return set(s.scalars(
            select(Permission.name)
            .join(GroupPermission, GroupPermission.permission_id == Permission.id)
            .where(GroupPermission.group_id == group_id)
        ))

    def named(self, s: Session, names: Iterable[str]) -> list[Permission]:
        names = list(names)
        return list(s.scalars(select(Permission).where(Permission.name.in_(names)))) if names else []

    def all_names(self, s: Session) -> list[str]:
        return list(s.scalars(select(Permission.name).order_by(Permission.id)))

    def page(self, s: Session, query: PageQuery, *, user_id: int | None = None,
             group_id: int | None = None) -> tuple[list[Permission], int]:
        stmt = select(Permission)
        if user_id is not None:
            stmt = stmt.join(UserPermission, UserPermission.permission_id == Permission.id).where(
                UserPermission.user_id == user_id)
        if group_id is not None:
            stmt = stmt.join(GroupPermission, GroupPermission.permission_id == Permission.id).where(
                GroupPermission.group_id == group_id)
        return page_of(s, stmt, query, search=(Permission.name, Permission.title, Permission.category),
                       columns={"group": "category"})

    def replace_user_permissions(self, s: Session, user_id: int, permission_ids: Iterable[int]) -> None:
        s.execute(delete(UserPermission).where(UserPermission.user_id == user_id))
        s.add_all(UserPermission(user_id=user_id, permission_id=pid) for pid in permission_ids)
        s.flush()

    def replace_group_permissions(self, s: Session, group_id: int, permission_ids: Iterable[int]) -> None:
        s.execute(delete(GroupPermission).where(GroupPermission.group_id == group_id))
        s.add_all(GroupPermission(group_id=group_id, permission_id=pid) for pid in permission_ids)
        s.flush()
