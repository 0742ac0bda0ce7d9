"""Email verification: a user's address counts as verified (``email_verified_at``, OpenID Connect Core §5.1
``email_verified``) only once its owner opened the link mailed to it. A new address (a user created with one,
or an address changed) is unverified and gets a link; the user may ask for another from their profile.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from authgate.services.accounts.email_links.account_links import VERIFY, AccountLinks, Issued
from authgate.services.accounts.people.principal import Principal
from authgate.services.errors import Invalid
from authgate.services.operations import audit
from authgate.services.operations.ratelimit import RateLimiter, TooManyAttempts
from authgate.settings import Settings
from authgate.storage.models import User
from authgate.storage.types import utcnow

RESEND_LIMIT = "verify-resend"


class EmailVerification:
    def __init__(self, settings: Settings, links: AccountLinks, limiter: RateLimiter):
        self.settings = settings
        self.links = links
        self.limiter = limiter

    def address_set(self, s: Session, user: User, *, new_user: bool = False) -> None:
        """``user`` has a new address: unverified, with a link mailed to it (when mail is set up). A new user's row
        is left alone (it was never verified), so that making one changes no cached user."""
        if not new_user:
            user.email_verified_at = None
            self.links.forget(s, user.id, (VERIFY,))
        if self.links.mail_configured:
            self.issue(s, user)

    def issue(self, s: Session, user: User, *, mail: bool = True) -> Issued:
        issued = self.links.issue(s, user, VERIFY, mail=mail)
        audit.record(s, "user.verification_sent", user_id=user.id, subject=user.username,
                     details={"mailed": issued.mailed})
        return issued

    def resend(self, s: Session, actor: Principal) -> Issued:
        """A new link for the signed-in user's own address (a few per ``AUTHGATE_LIMIT_FORGOT_PER_ACCOUNT``)."""
        user = actor.user
        if user is None:
            raise Invalid("Only a person can verify their address.")
        if user.email_verified_at is not None:
            raise Invalid("Your address is verified already.", field="email")
        if not self.links.mail_configured:
            raise Invalid("Email is not set up on this server; ask an administrator.", field="email")
        decision = self.limiter.hit(RESEND_LIMIT, str(user.id), self.settings.mail.forgot_per_account)
        if not decision.allowed:
            raise TooManyAttempts("Too many verification emails were sent; try again later.", decision.retry_after)
        return self.issue(s, user)

    def pending(self, s: Session, token: str | None) -> User | None:
        """The user whose address the link verifies, while it works (the page that asks to confirm)."""
        found = self.links.open(s, VERIFY, token)
        return found[1] if found else None

    def verify(self, s: Session, token: str | None) -> User | None:
        """Mark the address verified and use the link up; None when the link does not work (any more)."""
        found = self.links.open(s, VERIFY, token)
        if found is None or not self.links.spend(s, found[0]):
            return None
        user = found[1]
        user.email_verified_at = utcnow()
        audit.record(s, "user.email_verified", user_id=user.id, subject=user.username)
        s.flush()
        return user
