"""The resource owner password credentials grant (RFC 6749 §4.3), for trusted first-party apps."""

from __future__ import annotations

from authlib.oauth2.rfc6749 import InvalidGrantError, grants

from authgate.oauth.grants.base import AuthgateGrant
from authgate.storage.models import User


class PasswordGrant(AuthgateGrant, grants.ResourceOwnerPasswordCredentialsGrant):
    def authenticate_user(self, username: str, password: str) -> User:
        user = self.server.runtime.users.authenticate(self.request.db, username, password)
        if user is None:
            raise InvalidGrantError("The username or password is incorrect.")
        return user
