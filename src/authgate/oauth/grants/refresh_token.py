"""The refresh token grant (RFC 6749 §6) with rotation and reuse detection (RFC 9700 §4.14.2).

Each refresh token works once. Everything that can refuse a refresh (client, token, scope, resources,
user) is checked before the token is claimed, so a refused request leaves it working. Presenting a
token that was already rotated revokes its whole family, except within a short grace window
(``AUTHGATE_REFRESH_GRACE_SECONDS``), where a client retrying after a lost response gets the same
new pair back; only until that new refresh token is used: after that, the old one's reuse is theft.
A refresh may name fewer of the grant's resources (RFC 8707 §2.2), never others; naming none, its
access token is for all of them, as the first one was.
"""

from __future__ import annotations

from authlib.oauth2.rfc6749 import InvalidGrantError, InvalidRequestError, grants

from authgate.oauth import resources as targets
from authgate.oauth.errors import DpopProofError
from authgate.oauth.grants import specs
from authgate.oauth.grants.base import AuthgateGrant
from authgate.oauth.models import OAuthRefreshToken
from authgate.services.credentials.token_policy import token_refusal
from authgate.storage.models import RefreshToken, TokenFamily, User
from authgate.storage.types import utcnow


class RefreshTokenGrant(AuthgateGrant, grants.RefreshTokenGrant):
    SPEC = specs.REFRESH_TOKEN
    INCLUDE_NEW_REFRESH_TOKEN = True

    def validate_token_request(self):
        client = self.request.client = self._validate_request_client()
        row = self._working_token(client)
        token = OAuthRefreshToken(row)
        self._validate_token_scope(token)
        self.target = targets.within_grant(self.services.resources, self.request.db, self.requested_resources(),
                                           self.family.resources, self.request.payload.scope or row.scope)
        user_id = row.user_id
        user = self.services.user_cache.get(self.request.db, user_id) if user_id is not None else None
        self.request.user = self.active_user(user)
        self.request.replayed = None if self._claimed(row) else self._retry_or_theft(row, client)
        self.request.refresh_token = token

    def _working_token(self, client) -> RefreshToken:
        """The presented token if it is this client's, unrevoked, in a live family and unexpired (rotated or not)."""
        presented = self.request.form.get("refresh_token")
        if not presented:
            raise InvalidRequestError("Missing 'refresh_token' in request.")
        found = self.services.tokens.find_refresh_token_with_family(self.request.db, presented)
        row, family = found if found else (None, None)
        if row is None or row.client_id != client.row.id:
            raise InvalidGrantError("The refresh token is invalid.")
        self.family = family
        if row.revoked_at is not None or token_refusal(in_family=True, family=family):
            raise InvalidGrantError("The refresh token has been revoked.")
        if row.expires_at <= utcnow():
            raise InvalidGrantError("The refresh token has expired.")
        if family.dpop_jkt and self.request.dpop_jkt != family.dpop_jkt:
            raise DpopProofError("invalid_dpop_proof", "This refresh token is bound to a DPoP key: send a proof "
                                 "signed by that key (RFC 9449 section 5).")
        return row

    def _claimed(self, row: RefreshToken) -> bool:
        """Mark the token rotated; False if it was already, or another request just did."""
        return self.services.tokens.claim_refresh_token(self.request.db, row)

    def _retry_or_theft(self, row: RefreshToken, client) -> dict:
        """The pair of the rotation, to a retry in the grace window; otherwise the reuse rule revoked the family."""
        replayed = self.services.tokens.rotated_refresh_presented(
            self.request.db, row, self.request.form["refresh_token"], client.get_client_id())
        if replayed is None:
            raise InvalidGrantError("The refresh token was already used; every token of this grant is now revoked.")
        return replayed

    def create_token_response(self):
        replayed = self.request.replayed
        if replayed is not None:
            return 200, replayed, self.TOKEN_RESPONSE_HEADER
        status, token, headers = super().create_token_response()
        row: RefreshToken = self.request.refresh_token.row
        self.services.tokens.remember_rotation(self.request.db, row, self.request.form["refresh_token"], token)
        return status, token, headers

    def authenticate_user(self, refresh_token: OAuthRefreshToken) -> User:
        """Already checked, before the token was claimed."""
        return self.request.user

    def revoke_old_credential(self, refresh_token: OAuthRefreshToken) -> None:
        """Nothing to do: the old token was marked rotated when it was accepted."""

    def token_family(self, user: User | None, scope: str) -> TokenFamily:
        return self.family
