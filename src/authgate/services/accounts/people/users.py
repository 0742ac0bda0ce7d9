"""People who sign in: creation, lookup, password checks, and managing them (update, soft delete, restore).

Who may do what (see ``permissions``): ``view-users`` to read others, anyone may read themselves;
``create-users``, ``edit-users``, ``delete-users`` for the rest; a user may edit their own name,
email and password (the password only with the current one); only administrators touch
administrators; nobody deletes or deactivates themselves. Changing another user's password, email
or username also needs every permission that user holds: nobody takes over an account more
powerful than their own; nor does deleting or restoring one. Deleting a user is soft (restorable) and revokes
every token and session they have.

A password change or reset ends the user's other sessions and revokes their OAuth tokens (refresh
token families and their access tokens) at once; personal access tokens stay unless asked; so does a reset by
email link (``password_reset``) or accepting an invitation (``invitations``), through ``set_password``. A
password set by another (an administrator) or through an emailed link also ends the account's sign-in lockout.
Deactivating a user ends their sessions and revokes their OAuth tokens; their personal access
tokens are refused while they are inactive. Each of these also drops the sign-ins waiting for their second step. A username or email is one identifier namespace:
nobody's username or email may equal, case-insensitively, another user's username or email. A new address
is unverified until its owner opens the link mailed to it (``email_verification``); changing your own address
needs your current password, wherever you change it (profile, admin user page, API), administrators too.
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy.orm import Session

from authgate.security.passwords import Passwords, is_supported_hash
from authgate.services.accounts.email_links.account_links import INVITE, RESET, AccountLinks
from authgate.services.accounts.email_links.email_verification import EmailVerification
from authgate.services.accounts.people.password_policy import PasswordPolicy
from authgate.services.accounts.people.permissions import PermissionService
from authgate.services.accounts.people.principal import (ACTIVE, RECENT_SIGN_IN, SYSTEM, Principal, account_is_active,
                                                         has_usable_password)
from authgate.services.accounts.sessions.sessions import SessionService
from authgate.services.accounts.sign_in.lockout import Lockout, account_key
from authgate.services.caching import events
from authgate.services.credentials.personal_tokens import PersonalTokenService
from authgate.services.credentials.tokens import TokenService
from authgate.services.errors import Conflict, Forbidden, Invalid, NotFound
from authgate.services.operations import audit
from authgate.services.operations.listing import ListQuery, Page, paginate
from authgate.storage.models import User, identifier_key
from authgate.storage.repositories.users import UserStore
from authgate.storage.types import utcnow

class PendingSignIns(Protocol):
    def end_pending_of_user(self, s: Session, user_id: int) -> None:
        """Drop every sign-in of the user waiting for its second step."""


INACTIVE = "INACTIVE"
STATUSES = (ACTIVE, INACTIVE)
SELF_EDITABLE = frozenset({"email", "firstname", "lastname", "password"})
EDITABLE = frozenset({"username", "email", "firstname", "lastname", "password", "status", "is_administrator"})
IDENTIFIERS = ("username", "email")
SORTABLE = ("id", "username", "email", "firstname", "lastname", "status", "created_at", "updated_at")
PROFILE_EDITABLE = frozenset({"email", "firstname", "lastname"})
AUDITED_FIELDS = ("username", "email", "firstname", "lastname", "status", "is_administrator")
"""What ``user.updated`` names when it changes (by name only: the values of an address are not the log's; a
password change and a deactivation have their own events)."""
INVITED = "!invited"
"""The password hash of a user who has not accepted their invitation: no password matches it."""


FEDERATED = "!federated"
"""The password hash of a user made at a first sign-in through an identity provider: no password matches it."""


def awaits_invitation(user: User) -> bool:
    return user.password_hash == INVITED


def public_view(user: User) -> dict:
    """The user as the API shows it: never the password hash."""
    return {
        "id": user.id,
        "username": user.username,
        "email": user.email,
        "firstname": user.firstname,
        "lastname": user.lastname,
        "status": user.status,
        "is_administrator": user.is_administrator,
        "created_at": user.created_at.isoformat(),
        "updated_at": user.updated_at.isoformat(),
        "deleted_at": user.deleted_at.isoformat() if user.deleted_at else None,
        "email_verified_at": user.email_verified_at.isoformat() if user.email_verified_at else None,
    }


class UserService:
    def __init__(
        self, store: UserStore, passwords: Passwords, policy: PasswordPolicy, permissions: PermissionService,
        tokens: TokenService | None = None, personal_tokens: PersonalTokenService | None = None,
        sessions: SessionService | None = None, lockout: Lockout | None = None,
        verification: EmailVerification | None = None, links: AccountLinks | None = None,
        pending_sign_ins: PendingSignIns | None = None,
    ):
        self.store = store
        self.passwords = passwords
        self.lockout = lockout
        self.policy = policy
        self.permissions = permissions
        self.tokens = tokens
        self.personal_tokens = personal_tokens
        self.sessions = sessions
        self.verification = verification
        self.links = links
        self.pending_sign_ins = pending_sign_ins

    def create(
        self, s: Session, username: str, email: str, password: str | None, *, is_administrator: bool = False,
        firstname: str = "", lastname: str = "", status: str = ACTIVE, actor: Principal = SYSTEM,
        password_hash: str | None = None, invited: bool = False, verify_email: bool = True,
        federated: bool = False, email_verified: bool = False,
    ) -> User:
        """A new user, with ``password`` (checked against the policy), an imported ``password_hash``, or
        ``invited``: none yet (``invitations``). A new user's address (not an imported one's) is sent its
        verification link; an invitation verifies it instead. ``federated``: made at a first sign-in through an
        identity provider, with no password, the address verified when the provider said so (``email_verified``)."""
        self.permissions.require(s, actor, "create-users")
        if is_administrator:
            self.permissions.require_administrator(actor, "create an administrator")
        user = User(is_administrator=is_administrator)
        values = {"username": username, "email": email, "firstname": firstname, "lastname": lastname, "status": status}
        if federated:
            user.password_hash = FEDERATED
            user.email_verified_at = utcnow() if email_verified else None
        elif invited:
            user.password_hash = INVITED
        elif password_hash is None:
            values["password"] = password
        elif not is_supported_hash(password_hash):
            raise Invalid("password_hash must be a bcrypt ($2y$, $2b$) or argon2id hash", field="password_hash")
        else:
            user.password_hash = password_hash
        self._apply(s, user, values)
        self.store.add(s, user)
        if not (invited or federated):  # those have their own events
            self._record(s, "user.created", actor, user, {"is_administrator": True} if is_administrator else None)
        if self.verification and verify_email and password_hash is None and not invited and not federated:
            self.verification.address_set(s, user, new_user=True)
        return user

    def count(self, s: Session) -> int:
        return self.store.count(s)

    def get(self, s: Session, user_id: int) -> User | None:
        user = self.store.by_id(s, user_id)
        return user if user is not None and user.deleted_at is None else None

    def by_username(self, s: Session, username: str) -> User:
        user = self.store.by_username(s, username)
        if user is None:
            raise NotFound(f"no user named {username!r}")
        return user

    def by_email(self, s: Session, email: str) -> User | None:
        """The user (not deleted) whose email is ``email``, in any case; None if none, or if two share it."""
        key = identifier_key((email or "").strip()[:255])
        found = [u for u in self.store.find_by_login_key(s, key, limit=2) if u.email_key == key] if key else []
        return found[0] if len(found) == 1 else None

    def identifier_taken(self, s: Session, identifier: str) -> bool:
        """Whether any user (deleted ones too) signs in with ``identifier``, as a username or an email."""
        return self._taken(s, identifier, None)

    def accounts_named(self, s: Session, login: str) -> list[User]:
        """The users (not deleted) whose username or email is ``login``, in any case: whom a sign-in as
        ``login`` is about."""
        key = identifier_key((login or "").strip()[:255])
        if not key:
            return []
        return self.store.find_by_login_key(s, key, limit=2)

    def authenticate(self, s: Session, login: str, password: str) -> tuple[User, str | None] | None:
        """The active user whose username or email is ``login`` and whose password matches, with the
        password hashed again when its hash is of an older kind or cost (None: it needs no rehash).

        Only reads: the new hash is stored by ``store_rehash`` in the write transaction that follows.
        """
        login = (login or "").strip()
        user = self.store.find_for_sign_in(s, login, identifier_key(login)) if login else None
        if not self.passwords.verify(user.password_hash if user else None, password or ""):
            return None
        if not account_is_active(user):
            return None
        rehashed = self.passwords.hash(password) if self.passwords.needs_rehash(user.password_hash) else None
        return user, rehashed

    def store_rehash(self, s: Session, user: User, rehashed: str) -> None:
        """Store ``rehashed`` for ``user``, unless the password changed since it was checked; every
        worker's user cache then reloads the user, as after any change of the row."""
        if self.store.replace_password_hash(s, user.id, user.password_hash, rehashed):
            events.record(s, events.USER, [user.id])

    # -- managing users, with the rules of who may -------------------------------------------------

    def list(self, s: Session, actor: Principal, query: ListQuery, *, deleted: bool = False,
             status: str | None = None) -> Page:
        """A page of users (``deleted``: the deleted ones instead); ``status`` one of ``STATUSES`` keeps only those."""
        self.permissions.require(s, actor, "delete-users" if deleted else "view-users")
        sortable = (*SORTABLE, "deleted_at") if deleted else SORTABLE
        return paginate(query, sortable=sortable, default_order="username",
                        fetch=lambda checked: self.store.page(s, checked, deleted=deleted, status=status))

    def visible(self, s: Session, actor: Principal, user_id: int) -> User:
        """The user, if ``actor`` may see them: themselves, or anyone with ``view-users``."""
        if not self._is_self(actor, user_id):
            self.permissions.require(s, actor, "view-users")
        user = self.get(s, user_id)
        if user is None:
            raise NotFound(f"No user with id {user_id}.")
        return user

    def update(
        self, s: Session, actor: Principal, user_id: int, changes: dict, *, current_password: str | None = None,
        keep_session: str | None = None, revoke_personal_tokens: bool = False,
    ) -> User:
        """Apply ``changes``; a self change of password or email needs ``current_password`` (whoever acts: an
        administrator changing their own address too), so a token or a session left open that may write its user
        cannot move where the account's password resets go. After a password change every session but
        ``keep_session`` (the acting one, on a self change) ends."""
        user = self.editable(s, actor, user_id, changes)
        self_edit = self._is_self(actor, user_id)
        if self_edit and ("password" in changes or self._moves_email(user, changes)):
            self.check_current_password(user, current_password, actor)
        was_active = user.status == ACTIVE
        before = {name: getattr(user, name) for name in AUDITED_FIELDS}
        if "is_administrator" in changes and bool(changes["is_administrator"]) != user.is_administrator:
            self.permissions.require_administrator(actor, "make or unmake an administrator")
            if self_edit:
                raise Forbidden("You cannot take away your own administrator status.")
            user.is_administrator = bool(changes["is_administrator"])
        if self_edit and changes.get("status", user.status) != user.status:
            raise Forbidden("You cannot change your own status.")
        email_key = user.email_key
        self._apply(s, user, {k: v for k, v in changes.items() if k != "is_administrator"}, existing=user)
        if user.email_key != email_key and self.verification:
            self.verification.address_set(s, user)
        deactivated = was_active and user.status != ACTIVE
        if "password" in changes:
            self._password_changed(s, actor, user, keep_session if self_edit else None, revoke_personal_tokens)
        elif deactivated:
            self.end_sign_ins(s, user.id)
        if deactivated:
            self._record(s, "user.deactivated", actor, user)
        changed = [name for name in AUDITED_FIELDS
                   if getattr(user, name) != before[name] and not (deactivated and name == "status")]
        if changed:
            self._record(s, "user.updated", actor, user, {
                "changed": ",".join(changed), **{name: getattr(user, name) for name in ("status", "is_administrator")
                                                 if name in changed}})
        s.flush()
        return user

    def editable(self, s: Session, actor: Principal, user_id: int, changes: dict) -> User:
        """The user, once ``actor`` may make ``changes`` to them (``Forbidden``, ``NotFound``, ``Invalid``
        otherwise): yourself your names, email and password; others with ``edit-users``, administrators only
        by administrators, and a password, email, username or status only with every permission they hold."""
        unknown = set(changes) - EDITABLE
        if unknown:
            raise Invalid(f"These fields cannot be changed: {', '.join(sorted(unknown))}.", field=sorted(unknown)[0])
        self_edit = self._is_self(actor, user_id)
        if not (self_edit and set(changes) <= SELF_EDITABLE):
            self.permissions.require(s, actor, "edit-users")
        user = self.get(s, user_id)
        if user is None:
            raise NotFound(f"No user with id {user_id}.")
        if user.is_administrator and not self_edit:
            self.permissions.require_administrator(actor, "change an administrator")
        if not self_edit and self._takes_over(user, changes):
            self.permissions.require_over(s, actor, user, "change the password, email, username or status of")
        return user

    def update_own_details(self, s: Session, actor: Principal, changes: dict, current_password: str | None) -> User:
        """The signed-in user's names and address (the profile page); a new address needs the current password,
        so a session left open is not a way to move the account's password resets elsewhere."""
        if actor.user is None or set(changes) - PROFILE_EDITABLE:
            raise Invalid("Only your names and email can be changed here.")
        return self.update(s, actor, actor.user.id, changes, current_password=current_password)

    def set_password(self, s: Session, actor: Principal | None, user: User, password: str, *, via: str) -> None:
        """A new password for ``user`` from a flow that proved the right to set it (an emailed link: ``actor``
        None), with what every password change ends."""
        self._apply(s, user, {"password": password}, existing=user)
        self._password_changed(s, actor, user, None, False, via=via)

    def end_sign_ins(self, s: Session, user_id: int, keep: str | None = None) -> None:
        """What a password change, a deactivation or a deletion ends: the user's refresh-token families with their
        access tokens, every browser session but ``keep``, and the sign-ins waiting for their second step (each
        stands for a password proved before: the old one, or one typed while the account could still act)."""
        self.tokens.revoke_user(s, user_id)
        self.sessions.end_all(s, user_id, keep=keep)
        if self.pending_sign_ins is not None:
            self.pending_sign_ins.end_pending_of_user(s, user_id)

    def _password_changed(self, s: Session, actor: Principal | None, user: User, keep: str | None,
                          revoke_personal_tokens: bool, via: str | None = None) -> None:
        self.end_sign_ins(s, user.id, keep)
        if actor is None or not self._is_self(actor, user.id):
            self._unlock(s, user, second_step=actor is not None)
        if revoke_personal_tokens:
            self.personal_tokens.revoke_all(s, user.id)
        if self.links:
            self.links.forget(s, user.id, (RESET, INVITE))
        details = {"personal_tokens_revoked": revoke_personal_tokens, **({"via": via} if via else {})}
        self._record(s, "user.password_changed", actor, user, details)

    def _unlock(self, s: Session, user: User, *, second_step: bool) -> None:
        """A password set by someone else than the user (an administrator, the CLI) or through an emailed link
        (who holds the mailbox proved it) ends the lockout of wrong passwords, in every server process; an
        administrator's also ends the lockout of wrong second-step codes, which a link does not: control of the
        mailbox is no second factor."""
        if self.lockout is None:
            return
        if second_step:
            self.lockout.reset(user.id)
            events.record(s, events.UNLOCK, [user.id])
        else:
            self.lockout.reset_password_count(user.id)
            events.record(s, events.UNLOCK, [events.PASSWORD_ONLY + str(user.id)])

    @staticmethod
    def _record(s: Session, event: str, actor: Principal | None, user: User, details: dict | None = None) -> None:
        """An audit event about ``user``, naming who did it when it was someone else."""
        audit.record(s, event, actor=actor, user_id=user.id, subject=user.username,
                     details={**audit.by_whom(actor, user.id), **(details or {})})

    @staticmethod
    def _moves_email(user: User, changes: dict) -> bool:
        return "email" in changes and identifier_key((changes["email"] or "").strip()) != user.email_key

    @staticmethod
    def _takes_over(user: User, changes: dict) -> bool:
        """Whether ``changes`` set a password, or a username, email or status other than the user's own."""
        return "password" in changes or any(
            name in changes and str(changes[name] or "").strip() != getattr(user, name)
            for name in (*IDENTIFIERS, "status"))

    def check_current_password(self, user: User, current_password: str | None, actor: Principal) -> None:
        """A self change of password proves the old one: a token that may write the user is not the user.
        Wrong guesses count against the account as failed sign-ins do, so this is no way around the lockout.
        An account with no password here (made by a provider just in time) proves it is the user by a recent
        sign-in instead: a page session at most ``RECENT_SIGN_IN`` old, never a token."""
        if not has_usable_password(user):
            if actor.signed_in_recently(utcnow()):
                return
            minutes = int(RECENT_SIGN_IN.total_seconds() // 60)
            raise Invalid(f"Your account has no password here, so signing in proves it is you: sign out, sign in "
                          f"again, and do this within {minutes} minutes.", field="current_password")
        if not current_password:
            raise Invalid("Give your current password (current_password) to change your password or email.", field="current_password")
        keys, ip = [account_key(user.id)], audit.peer_ip()
        if self.lockout:
            self.lockout.check(keys, ip)
        if not self.passwords.verify(user.password_hash, current_password):
            if self.lockout:
                self.lockout.failed(keys, ip)
            raise Invalid("current_password is not your current password.", field="current_password")

    def delete(self, s: Session, actor: Principal, user_id: int) -> None:
        """Soft-delete the user and revoke, at once, every token and session they have."""
        self.permissions.require(s, actor, "delete-users")
        user = self.get(s, user_id)
        if user is None:
            raise NotFound(f"No user with id {user_id}.")
        if self._is_self(actor, user_id):
            raise Forbidden("You cannot delete yourself.")
        self.permissions.require_over(s, actor, user, "delete")
        user.deleted_at = utcnow()
        self.end_sign_ins(s, user.id)
        self.personal_tokens.revoke_all(s, user.id)
        self._record(s, "user.deleted", actor, user)
        s.flush()

    def restore(self, s: Session, actor: Principal, user_id: int) -> User:
        """Undo a delete; the user's old tokens stay revoked. As deleting them, it needs every permission the user
        holds: bringing back an account is handing its permissions out again."""
        self.permissions.require(s, actor, "delete-users")
        user = self.store.by_id(s, user_id)
        if user is None or user.deleted_at is None:
            raise NotFound(f"No deleted user with id {user_id}.")
        if user.is_administrator:
            self.permissions.require_administrator(actor, "restore an administrator")
        self.permissions.require_holds_all(s, actor, self.permissions.names_of_user(s, user), "restore a user holding")
        user.deleted_at = None
        s.flush()
        self._record(s, "user.restored", actor, user)
        return user

    @staticmethod
    def _is_self(actor: Principal, user_id: int) -> bool:
        return actor.user is not None and actor.user.id == user_id

    def _taken(self, s: Session, identifier: str, existing: User | None) -> bool:
        """Whether another user (deleted ones too: they may be restored) signs in with ``identifier``."""
        return self.store.identifier_taken(s, identifier_key(identifier), existing.id if existing else None)

    def _apply(self, s: Session, user: User, values: dict, existing: User | None = None) -> None:
        """Check and set user fields; ``Invalid``/``Conflict`` name the field at fault."""
        if "username" in values:
            username = (values["username"] or "").strip()
            if not username or len(username) > 255 or any(c.isspace() for c in username):
                raise Invalid("username must be 1 to 255 characters, without spaces", field="username")
            if self._taken(s, username, existing):
                raise Conflict(f"username {username!r} is already taken (as a username or an email)", field="username")
            user.username = username
        if "email" in values:
            email = (values["email"] or "").strip()
            local, _, domain = email.partition("@")
            if not local or not domain or len(email) > 255 or any(c.isspace() for c in email):
                raise Invalid("email must be an email address", field="email")
            if self._taken(s, email, existing):
                raise Conflict(f"email {email!r} is already in use (as a username or an email)", field="email")
            user.email = email
        for name in ("firstname", "lastname"):
            if name in values:
                value = (values[name] or "").strip()
                if len(value) > 255:
                    raise Invalid(f"{name} must be at most 255 characters", field=name)
                setattr(user, name, value)
        if "status" in values:
            if values["status"] not in STATUSES:
                raise Invalid(f"status must be {' or '.join(STATUSES)}", field="status")
            user.status = values["status"]
        if "password" in values:
            password = values["password"] or ""
            self.policy.check(password)
            user.password_hash = self.passwords.hash(password)
