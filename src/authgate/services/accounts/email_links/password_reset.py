"""Forgotten passwords: a link mailed to the account's address sets a new one.

Asking gives the same answer whether or not the name or address is an account's, and costs about the same
(the letter is sent after the answer, on the mail thread). An inactive or deleted account gets no letter.
Requests are limited per address (``AUTHGATE_LIMIT_FORGOT_PER_IP``, answered 429) and per account
(``AUTHGATE_LIMIT_FORGOT_PER_ACCOUNT``, silently: no more letters). The new password follows the password
policy and ends what any password change ends (``UserService.set_password``); the link then stops working,
as do the account's other reset links. It also proves the address, which counts as verified afterwards.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from authgate.services.accounts.email_links.account_links import RESET, AccountLinks, Issued
from authgate.services.accounts.people.principal import SYSTEM, Principal, account_is_active
from authgate.services.accounts.people.users import UserService
from authgate.services.errors import Invalid
from authgate.services.operations import audit
from authgate.services.operations.ratelimit import RateLimiter, TooManyAttempts
from authgate.settings import Settings
from authgate.storage.models import User
from authgate.storage.types import utcnow

LINK_GONE = "This link has expired or was already used. Ask for a new one."
PER_IP, PER_ACCOUNT = "forgot-ip", "forgot-account"


class PasswordReset:
    def __init__(self, settings: Settings, users: UserService, links: AccountLinks, limiter: RateLimiter):
        self.settings = settings
        self.users = users
        self.links = links
        self.limiter = limiter

    def request(self, s: Session, login: str, ip: str | None) -> None:
        """Mail a reset link to the active account whose username or email is ``login``, if there is one."""
        decision = self.limiter.hit(PER_IP, ip or "-", self.settings.mail.forgot_per_ip)
        if not decision.allowed:
            raise TooManyAttempts("Too many password reset requests from your address; try again later.",
                                  decision.retry_after)
        accounts = self.users.accounts_named(s, login) if "\x00" not in (login or "") else []
        if len(accounts) != 1 or not account_is_active(accounts[0]) or not self.links.mail_configured:
            return
        user = accounts[0]
        if not self.limiter.hit(PER_ACCOUNT, str(user.id), self.settings.mail.forgot_per_account).allowed:
            return
        self.links.issue(s, user, RESET)
        audit.record(s, "user.reset_link_sent", user_id=user.id, subject=user.username, details={"mailed": True})

    def link_for(self, s: Session, username: str, *, mail: bool, actor: Principal = SYSTEM) -> Issued:
        """A reset link for ``username`` made by the operator: mailed when ``mail`` (and mail is set up), and
        returned to print."""
        user = self.users.editable(s, actor, self.users.by_username(s, username).id, {"password": None})
        if not account_is_active(user):
            raise Invalid(f"{user.username!r} is inactive: activate the account first")
        issued = self.links.issue(s, user, RESET, mail=mail)
        audit.record(s, "user.reset_link_sent", actor=actor, user_id=user.id, subject=user.username,
                     details={"mailed": issued.mailed})
        return issued

    def pending(self, s: Session, token: str | None) -> User | None:
        """Whose password the link would reset, while it works."""
        found = self.links.open(s, RESET, token)
        return found[1] if found else None

    def reset(self, s: Session, token: str | None, password: str) -> User:
        found = self.links.open(s, RESET, token)
        if found is None or not self.links.spend(s, found[0]):
            raise Invalid(LINK_GONE, field="token")
        link, user = found
        self.users.set_password(s, None, user, password, via="reset_link")
        if user.email_verified_at is None:
            user.email_verified_at = utcnow()
        s.flush()
        return user
