"""A token presented back to the server (to revoke or introspect it): what it is, whether it still
works, who may manage it, and what may be said about it (RFC 7009, RFC 7662).

authgate's three token kinds cannot be mistaken for one another: refresh tokens start ``agr_``,
personal access tokens ``agp_``, and access tokens are JWTs signed by a key of ours. So a
``token_type_hint`` is never needed to find a token, and a wrong one cannot mislead the search.

Introspection first asks ``remembered`` (no session at all: ``oauth/endpoints/introspection.py``'s
memory-only introspector); with a session, ``find(memory_first=True)`` still describes a JWT access
token whose principal the bearer cache holds from its verified claims with no query (``row`` is then
None). The statements are the stores' (``storage/repositories/``).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from authgate.security.secrets import PERSONAL_TOKEN_PREFIX, REFRESH_TOKEN_PREFIX, SecretHasher
from authgate.services.accounts.people.principal import Principal, UserView, account_is_active
from authgate.services.accounts.sign_in.assurance import acr_of
from authgate.services.caching import events
from authgate.services.caching.users import UserCache
from authgate.services.credentials.bearer import MAX_TOKEN_LENGTH, BearerService, InvalidToken, bound_key
from authgate.services.credentials.token_policy import token_refusal
from authgate.services.credentials.tokens import TokenService
from authgate.services.operations import audit
from authgate.settings import Settings
from authgate.storage.models import AccessToken, Client, PersonalAccessToken, RefreshToken
from authgate.storage.repositories.clients import ClientStore
from authgate.storage.repositories.personal_tokens import PersonalTokenStore
from authgate.storage.repositories.tokens import TokenStore
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


INACTIVE = Presented(ACCESS, None)
"""A JWT access token that memory already knows does not work."""


def _authentication(amr: list[str] | None) -> dict:
    """``amr`` and ``acr`` of a token whose grant recorded how the user signed in: extension members of the
    introspection response (RFC 7662 §2.2), named as in ID tokens and JWT access tokens (RFC 9068 §2.2.1)."""
    return {"amr": list(amr), "acr": acr_of(amr)} if amr else {}


def _seconds(when) -> int | None:
    return int(when.timestamp()) if when is not None else None


class TokenLookup:
    def __init__(self, settings: Settings, hasher: SecretHasher, bearer: BearerService, tokens: TokenService,
                 users: UserCache, personal_token_store: PersonalTokenStore, client_store: ClientStore,
                 token_store: TokenStore):
        self.settings = settings
        self.hasher = hasher
        self.bearer = bearer
        self.tokens = tokens
        self.users = users
        self.personal_token_store = personal_token_store
        self.client_store = client_store
        self.token_store = token_store

    def remembered(self, token: str) -> Presented | None:
        """A JWT access token as memory knows it, without a session: working (claims and principal, no
        record), ``INACTIVE``, or None when only the database can tell (any other kind of token too)."""
        if not token or len(token) > MAX_TOKEN_LENGTH or token.startswith((REFRESH_TOKEN_PREFIX, PERSONAL_TOKEN_PREFIX)):
            return None
        try:
            cached = self.bearer.remembered_access_token(token)
        except InvalidToken:
            return INACTIVE
        return None if cached is None else Presented(ACCESS, None, *cached)

    def find(self, s: Session, token: str, memory_first: bool = False) -> Presented | None:
        """The token's record, whatever its state; None if it is not one of ours.

        ``memory_first``: a working JWT access token known to the bearer cache comes without its record,
        and one the cache knows does not work is None (it could only be described as inactive)."""
        if not token or len(token) > MAX_TOKEN_LENGTH:
            return None
        if token.startswith(REFRESH_TOKEN_PREFIX):
            row = self.tokens.find_refresh_token(s, token)
            return Presented(REFRESH, row) if row else None
        if token.startswith(PERSONAL_TOKEN_PREFIX):
            row = self.personal_token_store.by_hash(s, self.hasher.hash(token))
            return Presented(PERSONAL, row) if row else None
        if memory_first:
            known = self.remembered(token)
            if known is not None:
                return None if known is INACTIVE else known
        try:
            claims = self.bearer.verified_claims(token)
        except InvalidToken:
            return None
        row = self.token_store.access_token(s, str(claims.get("jti")))
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
        refresh = presented.kind == REFRESH
        if refresh and row.rotated_at is not None:
            return False
        family = self.token_store.family(s, row.family_id) if refresh else None
        user = self.users.read(s, row.user_id) if row.user_id is not None else None
        return token_refusal(in_family=refresh, family=family, for_user=row.user_id is not None, user=user) is None

    def revoke(self, s: Session, presented: Presented, *, actor: Principal | None = None,
               client_id: str | None = None) -> None:
        """Revoke the token; a refresh token takes its whole grant with it (RFC 7009 §2.1). Audited as
        ``token.revoked`` by ``actor`` (the CLI) or the client that asked (the revocation endpoint)."""
        row, now = presented.row, utcnow()
        audit.record(s, "token.revoked", actor=actor, client_id=client_id, user_id=getattr(row, "user_id", None),
                     details={"kind": presented.kind})
        if presented.kind == REFRESH:
            self.tokens.revoke_family(s, row.family_id)
        elif presented.kind == ACCESS:
            self.token_store.revoke_access_token(s, row.jti, now)
            events.record(s, events.JTI, [row.jti])
        else:
            self.personal_token_store.revoke(s, row.id, only_live=True)
            events.record(s, events.PAT, [row.id])

    def describe(self, s: Session, presented: Presented) -> dict:
        """What RFC 7662 §2.2 lets the server say about an active token."""
        if presented.row is None:
            return self.describe_remembered(presented)
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
            info["client_id"] = self.client_store.by_id(s, row.client_id).client_id
        if user is not None:
            info["sub"] = str(user.id)
            info["username"] = user.username
        if presented.kind == ACCESS:
            claims = presented.claims
            info.update(sub=claims["sub"], aud=claims["aud"], iat=claims["iat"], exp=claims["exp"], jti=row.jti)
            info.update(_authentication(claims.get("amr")))
            info.update(_binding(claims))
        elif presented.kind == REFRESH and user is not None:
            family = self.token_store.family(s, row.family_id)
            info.update(_authentication(family.amr.split() if family is not None and family.amr else None))
        return info

    def describe_remembered(self, presented: Presented) -> dict:
        """``describe`` for a token found by ``remembered``, from its claims: as the record gives it, field
        for field, with no session."""
        claims, user = presented.claims, presented.principal.user
        info = {"active": True, "scope": claims["scope"], "iss": self.settings.issuer, "iat": claims["iat"],
                "token_type": "Bearer", "exp": claims["exp"], "client_id": claims["client_id"]}
        if user is not None:
            info["sub"] = str(user.id)
            info["username"] = user.username
        info.update(sub=claims["sub"], aud=claims["aud"], iat=claims["iat"], exp=claims["exp"], jti=claims["jti"])
        info.update(_authentication(claims.get("amr")))
        info.update(_binding(claims))
        return info

    def _user(self, s: Session, user_id: int) -> UserView | None:
        """The token's user if still active; remembered by the user cache, for the next introspection."""
        user = self.users.read(s, user_id)
        return user if account_is_active(user) else None


def _binding(claims: dict) -> dict:
    """A DPoP-bound access token says so (RFC 9449 §6.2): its ``cnf`` and ``token_type`` DPoP."""
    return {"cnf": claims["cnf"], "token_type": "DPoP"} if bound_key(claims) else {}
