"""Invitations: an administrator makes an account without a password, and its owner chooses one from the link
mailed to them (or printed by ``authgate users invite``). Accepting follows the password policy, uses the link
up and verifies the address the invitation was sent to. A new invitation may be sent while none was accepted.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from authgate.services.accounts.email_links.account_links import INVITE, AccountLinks, Issued
from authgate.services.accounts.email_links.password_reset import LINK_GONE
from authgate.services.accounts.people.principal import SYSTEM, Principal
from authgate.services.accounts.people.users import UserService, awaits_invitation
from authgate.services.errors import Invalid
from authgate.services.operations import audit
from authgate.storage.models import User
from authgate.storage.types import utcnow


class Invitations:
    def __init__(self, users: UserService, links: AccountLinks):
        self.users = users
        self.links = links

    def invite(self, s: Session, actor: Principal, username: str, email: str, *, firstname: str = "",
               lastname: str = "", is_administrator: bool = False, mail: bool = True) -> tuple[User, Issued]:
        """A new user without a password, and their invitation (``create-users``, as any new user)."""
        user = self.users.create(s, username, email, None, invited=True, firstname=firstname, lastname=lastname,
                                 is_administrator=is_administrator, actor=actor)
        return user, self._send(s, actor, user, mail)

    def reinvite(self, s: Session, actor: Principal, user_id: int, *, mail: bool = True) -> Issued:
        """A new invitation for a user who has not accepted one (the rules of setting their password)."""
        user = self.users.editable(s, actor, user_id, {"password": None})
        if not awaits_invitation(user):
            raise Invalid(f"{user.username!r} has a password already: send a password reset link instead")
        return self._send(s, actor, user, mail)

    def reinvite_named(self, s: Session, username: str, *, mail: bool, actor: Principal = SYSTEM) -> Issued:
        return self.reinvite(s, actor, self.users.by_username(s, username).id, mail=mail)

    def _send(self, s: Session, actor: Principal, user: User, mail: bool) -> Issued:
        issued = self.links.issue(s, user, INVITE, mail=mail)
        audit.record(s, "user.invited", actor=actor, user_id=user.id, subject=user.username,
                     details={"mailed": issued.mailed})
        return issued

    def pending(self, s: Session, token: str | None) -> User | None:
        found = self.links.open(s, INVITE, token)
        return found[1] if found else None

    def accept(self, s: Session, token: str | None, password: str) -> User:
        found = self.links.open(s, INVITE, token)
        if found is None or not self.links.spend(s, found[0]):
            raise Invalid(LINK_GONE.replace("Ask for a new one.", "Ask the administrator for a new one."),
                          field="token")
        link, user = found
        self.users.set_password(s, None, user, password, via="invitation")
        user.email_verified_at = utcnow()
        audit.record(s, "user.invitation_accepted", user_id=user.id, subject=user.username)
        s.flush()
        return user
