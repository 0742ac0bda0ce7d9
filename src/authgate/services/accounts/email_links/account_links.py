"""Links mailed to users: each a random 256-bit token in a URL, stored only as its keyed hash, good once and for
a short time (``AUTHGATE_RESET_LINK_SECONDS``, ``..._VERIFY_...``, ``..._INVITE_...``), and only while the
account is active and its address is still the one the link was sent to. A new link of a kind replaces the
user's older ones of that kind. What a link does when opened is its flow's: ``password_reset``,
``email_verification``, ``invitations``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from authgate.security import secrets as gen
from authgate.security.secrets import SecretHasher
from authgate.services.accounts.people.principal import account_is_active
from authgate.services.operations.mail import Letter, Mailer, duration
from authgate.settings import Settings
from authgate.storage.models import AccountLink, User
from authgate.storage.repositories.account_links import AccountLinkStore
from authgate.storage.types import utcnow

RESET, VERIFY, INVITE = "reset", "verify", "invite"
PATHS = {RESET: "/password/reset", VERIFY: "/email/verify", INVITE: "/invitation"}
LETTERS = {RESET: "password_reset", VERIFY: "verify_email", INVITE: "invitation"}
MAX_TOKEN = 128


@dataclass(frozen=True)
class Issued:
    url: str
    expires_at: datetime
    mailed: bool
    """Whether a letter carrying it was queued (an SMTP server is set and sending was asked for)."""


def display_name(user: User) -> str:
    return " ".join(part for part in (user.firstname, user.lastname) if part) or user.username


class AccountLinks:
    def __init__(self, settings: Settings, hasher: SecretHasher, store: AccountLinkStore, mailer: Mailer):
        self.settings = settings
        self.hasher = hasher
        self.store = store
        self.mailer = mailer

    @property
    def mail_configured(self) -> bool:
        return self.mailer.configured

    def lifetime(self, purpose: str) -> int:
        mail = self.settings.mail
        return {RESET: mail.reset_link_seconds, VERIFY: mail.verify_link_seconds,
                INVITE: mail.invite_link_seconds}[purpose]

    def issue(self, s: Session, user: User, purpose: str, *, mail: bool = True) -> Issued:
        """A new link for ``user`` (their older ones of this kind stop working), mailed to their address after
        commit when ``mail`` and an SMTP server is set."""
        token, now = gen.generate(), utcnow()
        expires_at = now + timedelta(seconds=self.lifetime(purpose))
        self.store.spend_all(s, user.id, (purpose,), now)
        self.store.add(s, self.hasher.hash(token), user.id, purpose, user.email, now, expires_at)
        url = f"{self.settings.issuer}{PATHS[purpose]}?token={token}"
        mailed = mail and self.mailer.configured
        if mailed:
            self.mailer.queue(s, Letter(LETTERS[purpose], user.email, user.id, {
                "link": url, "name": display_name(user), "username": user.username, "email": user.email,
                "lifetime": duration(self.lifetime(purpose))}))
        return Issued(url, expires_at, mailed)

    def open(self, s: Session, purpose: str, token: str | None) -> tuple[AccountLink, User] | None:
        """The link of this kind with ``token`` and its user, while it may still be used."""
        if not token or len(token) > MAX_TOKEN:
            return None
        found = self.store.open(s, self.hasher.hash(token), purpose, utcnow())
        if found is None or not account_is_active(found[1]) or found[0].email != found[1].email:
            return None
        return found

    def spend(self, s: Session, link: AccountLink) -> bool:
        """Use the link up, with every other link of its kind of its user; False when a request at the same
        time did first."""
        now = utcnow()
        if not self.store.spend(s, link.id, now):
            return False
        self.store.spend_all(s, link.user_id, (link.purpose,), now)
        return True

    def forget(self, s: Session, user_id: int, purposes: tuple[str, ...]) -> None:
        """The user's unused links of these kinds stop working (an address changed, a password was set)."""
        self.store.spend_all(s, user_id, purposes, utcnow())
