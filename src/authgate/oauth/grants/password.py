"""The resource owner password credentials grant (RFC 6749 §4.3), for trusted first-party apps."""

from __future__ import annotations

from authlib.oauth2.rfc6749 import InvalidGrantError, grants

from authgate.oauth.errors import TooManyRequestsError
from authgate.oauth.grants.base import AuthgateGrant
from authgate.services.grant_types import GrantSpec
from authgate.services.login_guard import TooManyAttempts
from authgate.storage.models import User


class PasswordGrant(AuthgateGrant, grants.ResourceOwnerPasswordCredentialsGrant):
    SPEC = GrantSpec("password", "Password", urn="password", refreshable=True, alias="password_client")

    @classmethod
    def enabled(cls, settings) -> bool:
        return settings.password_grant_enabled

    def authenticate_user(self, username: str, password: str) -> User:
        """Through the login guard: limited per IP, and per account after repeated failures."""
        try:
            user = self.server.runtime.login_guard.authenticate(
                self.request.db, username, password, self.request.client_ip
            )
        except TooManyAttempts as error:
            raise TooManyRequestsError(str(error), error.retry_after) from None
        if user is None:
            raise InvalidGrantError("The username or password is incorrect.")
        return user
