"""The second-factor policy: its one row, the groups it names, and whether a user is a member of one of them."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from authgate.storage.models import FactorPolicy, FactorPolicyGroup, Group, GroupMember

POLICY_ROW = 1


class FactorPolicyStore(Protocol):
    def read(self, s: Session) -> tuple[str | None, list[Group]]:
        """What the policy requires (None: never set) and the groups it names, by name."""
    def requirement(self, s: Session) -> str | None:
        """What the policy requires, alone (None: never set)."""
    def write(self, s: Session, require: str, group_ids: list[int], now: datetime) -> None:
        """The policy becomes ``require`` with exactly these groups."""
    def groups_with_ids(self, s: Session, group_ids: list[int]) -> list[Group]: ...
    def groups_named(self, s: Session, names: list[str]) -> list[Group]: ...
    def is_member_of_named_group(self, s: Session, user_id: int) -> bool:
        """Whether the user belongs to a group the policy names."""


class SqlFactorPolicyStore:
    def read(self, s: Session) -> tuple[str | None, list[Group]]:
        row = s.get(FactorPolicy, POLICY_ROW)
        groups = list(s.scalars(select(Group).join(FactorPolicyGroup, FactorPolicyGroup.group_id == Group.id)
                                .order_by(Group.name)))
        return (row.require if row else None), groups

    def requirement(self, s: Session) -> str | None:
        return s.scalar(select(FactorPolicy.require).where(FactorPolicy.id == POLICY_ROW))

    def write(self, s: Session, require: str, group_ids: list[int], now: datetime) -> None:
        row = s.get(FactorPolicy, POLICY_ROW)
        if row is None:
            s.add(FactorPolicy(id=POLICY_ROW, require=require, updated_at=now))
        else:
            row.require, row.updated_at = require, now
        s.execute(delete(FactorPolicyGroup))
        if group_ids:
            s.execute(insert(FactorPolicyGroup), [{"group_id": group_id} for group_id in group_ids])
        s.flush()

    def groups_with_ids(self, s: Session, group_ids: list[int]) -> list[Group]:
        return list(s.scalars(select(Group).where(Group.id.in_(group_ids)))) if group_ids else []

    def groups_named(self, s: Session, names: list[str]) -> list[Group]:
        return list(s.scalars(select(Group).where(Group.name.in_(names)))) if names else []

    def is_member_of_named_group(self, s: Session, user_id: int) -> bool:
        return s.scalar(select(GroupMember.id).join(FactorPolicyGroup, FactorPolicyGroup.group_id == GroupMember.group_id)
                        .where(GroupMember.member_id == user_id).limit(1)) is not None
