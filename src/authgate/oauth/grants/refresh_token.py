"""The refresh token grant (RFC 6749 §6) with rotation and reuse detection (RFC 9700 §4.14.2).

Each refresh token works once; presenting one that was already rotated revokes its whole family,
except within a short grace window (``AUTHGATE_REFRESH_GRACE_SECONDS``), where a client retrying
after a lost response gets the same new pair back instead of losing its session.
"""

from __future__ import annotations

from authlib.oauth2.rfc6749 import InvalidGrantError, InvalidRequestError, grants

from authgate.oauth.grants.base import AuthgateGrant
from authgate.oauth.models import OAuthRefreshToken
from authgate.services import audit
from authgate.storage.models import RefreshToken, TokenFamily, User
from authgate.storage.types import utcnow


class RefreshTokenGrant(AuthgateGrant, grants.RefreshTokenGrant):
    INCLUDE_NEW_REFRESH_TOKEN = True

    def _validate_request_token(self, client) -> OAuthRefreshToken:
        presented = self.request.form.get("refresh_token")
        if not presented:
            raise InvalidRequestError("Missing 'refresh_token' in request.")
        db, tokens = self.request.db, self.server.runtime.tokens
        row = tokens.find_refresh_token(db, presented)
        if row is None or row.client_id != client.row.id:
            raise InvalidGrantError("The refresh token is invalid.")
        family = self.family = db.get(TokenFamily, row.family_id)
        if row.revoked_at is not None or family is None or family.revoked_at is not None:
            raise InvalidGrantError("The refresh token has been revoked.")
        if row.expires_at <= utcnow():
            raise InvalidGrantError("The refresh token has expired.")
        if row.rotated_at is None and tokens.claim_refresh_token(db, row):
            return OAuthRefreshToken(row)
        db.refresh(row)
        self.request.replayed = tokens.replay_rotation(row, presented)
        if self.request.replayed is None:
            tokens.revoke_family(db, row.family_id)
            audit.record(db, "token.reuse_detected", user_id=row.user_id, client_id=client.get_client_id(),
                         details={"family": row.family_id})
            raise InvalidGrantError("The refresh token was already used; every token of this grant is now revoked.")
        return OAuthRefreshToken(row)

    def create_token_response(self):
        replayed = getattr(self.request, "replayed", None)
        if replayed is not None:
            return 200, replayed, self.TOKEN_RESPONSE_HEADER
        status, token, headers = super().create_token_response()
        row: RefreshToken = self.request.refresh_token.row
        self.server.runtime.tokens.remember_rotation(self.request.db, row, self.request.form["refresh_token"], token)
        return status, token, headers

    def authenticate_user(self, refresh_token: OAuthRefreshToken) -> User | None:
        """The token's user, from the bearer cache (which forgets a changed user), and remembered there."""
        user = self.server.runtime.revocations.user(self.request.db, refresh_token.row.user_id)
        return user if user is not None and user.deleted_at is None else None

    def revoke_old_credential(self, refresh_token: OAuthRefreshToken) -> None:
        """Nothing to do: the old token was marked rotated when it was accepted."""

    def token_family(self, user: User | None, scope: str) -> TokenFamily:
        return self.family
