"""The resource owner password credentials grant (RFC 6749 §4.3), for trusted first-party apps.

An account with a second factor is refused (``invalid_grant``, §5.2): this grant has no way to ask for the code;
so is an account the second-factor policy covers that has none yet (it must enrol first, in the browser).
Tokens it issues record ``amr`` ``pwd`` (RFC 8176) on their family.

The password is checked in the read transaction (``AUTHENTICATES_IN_READ``); what the check found
(its audit row, a rehash) is written with the tokens, or alone when the grant is refused.
"""

from __future__ import annotations

from authlib.oauth2.rfc6749 import InvalidGrantError, grants

from authgate.oauth.errors import TooManyRequestsError
from authgate.oauth.grants import specs
from authgate.oauth.grants.base import AuthgateGrant
from authgate.services.accounts.sign_in.login_guard import Attempt
from authgate.services.accounts.sign_in.second_step import ENROLMENT_NEEDED, PASSWORD_ONLY, SECOND_FACTOR_NEEDED
from authgate.storage.models import TokenFamily, User

SECOND_FACTOR_DESCRIPTION = ("This account has a second factor: a password alone is no longer enough. "
                             "Sign in through the browser (the authorization code flow) instead.")
ENROLMENT_DESCRIPTION = ("This account must set up a second factor before it can be used: a password alone is no "
                         "longer enough. Sign in through the browser once to set one up, then use the "
                         "authorization code flow.")


class PasswordGrant(AuthgateGrant, grants.ResourceOwnerPasswordCredentialsGrant):
    SPEC = specs.PASSWORD
    AUTHENTICATES_IN_READ = True
    attempt: Attempt | None = None

    @classmethod
    def enabled(cls, settings) -> bool:
        return settings.password_grant_enabled

    def authenticate_user(self, username: str, password: str) -> User:
        """Through the login guard: limited per IP, and per account after repeated failures."""
        self.attempt = self.services.login_guard.check(
            self.request.db, username, password, self.request.client_ip
        )
        if self.attempt.refused:
            raise TooManyRequestsError(str(self.attempt.refused), self.attempt.refused.retry_after)
        if self.attempt.user is None:
            raise InvalidGrantError("The username or password is incorrect.")
        self.attempt = self.services.second_step.password_alone_refused(self.request.db, self.attempt)
        if self.attempt.event == SECOND_FACTOR_NEEDED:
            raise InvalidGrantError(SECOND_FACTOR_DESCRIPTION)
        if self.attempt.event == ENROLMENT_NEEDED:
            raise InvalidGrantError(ENROLMENT_DESCRIPTION)
        return self.attempt.user

    def token_family(self, user: User | None, scope: str) -> TokenFamily:
        return self.services.tokens.start_family(self.request.db, self.request.client.row, user, self.SPEC.name,
                                                 scope, amr=" ".join(PASSWORD_ONLY), resources=self.granted_resources())

    def record_authentication(self) -> None:
        if self.attempt is not None:
            self.services.login_guard.record(self.request.db, self.attempt)
