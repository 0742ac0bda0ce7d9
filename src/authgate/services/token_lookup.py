"""A token presented back to the server (to revoke or introspect it): what it is, whether it still
works, who may manage it, and what may be said about it (RFC 7009, RFC 7662).

authgate's three token kinds cannot be mistaken for one another: refresh tokens start ``agr_``,
personal access tokens ``agp_``, and access tokens are JWTs signed by a key of ours. So a
``token_type_hint`` is never needed to find a token, and a wrong one cannot mislead the search.

Introspection asks ``memory_first``: a JWT access token whose principal the bearer cache holds is
found, judged and described from its verified claims with no query (``row`` is then None).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from authgate.security.secrets import PERSONAL_TOKEN_PREFIX, REFRESH_TOKEN_PREFIX, SecretHasher
from authgate.services import revocations
from authgate.services.bearer import BearerService, InvalidToken
from authgate.services.principal import Principal, account_is_active
from authgate.services.tokens import TokenService
from authgate.settings import Settings
from authgate.storage.db import ensure_database
from authgate.storage.models import AccessToken, Client, PersonalAccessToken, RefreshToken, TokenFamily, User
from authgate.storage.types import utcnow

ACCESS = "access_token"
REFRESH = "refresh_token"
PERSONAL = "personal_access_token"


@dataclass(frozen=True)
class Presented:
    kind: str
    row: AccessToken | RefreshToken | PersonalAccessToken | None
    claims: dict | None = None
    principal: Principal | None = None


def _seconds(when) -> int | None:
    return int(when.timestamp()) if when is not None else None


class TokenLookup:
    def __init__(self, settings: Settings, hasher: SecretHasher, bearer: BearerService, tokens: TokenService):
        self.settings = settings
        self.hasher = hasher
        self.bearer = bearer
        self.tokens = tokens

    def find(self, s: Session, token: str, memory_first: bool = False) -> Presented | None:
        """The token's record, whatever its state; None if it is not one of ours.

        ``memory_first``: a working JWT access token known to the bearer cache comes without its record,
        and one the cache knows does not work is None (it could only be described as inactive)."""
        if not token or len(token) > 8192:
            return None
        if token.startswith(REFRESH_TOKEN_PREFIX):
            row = self.tokens.find_refresh_token(s, token)
            return Presented(REFRESH, row) if row else None
        if token.startswith(PERSONAL_TOKEN_PREFIX):
            row = s.scalar(select(PersonalAccessToken).where(PersonalAccessToken.token_hash == self.hasher.hash(token)))
            return Presented(PERSONAL, row) if row else None
        if memory_first:
            try:
                cached = self.bearer.cached_access_token(token)
            except InvalidToken:
                return None
            if cached is not None:
                return Presented(ACCESS, None, *cached)
            ensure_database(s)
        try:
            claims = self.bearer.verified_claims(token)
        except InvalidToken:
            return None
        row = s.scalar(select(AccessToken).where(AccessToken.jti == str(claims.get("jti"))))
        return Presented(ACCESS, row, claims) if row else None

    def may_manage(self, presented: Presented, client: Client) -> bool:
        """A client manages the tokens issued to it, and the personal access tokens of its owner."""
        if presented.kind == PERSONAL:
            return client.owner_id is not None and client.owner_id == presented.row.user_id
        if presented.row is None:
            return presented.claims.get("client_id") == client.client_id
        return presented.row.client_id == client.id

    def is_active(self, s: Session, presented: Presented) -> bool:
        if presented.row is None:
            return presented.principal is not None
        row, now = presented.row, utcnow()
        if row.revoked_at is not None or (row.expires_at is not None and row.expires_at <= now):
            return False
        if presented.kind == REFRESH:
            family = s.get(TokenFamily, row.family_id)
            if row.rotated_at is not None or family is None or family.revoked_at is not None:
                return False
        return row.user_id is None or self._user(s, row.user_id) is not None

    def revoke(self, s: Session, presented: Presented) -> None:
        """Revoke the token; a refresh token takes its whole grant with it (RFC 7009 §2.1)."""
        row, now = presented.row, utcnow()
        if presented.kind == REFRESH:
            self.tokens.revoke_family(s, row.family_id)
        elif presented.kind == ACCESS:
            s.execute(update(AccessToken).where(AccessToken.jti == row.jti, AccessToken.revoked_at.is_(None)).values(revoked_at=now))
            revocations.record(s, revocations.JTI, [row.jti])
        else:
            s.execute(
                update(PersonalAccessToken)
                .where(PersonalAccessToken.id == row.id, PersonalAccessToken.revoked_at.is_(None))
                .values(revoked_at=now)
            )
            revocations.record(s, revocations.PAT, [row.id])

    def describe(self, s: Session, presented: Presented) -> dict:
        """What RFC 7662 §2.2 lets the server say about an active token."""
        if presented.row is None:
            return self._describe_from_claims(presented.claims, presented.principal.user)
        row = presented.row
        user = self._user(s, row.user_id) if row.user_id is not None else None
        scope = " ".join(row.scopes) if presented.kind == PERSONAL else row.scope
        info = {
            "active": True,
            "scope": scope,
            "iss": self.settings.issuer,
            "iat": _seconds(row.created_at),
            "token_type": REFRESH if presented.kind == REFRESH else "Bearer",
        }
        if row.expires_at is not None:
            info["exp"] = _seconds(row.expires_at)
        if presented.kind != PERSONAL:
            info["client_id"] = s.get(Client, row.client_id).client_id
        if user is not None:
            info["sub"] = str(user.id)
            info["username"] = user.username
        if presented.kind == ACCESS:
            claims = presented.claims
            info.update(sub=claims["sub"], aud=claims["aud"], iat=claims["iat"], exp=claims["exp"], jti=row.jti)
        return info

    def _describe_from_claims(self, claims: dict, user: User | None) -> dict:
        """As ``describe`` gives it from the record, field for field."""
        info = {"active": True, "scope": claims["scope"], "iss": self.settings.issuer, "iat": claims["iat"],
                "token_type": "Bearer", "exp": claims["exp"], "client_id": claims["client_id"]}
        if user is not None:
            info["sub"] = str(user.id)
            info["username"] = user.username
        info.update(sub=claims["sub"], aud=claims["aud"], iat=claims["iat"], exp=claims["exp"], jti=claims["jti"])
        return info

    def _user(self, s: Session, user_id: int) -> User | None:
        """The token's user if still active; remembered by the bearer cache, for the next introspection."""
        user = self.bearer.revocations.read_user(s, user_id)
        return user if account_is_active(user) else None
