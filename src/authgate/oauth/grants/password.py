"""The resource owner password credentials grant (RFC 6749 §4.3), for trusted first-party apps.

An account with a second factor is refused (``invalid_grant``, §5.2): this grant has no way to ask for the code.

The password is checked in the read transaction (``AUTHENTICATES_IN_READ``); what the check found
(its audit row, a rehash) is written with the tokens, or alone when the grant is refused.
"""

from __future__ import annotations

from authlib.oauth2.rfc6749 import InvalidGrantError, grants

from authgate.oauth.errors import TooManyRequestsError
from authgate.oauth.grants.base import AuthgateGrant
from authgate.services.accounts.login_guard import Attempt
from authgate.services.accounts.second_step import SECOND_FACTOR_NEEDED
from authgate.services.applications.grant_types import GrantSpec
from authgate.storage.models import User

SECOND_FACTOR_DESCRIPTION = ("This account has a second factor: a password alone is no longer enough. "
                             "Sign in through the browser (the authorization code flow) instead.")


class PasswordGrant(AuthgateGrant, grants.ResourceOwnerPasswordCredentialsGrant):
    SPEC = GrantSpec("password", "Password", urn="password", refreshable=True, alias="password_client")
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
        self.attempt = self.server.runtime.second_step.password_alone_refused(self.request.db, self.attempt)
        if self.attempt.event == SECOND_FACTOR_NEEDED:
            raise InvalidGrantError(SECOND_FACTOR_DESCRIPTION)
        return self.attempt.user

    def record_authentication(self) -> None:
        if self.attempt is not None:
            self.services.login_guard.record(self.request.db, self.attempt)
