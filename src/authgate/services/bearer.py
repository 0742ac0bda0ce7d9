"""The resource server's side: turn a bearer token (JWT access token or PAT) into a principal."""

from __future__ import annotations

import time
from datetime import timedelta

from joserfc import jws, jwt
from joserfc.errors import JoseError
from sqlalchemy import select

from authgate.security.secrets import PERSONAL_TOKEN_PREFIX
from authgate.services.keys import KeyService
from authgate.services.personal_tokens import PersonalTokenService
from authgate.services.principal import Principal
from authgate.services.tokens import AT_JWT_TYPE
from authgate.settings import Settings
from authgate.storage.db import Database
from authgate.storage.models import AccessToken, User
from authgate.storage.types import utcnow

MAX_TOKEN_LENGTH = 8192
LAST_USED_RESOLUTION = timedelta(minutes=1)


class InvalidToken(Exception):
    """The token is missing, malformed, expired, revoked or not ours (RFC 6750 §3.1 ``invalid_token``)."""


class BearerService:
    def __init__(self, settings: Settings, db: Database, keys: KeyService, personal_tokens: PersonalTokenService):
        self.settings = settings
        self.db = db
        self.keys = keys
        self.personal_tokens = personal_tokens

    def authenticate(self, token: str) -> Principal:
        if not token or len(token) > MAX_TOKEN_LENGTH:
            raise InvalidToken("The access token is malformed.")
        if token.startswith(PERSONAL_TOKEN_PREFIX):
            return self._personal(token)
        return self._jwt(token)

    def _personal(self, token: str) -> Principal:
        with self.db.session(write=False) as s:
            row = self.personal_tokens.find_live(s, token)
            user = s.get(User, row.user_id) if row else None
        if row is None or not _active(user):
            raise InvalidToken("The access token is invalid, expired or revoked.")
        now = utcnow()
        if row.last_used_at is None or now - row.last_used_at > LAST_USED_RESOLUTION:
            with self.db.session() as s:
                self.personal_tokens.touch(s, row.id, now)
        return Principal(user=user, client_id=None, scopes=tuple(row.scopes), kind="personal_access_token")

    def verified_claims(self, token: str) -> dict:
        """The claims of a JWT access token signed by one of our published keys, for us, unexpired."""
        if not token or len(token) > MAX_TOKEN_LENGTH:
            raise InvalidToken("The access token is malformed.")
        try:
            header = jws.extract_compact(token.encode()).headers()
            key = self.keys.public_key(str(header.get("kid", "")))
            if key is None or header.get("typ") != AT_JWT_TYPE:
                raise InvalidToken("The access token is invalid.")
            claims = jwt.decode(token, key, algorithms=[key.alg]).claims
        except (JoseError, ValueError, TypeError, KeyError):
            raise InvalidToken("The access token is malformed or its signature is invalid.") from None
        if claims.get("iss") != self.settings.issuer or claims.get("aud") != self.settings.issuer:
            raise InvalidToken("The access token was not issued for this server.")
        exp = claims.get("exp")
        if not isinstance(exp, int) or exp <= time.time():
            raise InvalidToken("The access token has expired.")
        return claims

    def _jwt(self, token: str) -> Principal:
        claims = self.verified_claims(token)
        with self.db.session(write=False) as s:
            record = s.scalar(select(AccessToken).where(AccessToken.jti == str(claims.get("jti"))))
            user = s.get(User, record.user_id) if record is not None and record.user_id is not None else None
        if record is None or record.revoked_at is not None:
            raise InvalidToken("The access token has been revoked.")
        if record.user_id is not None and not _active(user):
            raise InvalidToken("The access token's user is no longer active.")
        return Principal(
            user=user,
            client_id=str(claims.get("client_id")),
            scopes=tuple(str(claims.get("scope", "")).split()),
            kind="access_token",
        )


def _active(user: User | None) -> bool:
    return user is not None and user.deleted_at is None and user.status == "ACTIVE"
