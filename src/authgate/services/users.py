"""People who sign in: creation, lookup and password checks."""

from __future__ import annotations

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from authgate.security.passwords import Passwords, is_supported_hash
from authgate.services.password_policy import PasswordPolicy
from authgate.services.errors import Conflict, Invalid, NotFound
from authgate.storage.models import User

ACTIVE = "ACTIVE"


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
    }


class UserService:
    def __init__(self, passwords: Passwords, policy: PasswordPolicy):
        self.passwords = passwords
        self.policy = policy

    def create(
        self, s: Session, username: str, email: str, password: str | None, *, is_administrator: bool = False,
        password_hash: str | None = None,
    ) -> User:
        """A new user, with ``password`` (checked against the policy) or an imported ``password_hash``."""
        username, email = username.strip(), email.strip()
        if not username or len(username) > 255:
            raise Invalid("username must be 1 to 255 characters")
        if "@" not in email or len(email) > 255:
            raise Invalid("email must be an email address")
        if password_hash is None:
            self.policy.check(password or "")
        elif not is_supported_hash(password_hash):
            raise Invalid("password_hash must be a bcrypt ($2y$, $2b$) or argon2id hash")
        if s.scalar(select(User.id).where(func.lower(User.username) == username.lower())):
            raise Conflict(f"username {username!r} is already taken")
        if s.scalar(select(User.id).where(func.lower(User.email) == email.lower())):
            raise Conflict(f"email {email!r} is already in use")
        user = User(
            username=username,
            email=email,
            password_hash=password_hash or self.passwords.hash(password),
            is_administrator=is_administrator,
        )
        s.add(user)
        s.flush()
        return user

    def count(self, s: Session) -> int:
        return s.scalar(select(func.count(User.id))) or 0

    def get(self, s: Session, user_id: int) -> User | None:
        user = s.get(User, user_id)
        return user if user is not None and user.deleted_at is None else None

    def by_username(self, s: Session, username: str) -> User:
        user = s.scalar(select(User).where(User.username == username, User.deleted_at.is_(None)))
        if user is None:
            raise NotFound(f"no user named {username!r}")
        return user

    def authenticate(self, s: Session, login: str, password: str) -> User | None:
        """The active user whose username or email is ``login`` and whose password matches."""
        login = (login or "").strip()
        user = s.scalar(
            select(User).where(
                or_(User.username == login, func.lower(User.email) == login.lower()),
                User.deleted_at.is_(None),
            )
        ) if login else None
        if not self.passwords.verify(user.password_hash if user else None, password or ""):
            return None
        if user.status != ACTIVE:
            return None
        if self.passwords.needs_rehash(user.password_hash):
            user.password_hash = self.passwords.hash(password)
        return user
