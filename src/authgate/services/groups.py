"""Groups of users: they hold permissions for their members (see ``permissions``).

``view-groups``, ``create-groups``, ``edit-groups`` (which covers membership) and
``delete-groups`` decide who may do what; a non-administrator changes the members of a group only
if they hold every permission the group gives, so joining a group never raises anyone's rights
beyond the actor's own.
"""

from __future__ import annotations

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from authgate.services.errors import Conflict, Invalid, NotFound
from authgate.services.listing import ListQuery, Page, paginate
from authgate.services.permissions import PermissionService
from authgate.services.principal import Principal
from authgate.storage.models import Group, GroupMember, User

STATUSES = ("ACTIVE", "INACTIVE")
MEMBER_TYPES = ("user", "ProcessMaker\\Models\\User")
EDITABLE = frozenset({"name", "description", "status"})


def public_view(group: Group) -> dict:
    return {
        "id": group.id,
        "name": group.name,
        "description": group.description,
        "status": group.status,
        "created_at": group.created_at.isoformat(),
        "updated_at": group.updated_at.isoformat(),
    }


def member_view(member: GroupMember) -> dict:
    return {
        "id": member.id,
        "group_id": member.group_id,
        "member_id": member.member_id,
        "member_type": "ProcessMaker\\Models\\User",
        "created_at": member.created_at.isoformat(),
        "updated_at": member.updated_at.isoformat(),
    }


class GroupService:
    def __init__(self, permissions: PermissionService):
        self.permissions = permissions

    def list(self, s: Session, actor: Principal, query: ListQuery) -> Page:
        self.permissions.require(s, actor, "view-groups")
        sortable = {name: getattr(Group, name) for name in ("id", "name", "description", "status", "created_at", "updated_at")}
        return paginate(s, select(Group), query, sortable=sortable, default_order="name",
                        search=[Group.name, Group.description])

    def get(self, s: Session, actor: Principal, group_id: int) -> Group:
        self.permissions.require(s, actor, "view-groups")
        return self._group(s, group_id)

    def create(self, s: Session, actor: Principal, values: dict) -> Group:
        self.permissions.require(s, actor, "create-groups")
        group = Group(description="", status="ACTIVE")
        self._apply(s, group, {"name": values.get("name"), **{k: v for k, v in values.items() if k != "name"}})
        s.add(group)
        s.flush()
        return group

    def update(self, s: Session, actor: Principal, group_id: int, values: dict) -> Group:
        self.permissions.require(s, actor, "edit-groups")
        group = self._group(s, group_id)
        if values.get("status", group.status) != group.status:
            self._require_holds_group(s, actor, group, "activate or deactivate a group that gives")
        self._apply(s, group, values, existing=group)
        s.flush()
        return group

    def delete(self, s: Session, actor: Principal, group_id: int) -> None:
        self.permissions.require(s, actor, "delete-groups")
        s.delete(self._group(s, group_id))
        s.flush()

    def members(self, s: Session, actor: Principal, group_id: int, query: ListQuery) -> Page:
        """The group's users (not deleted ones), paged like any user list."""
        self.permissions.require(s, actor, "view-groups")
        self._group(s, group_id)
        stmt = select(User).join(GroupMember, GroupMember.member_id == User.id).where(
            GroupMember.group_id == group_id, User.deleted_at.is_(None))
        sortable = {name: getattr(User, name) for name in ("id", "username", "email", "firstname", "lastname", "status")}
        return paginate(s, stmt, query, sortable=sortable, default_order="username",
                        search=[User.username, User.email, User.firstname, User.lastname])

    def add_member(self, s: Session, actor: Principal, group_id: int, member_id: int, member_type: str | None) -> GroupMember:
        self.permissions.require(s, actor, "edit-groups")
        if member_type is not None and member_type not in MEMBER_TYPES:
            raise Invalid("member_type must be user (groups cannot be members of groups here).", field="member_type")
        group = self._group(s, group_id, field="group_id")
        user = s.get(User, member_id)
        if user is None or user.deleted_at is not None:
            raise Invalid(f"No user with id {member_id}.", field="member_id")
        self._require_holds_group(s, actor, group, "add members to a group that gives")
        if s.scalar(select(GroupMember.id).where(GroupMember.group_id == group_id, GroupMember.member_id == member_id)):
            raise Conflict(f"User {member_id} is already a member of group {group_id}.", field="member_id")
        member = GroupMember(group_id=group_id, member_id=member_id)
        s.add(member)
        s.flush()
        return member

    def remove_member(self, s: Session, actor: Principal, membership_id: int) -> None:
        self.permissions.require(s, actor, "edit-groups")
        member = s.get(GroupMember, membership_id)
        if member is None:
            raise NotFound(f"No group membership with id {membership_id}.")
        self._require_holds_group(s, actor, s.get(Group, member.group_id), "remove members from a group that gives")
        s.delete(member)
        s.flush()

    def memberships_of(self, s: Session, actor: Principal, user_id: int) -> list[tuple[GroupMember, Group]]:
        """The groups a user belongs to, with the membership (whose id removes it), by group name."""
        self.permissions.require(s, actor, "view-groups")
        return [tuple(row) for row in s.execute(
            select(GroupMember, Group).join(Group, Group.id == GroupMember.group_id)
            .where(GroupMember.member_id == user_id).order_by(Group.name))]

    @staticmethod
    def membership(s: Session, group_id: int, user_id: int) -> GroupMember | None:
        return s.scalar(select(GroupMember).where(GroupMember.group_id == group_id, GroupMember.member_id == user_id))

    def _require_holds_group(self, s: Session, actor: Principal, group: Group, what: str) -> None:
        self.permissions.require_holds_all(s, actor, self.permissions.names_of_group(s, group), what)

    @staticmethod
    def _group(s: Session, group_id: int, field: str | None = None) -> Group:
        group = s.get(Group, group_id)
        if group is None:
            if field:
                raise Invalid(f"No group with id {group_id}.", field=field)
            raise NotFound(f"No group with id {group_id}.")
        return group

    @staticmethod
    def _apply(s: Session, group: Group, values: dict, existing: Group | None = None) -> None:
        unknown = set(values) - EDITABLE
        if unknown:
            raise Invalid(f"These fields cannot be set: {', '.join(sorted(unknown))}.", field=sorted(unknown)[0])
        if "name" in values:
            name = (values["name"] or "").strip()
            if not name or len(name) > 255:
                raise Invalid("name must be 1 to 255 characters", field="name")
            taken = select(Group.id).where(or_(Group.name == name, func.lower(Group.name) == name.lower()))
            if s.scalar(taken.where(Group.id != existing.id) if existing else taken):
                raise Conflict(f"A group named {name!r} already exists.", field="name")
            group.name = name
        if "description" in values:
            description = values["description"] or ""
            if len(description) > 10_000:
                raise Invalid("description must be at most 10000 characters", field="description")
            group.description = description
        if "status" in values:
            if values["status"] not in STATUSES:
                raise Invalid(f"status must be {' or '.join(STATUSES)}", field="status")
            group.status = values["status"]
