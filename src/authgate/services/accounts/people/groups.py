"""Groups of users: they hold permissions for their members (see ``permissions``).

``view-groups``, ``create-groups``, ``edit-groups`` (which covers membership) and
``delete-groups`` decide who may do what; a non-administrator changes the members of a group, its status, or
deletes it only if they hold every permission the group gives, so neither joining nor losing a group changes
anyone's rights beyond the actor's own. ``view-groups`` shows who the members are (``MemberSummary``: id and
username); their email, names, status and the rest are personal data, which ``view-users`` shows (the user as
``/users`` has it), and without it a member list is neither searched nor sorted by them.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from authgate.services.accounts.people.permissions import PermissionService
from authgate.services.accounts.people.principal import Principal
from authgate.services.errors import Conflict, Invalid, NotFound
from authgate.services.operations import audit
from authgate.services.operations.listing import ListQuery, Page, paginate
from authgate.services.accounts.people.users import public_view as user_view
from authgate.storage.models import Group, GroupMember, User
from authgate.storage.repositories.groups import GroupStore
from authgate.storage.repositories.users import UserStore

STATUSES = ("ACTIVE", "INACTIVE")
MEMBER_TYPES = ("user", "ProcessMaker\\Models\\User")
EDITABLE = frozenset({"name", "description", "status"})
SORTABLE = ("id", "name", "description", "status", "created_at", "updated_at")
MEMBER_SORTABLE = ("id", "username", "email", "firstname", "lastname", "status")
SUMMARY_SORTABLE = ("id", "username")


@dataclass(frozen=True)
class MemberSummary:
    """A member as a holder of ``view-groups`` without ``view-users`` sees them."""

    id: int
    username: str

    @classmethod
    def of(cls, user: User) -> "MemberSummary":
        return cls(user.id, user.username)


def member_user_view(member: User | MemberSummary) -> dict:
    """A member of a group as the API shows them: the whole user, or the summary ``members`` gave."""
    if isinstance(member, MemberSummary):
        return {"id": member.id, "username": member.username}
    return user_view(member)


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
    def __init__(self, store: GroupStore, users: UserStore, permissions: PermissionService):
        self.store = store
        self.users = users
        self.permissions = permissions

    def list(self, s: Session, actor: Principal, query: ListQuery) -> Page:
        self.permissions.require(s, actor, "view-groups")
        return paginate(query, sortable=SORTABLE, default_order="name", fetch=lambda checked: self.store.page(s, checked))

    def get(self, s: Session, actor: Principal, group_id: int) -> Group:
        self.permissions.require(s, actor, "view-groups")
        return self._group(s, group_id)

    def create(self, s: Session, actor: Principal, values: dict) -> Group:
        self.permissions.require(s, actor, "create-groups")
        group = Group(description="", status="ACTIVE")
        self._apply(s, group, {"name": values.get("name"), **{k: v for k, v in values.items() if k != "name"}})
        self.store.add(s, group)
        audit.record(s, "group.created", actor=actor, subject=f"group:{group.name}", details={"group_id": group.id})
        return group

    def update(self, s: Session, actor: Principal, group_id: int, values: dict) -> Group:
        self.permissions.require(s, actor, "edit-groups")
        group = self._group(s, group_id)
        if values.get("status", group.status) != group.status:
            self._require_holds_group(s, actor, group, "activate or deactivate a group that gives")
        before = {name: getattr(group, name) for name in ("name", "description", "status")}
        self._apply(s, group, values, existing=group)
        s.flush()
        changed = [name for name, value in before.items() if getattr(group, name) != value]
        if changed:
            audit.record(s, "group.updated", actor=actor, subject=f"group:{group.name}", details={
                "group_id": group.id, "changed": ",".join(changed),
                **({"status": group.status} if "status" in changed else {})})
        return group

    def delete(self, s: Session, actor: Principal, group_id: int) -> None:
        """Delete the group, which takes what it gives from its members: only for someone who holds all of it."""
        self.permissions.require(s, actor, "delete-groups")
        group = self._group(s, group_id)
        self._require_holds_group(s, actor, group, "delete a group that gives")
        audit.record(s, "group.deleted", actor=actor, subject=f"group:{group.name}", details={"group_id": group.id})
        self.store.remove(s, group)

    def members(self, s: Session, actor: Principal, group_id: int, query: ListQuery) -> Page:
        """The group's users (not deleted ones), paged like any user list: ``User`` rows for a holder of
        ``view-users``, ``MemberSummary``s for anyone else."""
        self.permissions.require(s, actor, "view-groups")
        self._group(s, group_id)
        if self.permissions.allows(s, actor, "view-users"):
            return paginate(query, sortable=MEMBER_SORTABLE, default_order="username",
                            fetch=lambda checked: self.store.members_of(s, group_id, checked))
        page = paginate(query, sortable=SUMMARY_SORTABLE, default_order="username",
                        fetch=lambda checked: self.store.members_of(s, group_id, checked, personal=False))
        return page.map(MemberSummary.of)

    def add_member(self, s: Session, actor: Principal, group_id: int, member_id: int, member_type: str | None) -> GroupMember:
        self.permissions.require(s, actor, "edit-groups")
        if member_type is not None and member_type not in MEMBER_TYPES:
            raise Invalid("member_type must be user (groups cannot be members of groups here).", field="member_type")
        group = self._group(s, group_id, field="group_id")
        user = self.users.by_id(s, member_id)
        if user is None or user.deleted_at is not None:
            raise Invalid(f"No user with id {member_id}.", field="member_id")
        self._require_holds_group(s, actor, group, "add members to a group that gives")
        if self.store.membership(s, group_id, member_id) is not None:
            raise Conflict(f"User {member_id} is already a member of group {group_id}.", field="member_id")
        member = self.store.add_member(s, group_id, member_id)
        audit.record(s, "group.member_added", actor=actor, user_id=user.id, subject=user.username,
                     details={**audit.by_whom(actor, user.id), "group_id": group.id, "group": group.name})
        return member

    def remove_member(self, s: Session, actor: Principal, membership_id: int) -> None:
        self.permissions.require(s, actor, "edit-groups")
        member = self.store.membership_by_id(s, membership_id)
        if member is None:
            raise NotFound(f"No group membership with id {membership_id}.")
        group = self.store.by_id(s, member.group_id)
        self._require_holds_group(s, actor, group, "remove members from a group that gives")
        user = self.users.by_id(s, member.member_id)
        self.store.remove_membership(s, member)
        audit.record(s, "group.member_removed", actor=actor, user_id=member.member_id,
                     subject=user.username if user is not None else None,
                     details={**audit.by_whom(actor, member.member_id), "group_id": group.id, "group": group.name})

    def memberships_of(self, s: Session, actor: Principal, user_id: int) -> list[tuple[GroupMember, Group]]:
        """The groups a user belongs to, with the membership (whose id removes it), by group name."""
        self.permissions.require(s, actor, "view-groups")
        return self.store.memberships_of(s, user_id)

    def membership(self, s: Session, group_id: int, user_id: int) -> GroupMember | None:
        return self.store.membership(s, group_id, user_id)

    def _require_holds_group(self, s: Session, actor: Principal, group: Group, what: str) -> None:
        self.permissions.require_holds_all(s, actor, self.permissions.names_of_group(s, group), what)

    def _group(self, s: Session, group_id: int, field: str | None = None) -> Group:
        group = self.store.by_id(s, group_id)
        if group is None:
            if field:
                raise Invalid(f"No group with id {group_id}.", field=field)
            raise NotFound(f"No group with id {group_id}.")
        return group

    def _apply(self, s: Session, group: Group, values: dict, existing: Group | None = None) -> None:
        unknown = set(values) - EDITABLE
        if unknown:
            raise Invalid(f"These fields cannot be set: {', '.join(sorted(unknown))}.", field=sorted(unknown)[0])
        if "name" in values:
            name = (values["name"] or "").strip()
            if not name or len(name) > 255:
                raise Invalid("name must be 1 to 255 characters", field="name")
            if self.store.name_taken(s, name, existing.id if existing else None):
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
