"""Who must have a second factor: nobody (``off``), ``everyone``, ``administrators``, or the members of chosen
``groups``. One setting, in the database (``factor_policy``), so an administrator changes it at runtime on the
page, the API or the CLI and every server process applies it at the next sign-in; each change is audited.

A user the policy covers who has no second factor is taken through enrolment at their next sign-in
(``SecondStep.after_password``) and the password grant refuses them. Membership of a named group counts whatever
the group's status: a requirement does not lapse because a group was deactivated. Only administrators (and the
operator at the CLI) read or change the policy.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from authgate.services.accounts.people.permissions import PermissionService
from authgate.services.accounts.people.principal import Principal
from authgate.services.errors import Invalid
from authgate.services.operations import audit
from authgate.storage.models import User
from authgate.storage.repositories.factor_policy import FactorPolicyStore
from authgate.storage.types import utcnow

OFF = "off"
EVERYONE = "everyone"
ADMINISTRATORS = "administrators"
GROUPS = "groups"
REQUIRES = (OFF, EVERYONE, ADMINISTRATORS, GROUPS)


@dataclass(frozen=True)
class PolicyGroup:
    id: int
    name: str


@dataclass(frozen=True)
class SecondFactorPolicy:
    require: str
    groups: tuple[PolicyGroup, ...] = ()

    def view(self) -> dict:
        return {"require": self.require, "groups": [{"id": g.id, "name": g.name} for g in self.groups]}


class FactorPolicyService:
    def __init__(self, store: FactorPolicyStore, permissions: PermissionService):
        self.store = store
        self.permissions = permissions

    def current(self, s: Session, actor: Principal) -> SecondFactorPolicy:
        self.permissions.require_administrator(actor, "see the second-factor policy")
        return self._read(s)

    def change(self, s: Session, actor: Principal, require: str, *, group_ids: list[int] | None = None,
               group_names: list[str] | None = None) -> SecondFactorPolicy:
        """Set the policy; ``groups`` needs at least one group (by id or by name), the others none."""
        self.permissions.require_administrator(actor, "change the second-factor policy")
        if require not in REQUIRES:
            raise Invalid(f"require must be one of {', '.join(REQUIRES)}.", field="require")
        groups = self._groups(s, list(dict.fromkeys(group_ids or [])), list(dict.fromkeys(group_names or [])))
        if require == GROUPS and not groups:
            raise Invalid("Choose at least one group whose members must have a second factor.", field="group_ids")
        if require != GROUPS and groups:
            raise Invalid(f"Groups are chosen only when require is {GROUPS!r}.", field="group_ids")
        before = self._read(s)
        self.store.write(s, require, [g.id for g in groups], utcnow())
        after = self._read(s)
        audit.record(s, "factor_policy.changed", actor=actor, subject=require, details={
            "require": require, "groups": ",".join(g.name for g in after.groups), "before": before.require})
        return after

    def covers(self, s: Session, user: User) -> bool:
        """Must ``user`` have a second factor under the policy of the moment?"""
        require = self.store.requirement(s)
        if require == EVERYONE:
            return True
        if require == ADMINISTRATORS:
            return bool(user.is_administrator)
        if require == GROUPS:
            return self.store.is_member_of_named_group(s, user.id)
        return False

    def _read(self, s: Session) -> SecondFactorPolicy:
        require, groups = self.store.read(s)
        return SecondFactorPolicy(require or OFF, tuple(PolicyGroup(g.id, g.name) for g in groups))

    def _groups(self, s: Session, ids: list[int], names: list[str]) -> list:
        found = self.store.groups_with_ids(s, ids) + self.store.groups_named(s, names)
        missing = [str(i) for i in ids if i not in {g.id for g in found}] \
            + [n for n in names if n not in {g.name for g in found}]
        if missing:
            raise Invalid(f"No group {', '.join(missing)}.", field="group_ids")
        return list({g.id: g for g in found}.values())
