"""Named permissions (ProcessMaker's ``view-users``, ``edit-groups``, ...) and who may do what.

A user holds a permission when it is granted to them directly or to an active group they belong
to; an administrator holds every one. A client acting for itself (client credentials) holds no
user permissions; it may only read what ``SERVICE_ACCOUNT_READS`` lists, only when its client was
registered with that scope by name (a client registered with no scope list may ask for any scope,
which is not the same as being trusted with the directory), and only while whoever gave it that read
still may: the CLI, or a user who is active and an administrator or holds the permission behind it.

Nobody can give what they do not have: a non-administrator grants, removes or joins a group only
with permissions they hold themselves, and only administrators make or change administrators.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.orm import Session

from authgate.services.accounts.people.principal import Principal, account_is_active
from authgate.services.errors import Forbidden, Invalid, NotFound
from authgate.services.operations import audit
from authgate.services.operations.listing import ListQuery, Page, paginate
from authgate.storage.models import Client, Group, Permission, User
from authgate.storage.repositories.clients import ClientStore
from authgate.storage.repositories.groups import GroupStore
from authgate.storage.repositories.permissions import PermissionStore
from authgate.storage.repositories.users import UserStore

SERVICE_ACCOUNT_READS = {"view-users": "users:read", "view-groups": "groups:read"}
GRANTED_BY_SYSTEM = "system"
GRANTED_BY_USER = "user"
SORTABLE = ("id", "name", "title", "group")


def service_reads(grants: Iterable[str], scopes: Iterable[str]) -> set[str]:
    """The permissions a client's registration lets its client credentials tokens use."""
    if "client_credentials" not in grants:
        return set()
    scopes = set(scopes)
    return {name for name, scope in SERVICE_ACCOUNT_READS.items() if scope in scopes}


def public_view(permission: Permission) -> dict:
    return {"id": permission.id, "name": permission.name, "title": permission.title, "group": permission.category}


