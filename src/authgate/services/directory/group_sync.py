"""The local groups an LDAP directory's groups stand for, joined and left at each sign-in through it.

Only the local groups named in the directory's mapping are its to manage: a user joins those their directory
groups map to and leaves the others of them; every other membership stays as it is. A mapped local group that does
not exist is skipped (and named in the audit row). Directory group names (``cn``) match in any case, as LDAP
compares them."""

from __future__ import annotations

from sqlalchemy.orm import Session

from authgate.services.directory.settings import DirectoryView
from authgate.services.operations import audit
from authgate.storage.models import User
from authgate.storage.repositories.groups import GroupStore


class GroupSync:
    def __init__(self, store: GroupStore):
        self.store = store

    def apply(self, s: Session, directory: DirectoryView, user: User, directory_groups: frozenset[str]
              ) -> tuple[list[str], list[str]]:
        """Join and leave the mapped groups for ``directory_groups``; the names joined and left (audited)."""
        if not directory.group_map:
            return [], []
        held = {name.lower() for name in directory_groups}
        wanted = {local for remote, local in directory.group_map.items() if remote.lower() in held}
        managed = sorted(set(directory.group_map.values()))
        groups = self.store.by_names(s, managed)
        joined, left = [], []
        for name in managed:
            group = groups.get(name)
            if group is None:
                continue
            member = self.store.membership(s, group.id, user.id)
            if name in wanted and member is None:
                self.store.add_member(s, group.id, user.id)
                joined.append(name)
            elif name not in wanted and member is not None:
                self.store.remove_membership(s, member)
                left.append(name)
        missing = [name for name in managed if name not in groups]
        if joined or left or missing:
            audit.record(s, "directory.groups_synced", user_id=user.id, subject=user.username,
                         details={"provider": directory.name, "joined": ",".join(joined), "left": ",".join(left),
                                  **({"missing": ",".join(missing)[:200]} if missing else {})})
        return joined, left
