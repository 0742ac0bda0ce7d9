"""The resource server's side: turn a bearer token (JWT access token or PAT) into a principal."""

from __future__ import annotations

import time
from dataclasses import dataclass

from joserfc import jws, jwt
from joserfc.errors import JoseError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from authgate.security.secrets import PERSONAL_TOKEN_PREFIX
from authgate.services.keys import KeyService
from authgate.services.personal_tokens import PersonalTokenService
from authgate.services.tokens import AT_JWT_TYPE
from authgate.settings import Settings
from authgate.storage.models import AccessToken, User
from authgate.storage.types import utcnow

MAX_TOKEN_LENGTH = 8192


class InvalidToken(Exception):
    """The token is missing, malformed, expired, revoked or not ours (RFC 6750 §3.1 ``invalid_token``)."""


@dataclass(frozen=True)
class Principal:
    user: User | None
    client_id: str | None
    scopes: tuple[str, ...]
    kind: str  # "access_token" or "personal_access_token"


class BearerService:
    def __init__(self, settings: Settings, keys: KeyService, personal_tokens: PersonalTokenService):
        self.settings = settings
        self.keys = keys
        self.personal_tokens = personal_tokens

    def authenticate(self, s: Session, session_factory, token: str) -> Principal:
        if not token or len(token) > MAX_TOKEN_LENGTH:
            raise InvalidToken("The access token is malformed.")
        if token.startswith(PERSONAL_TOKEN_PREFIX):
            return self._personal(s, token)
        return self._jwt(s, session_factory, token)

    def _personal(self, s: Session, token: str) -> Principal:
        row = self.personal_tokens.find_live(s, token)
        user = s.get(User, row.user_id) if row else None
        if row is None or user is None or user.deleted_at is not None or user.status != "ACTIVE":
            raise InvalidToken("The access token is invalid, expired or revoked.")
        s.execute(
            update(type(row)).where(type(row).id == row.id).values(last_used_at=utcnow())
        )
        return Principal(user=user, client_id=None, scopes=tuple(row.scopes), kind="personal_access_token")

    def _jwt(self, s: Session, session_factory, token: str) -> Principal:
        try:
            header = jws.extract_compact(token.encode()).headers()
            key = self.keys.public_key(session_factory, str(header.get("kid", "")))
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
        record = s.scalar(select(AccessToken).where(AccessToken.jti == str(claims.get("jti"))))
        if record is None or record.revoked_at is not None:
            raise InvalidToken("The access token has been revoked.")
        user = None
        if record.user_id is not None:
            user = s.get(User, record.user_id)
            if user is None or user.deleted_at is not None or user.status != "ACTIVE":
                raise InvalidToken("The access token's user is no longer active.")
        return Principal(
            user=user,
            client_id=str(claims.get("client_id")),
            scopes=tuple(str(claims.get("scope", "")).split()),
            kind="access_token",
        )
