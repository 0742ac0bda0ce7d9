"""Groups and their members: lookups, name uniqueness, memberships and the paged member list."""

from __future__ import annotations

from typing import Protocol

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from authgate.storage.models import Group, GroupMember, User
from authgate.storage.repositories.listing import PageQuery, page_of
from authgate.storage.repositories.users import SEARCHED as USER_SEARCHED


class GroupStore(Protocol):
    def add(self, s: Session, group: Group) -> None: ...
    def remove(self, s: Session, group: Group) -> None: ...
    def by_id(self, s: Session, group_id: int) -> Group | None: ...
    def by_names(self, s: Session, names: list[str]) -> dict[str, Group]:
        """The groups named so (exactly), by name."""
    def name_taken(self, s: Session, name: str, except_id: int | None) -> bool:
        """Whether a group other than ``except_id`` is named ``name``, in any case."""
    def page(self, s: Session, query: PageQuery) -> tuple[list[Group], int]: ...
    def members_of(self, s: Session, group_id: int, query: PageQuery, *,
                   personal: bool = True) -> tuple[list[User], int]:
        """One page of the group's users (not deleted ones); the filter searches their usernames only, or with
        ``personal`` their emails and names too."""
    def membership(self, s: Session, group_id: int, user_id: int) -> GroupMember | None: ...
    def membership_by_id(self, s: Session, membership_id: int) -> GroupMember | None: ...
    def add_member(self, s: Session, group_id: int, user_id: int, provider_id: int | None = None) -> GroupMember: ...
    def remove_membership(self, s: Session, membership: GroupMember) -> None: ...
    def memberships_of(self, s: Session, user_id: int) -> list[tuple[GroupMember, Group]]:
        """The user's memberships with their groups, by group name."""


class SqlGroupStore:
    def add(self, s: Session, group: Group) -> None:
        s.add(group)
        s.flush()

    def remove(self, s: Session, group: Group) -> None:
        s.delete(group)
        s.flush()

    def by_id(self, s: Session, group_id: int) -> Group | None:
        return s.get(Group, group_id)

    def by_names(self, s: Session, names: list[str]) -> dict[str, Group]:
        return {group.name: group for group in s.scalars(select(Group).where(Group.name.in_(names)))} if names else {}

    def name_taken(self, s: Session, name: str, except_id: int | None) -> bool:
        taken = select(Group.id).where(or_(Group.name == name, func.lower(Group.name) == name.lower()))
        return bool(s.scalar(taken.where(Group.id != except_id) if except_id is not None else taken))

    def page(self, s: Session, query: PageQuery) -> tuple[list[Group], int]:
        return page_of(s, select(Group), query, search=(Group.name, Group.description))

    def members_of(self, s: Session, group_id: int, query: PageQuery, *,
                   personal: bool = True) -> tuple[list[User], int]:
        stmt = select(User).join(GroupMember, GroupMember.member_id == User.id).where(
            GroupMember.group_id == group_id, User.deleted_at.is_(None))
        return page_of(s, stmt, query, search=USER_SEARCHED if personal else (User.username,))

    def membership(self, s: Session, group_id: int, user_id: int) -> GroupMember | None:
        return s.scalar(select(GroupMember).where(GroupMember.group_id == group_id, GroupMember.member_id == user_id))

    def membership_by_id(self, s: Session, membership_id: int) -> GroupMember | None:
        return s.get(GroupMember, membership_id)

    def add_member(self, s: Session, group_id: int, user_id: int, provider_id: int | None = None) -> GroupMember:
        member = GroupMember(group_id=group_id, member_id=user_id, provider_id=provider_id)
        s.add(member)
        s.flush()
        return member

    def remove_membership(self, s: Session, membership: GroupMember) -> None:
        s.delete(membership)
        s.flush()

    def memberships_of(self, s: Session, user_id: int) -> list[tuple[GroupMember, Group]]:
        return [tuple(row) for row in s.execute(
            select(GroupMember, Group).join(Group, Group.id == GroupMember.group_id)
            .where(GroupMember.member_id == user_id).order_by(Group.name))]