class PermissionService:
    def __init__(self, store: PermissionStore, users: UserStore, groups: GroupStore, clients: ClientStore):
        self.store = store
        self.users = users
        self.groups = groups
        self.clients = clients

    def names_of_user(self, s: Session, user: User) -> set[str]:
        """Permissions granted to ``user`` directly or through an active group (not administrator status)."""
        return self.store.effective_permissions(s, user.id)

    def names_of_group(self, s: Session, group: Group) -> set[str]:
        return self.store.group_permissions(s, group.id)

    def direct_names_of_user(self, s: Session, user: User) -> set[str]:
        return self.store.direct_permissions(s, user.id)

    def allows(self, s: Session, actor: Principal, name: str) -> bool:
        if actor.is_system:
            return True
        if actor.user is None:
            return self._service_account_may(s, actor, name)
        return actor.user.is_administrator or name in self.names_of_user(s, actor.user)

    def _service_account_may(self, s: Session, actor: Principal, name: str) -> bool:
        if name not in SERVICE_ACCOUNT_READS or actor.client_id is None:
            return False
        client = self.clients.by_client_id(s, actor.client_id)
        return client is not None and name in service_reads(client.grants, client.scopes) \
            and self.service_read_stands(s, client, name)

    def service_read_stands(self, s: Session, client: Client, name: str) -> bool:
        """Whoever gave ``client`` its directory read still could give ``name``."""
        if client.directory_granted_by == GRANTED_BY_SYSTEM:
            return True
        if client.directory_granted_by != GRANTED_BY_USER or client.directory_grantor_id is None:
            return False
        grantor = self.users.by_id(s, client.directory_grantor_id)
        if not account_is_active(grantor):
            return False
        return grantor.is_administrator or name in self.names_of_user(s, grantor)

    def lacking(self, s: Session, actor: Principal, names: Iterable[str]) -> list[str]:
        """Which of these permissions the actor does not hold (none for an administrator)."""
        if self.is_administrator(actor):
            return []
        return sorted(set(names) - (self.names_of_user(s, actor.user) if actor.user else set()))

    def require_may_give_service_reads(self, s: Session, actor: Principal, names: Iterable[str]) -> None:
        """Refuse letting a client read the directory with permissions the actor does not hold."""
        missing = self.lacking(s, actor, names)
        if missing:
            scopes = " / ".join(SERVICE_ACCOUNT_READS[name] for name in missing)
            raise Forbidden(
                f"Only an administrator, or someone who holds {' and '.join(missing)} themselves, may let a client "
                f"read the directory with client credentials ({scopes}); you lack: {', '.join(missing)}. "
                "Leave out the client_credentials grant or those scopes, or ask an administrator.",
                field="scopes")

    def require(self, s: Session, actor: Principal, name: str) -> None:
        if not self.allows(s, actor, name):
            if actor.is_service_account and name in SERVICE_ACCOUNT_READS:
                raise Forbidden(
                    f"A client credentials token acts for no user; it may use {name} only while its client holds "
                    f"{SERVICE_ACCOUNT_READS[name]} by name and the client_credentials grant, given by an "
                    f"administrator or a holder of {name} who still may.")
            raise Forbidden(self._why_not(actor, f"the permission {name}"))

    def require_user(self, actor: Principal) -> User | None:
        """The acting user; a client credentials token is refused (it acts for no user)."""
        if actor.is_service_account:
            raise Forbidden(
                "This endpoint acts for a user, and a client credentials token has none: "
                "use a token issued to a user (authorization code, password or personal access token)."
            )
        return actor.user

    def require_administrator(self, actor: Principal, what: str) -> None:
        if actor.is_system or (actor.user is not None and actor.user.is_administrator):
            return
        raise Forbidden(f"Only an administrator may {what}.")

    def is_administrator(self, actor: Principal) -> bool:
        return actor.is_system or (actor.user is not None and actor.user.is_administrator)

    def require_holds_all(self, s: Session, actor: Principal, names: Iterable[str], what: str) -> None:
        """Refuse a non-administrator who would hand out (or take away) permissions they lack."""
        missing = self.lacking(s, actor, names)
        if missing:
            raise Forbidden(f"You may only {what} permissions you hold yourself; you lack: {', '.join(missing)}.")

    def require_over(self, s: Session, actor: Principal, user: User, what: str) -> None:
        """The one rule for acting on another user's account or what they own (their password, email, username,
        status, sessions, second factors, clients): an administrator's only by an administrator, anyone
        else's only holding every permission they hold, so nobody takes over, locks out or weakens an account
        more powerful than their own. ``what``: the act, as in "reset the second factors of"."""
        if user.is_administrator:
            self.require_administrator(actor, f"{what} an administrator")
        missing = self.lacking(s, actor, self.names_of_user(s, user))
        if missing:
            raise Forbidden(f"You may only {what} a user who holds no permission you lack; they hold: "
                            f"{', '.join(missing)}.")

    def require_over_owner(self, s: Session, actor: Principal, owner_id: int | None, what: str) -> None:
        """``require_over`` for what a user owns (a client): nothing to check when it has no owner, the actor
        owns it, or its owner's account was deleted (it holds no rights to protect)."""
        if owner_id is None or actor.is_system or (actor.user is not None and actor.user.id == owner_id):
            return
        owner = self.users.by_id(s, owner_id)
        if owner is not None and owner.deleted_at is None:
            self.require_over(s, actor, owner, what)

    @staticmethod
    def _why_not(actor: Principal, needed: str) -> str:
        if actor.is_service_account:
            return f"A client credentials token acts for no user and does not hold {needed}."
        return f"You need {needed}."

    def list(self, s: Session, query: ListQuery, *, user_id: int | None = None, group_id: int | None = None) -> Page:
        return paginate(query, sortable=SORTABLE, default_order="id",
                        fetch=lambda checked: self.store.page(s, checked, user_id=user_id, group_id=group_id))

    def catalog(self, s: Session, names: Iterable[str]) -> list[Permission]:
        """The permissions named, refusing unknown names."""
        names = list(dict.fromkeys(names))
        rows = self.store.named(s, names)
        unknown = sorted(set(names) - {p.name for p in rows})
        if unknown:
            known = ", ".join(self.store.all_names(s))
            raise Invalid(f"Unknown permission: {', '.join(unknown)}. Known permissions: {known}.",
                          field="permission_names")
        return rows

    def assign(
        self, s: Session, actor: Principal, *, user_id: int | None = None, group_id: int | None = None,
        names: list[str] | None = None, is_administrator: bool | None = None,
    ) -> None:
        """Set the permissions a user or group holds directly to exactly ``names`` (as ProcessMaker's sync)."""
        if (user_id is None) == (group_id is None):
            raise Invalid("Give either user_id or group_id.", field="user_id" if user_id is None else "group_id")
        if group_id is not None and is_administrator is not None:
            raise Invalid("is_administrator applies to users, not groups.", field="is_administrator")
        if user_id is not None:
            self.require(s, actor, "edit-users")
            target = self.users.by_id(s, user_id)
            if target is None or target.deleted_at is not None:
                raise NotFound(f"No user with id {user_id}.")
            if target.is_administrator or is_administrator:
                self.require_administrator(actor, "change an administrator's permissions or make an administrator")
            current = self.direct_names_of_user(s, target)
        else:
            self.require(s, actor, "edit-groups")
            target = self.groups.by_id(s, group_id)
            if target is None:
                raise NotFound(f"No group with id {group_id}.")
            current = self.names_of_group(s, target)
        details = audit.by_whom(actor, user_id) if user_id is not None else {}  # else the row's user is the actor
        changed = {}
        if names is not None:
            wanted = self.catalog(s, names)
            self.require_holds_all(s, actor, current ^ {p.name for p in wanted}, "grant or remove")
            self._sync(s, target, wanted)
            added, removed = {p.name for p in wanted} - current, current - {p.name for p in wanted}
            changed.update({k: ",".join(sorted(v)) for k, v in (("added", added), ("removed", removed)) if v})
        if is_administrator is not None:
            if actor.user is not None and actor.user.id == target.id and not is_administrator:
                raise Invalid("You cannot take away your own administrator status.", field="is_administrator")
            if target.is_administrator != is_administrator:
                changed["is_administrator"] = is_administrator
            target.is_administrator = is_administrator
        if changed:
            audit.record(s, "permissions.changed", actor=actor, user_id=user_id,
                         subject=target.username if user_id is not None else f"group:{target.name}",
                         details={**details, **changed})

    def _sync(self, s: Session, target: User | Group, wanted: list[Permission]) -> None:
        if isinstance(target, User):
            self.store.replace_user_permissions(s, target.id, [p.id for p in wanted])
        else:
            self.store.replace_group_permissions(s, target.id, [p.id for p in wanted])
