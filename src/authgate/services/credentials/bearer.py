"""The resource server's side: turn a bearer token (JWT access token or PAT) into a principal.

Two halves, each asked at most once per request (``web/bearer.py``):

- ``from_memory`` is the hot path and never touches the database: it verifies a JWT with the cached
  public keys (remembering tokens already verified) and asks the caches (``services/caching/``)
  whether its ``jti``, client or user was revoked; a PAT is found by its HMAC in a short-lived cache.
  It answers None when it would need the database (a user or PAT not cached yet, an unknown ``kid``,
  a stale bus).
- ``from_database`` does the same check with at most one query, and fills the caches.

Either accepts any unexpired token this server signed, whatever resources it was asked for; whether
authgate's own API takes it is ``for_own_api`` (the audience rule), a comparison on the claims it
already holds, so it costs the hot path nothing.

The statements are the stores' (``storage/repositories/``).
"""

from __future__ import annotations

import time

from joserfc import jws, jwt
from joserfc.errors import JoseError

from authgate.security.secrets import PERSONAL_TOKEN_PREFIX, SecretHasher
from authgate.services.accounts.people.principal import Principal, UserView
from authgate.services.applications.resources import own_api_identifier
from authgate.services.caching.bounded import Bounded
from authgate.services.caching.bus import InvalidationBus
from authgate.services.caching.personal_tokens import PersonalTokenCache, PersonalTokenView
from authgate.services.caching.revoked import RevokedCache
from authgate.services.caching.users import UserCache
from authgate.services.credentials.keys import KeyService
from authgate.services.credentials.token_policy import CLIENT_GONE, USER_INACTIVE, token_refusal
from authgate.services.credentials.tokens import AT_JWT_TYPE
from authgate.settings import Settings
from authgate.storage.db import Database
from authgate.storage.repositories.personal_tokens import PersonalTokenStore
from authgate.storage.repositories.tokens import TokenStore
from authgate.storage.repositories.users import UserStore
from authgate.storage.types import utcnow

MAX_TOKEN_LENGTH = 8192
NEEDS_DATABASE = object()


REFUSED = {CLIENT_GONE: "The access token has been revoked.",
           USER_INACTIVE: "The access token's user is no longer active."}


def bound_key(claims: dict) -> str | None:
    """The DPoP key thumbprint a JWT access token is bound to (``cnf.jkt``, RFC 9449 §6.1), if any."""
    confirmation = claims.get("cnf")
    jkt = confirmation.get("jkt") if isinstance(confirmation, dict) else None
    return str(jkt) if jkt else None


class InvalidToken(Exception):
    """The token is missing, malformed, expired, revoked or not ours (RFC 6750 §3.1 ``invalid_token``)."""


class BearerService:
    def __init__(self, settings: Settings, db: Database, keys: KeyService, hasher: SecretHasher,
                 bus: InvalidationBus, users: UserCache, personal_tokens: PersonalTokenCache, revoked: RevokedCache,
                 user_store: UserStore, personal_token_store: PersonalTokenStore, token_store: TokenStore):
        self.settings = settings
        self.db = db
        self.keys = keys
        self.hasher = hasher
        self.bus = bus
        self.users = users
        self.personal_tokens = personal_tokens
        self.revoked = revoked
        self.user_store = user_store
        self.personal_token_store = personal_token_store
        self.token_store = token_store
        self._verified = Bounded()
        self.own_api = own_api_identifier(settings.issuer)

    def from_memory(self, token: str) -> Principal | None:
        """The principal, from memory only; None when the database must be asked (``from_database``)."""
        if not token or len(token) > MAX_TOKEN_LENGTH:
            raise InvalidToken("The access token is malformed.")
        if not self.bus.fresh():
            return None
        if token.startswith(PERSONAL_TOKEN_PREFIX):
            row = self.personal_tokens.cached(self.hasher.hash(token))
            if row is None:
                return None
            user = self.users.cached(row.user_id)
            return None if user is None else self._personal_principal(row, user)
        cached = self._cached_jwt(token)
        return None if cached is None else cached[1]

    def remembered_access_token(self, token: str) -> tuple[dict, Principal] | None:
        """A JWT access token's claims and principal from memory; None when the database must be asked.

        Raises ``InvalidToken`` when memory already knows the token does not work."""
        if not token or len(token) > MAX_TOKEN_LENGTH or token.startswith(PERSONAL_TOKEN_PREFIX):
            return None
        if not self.bus.fresh():
            return None
        return self._cached_jwt(token)

    def _cached_jwt(self, token: str) -> tuple[dict, Principal] | None:
        claims = self._claims(token, reload_keys=False)
        if claims is None:
            return None
        principal = self._jwt_principal(claims, lambda user_id: self.users.cached(user_id) or NEEDS_DATABASE)
        return None if principal is None else (claims, principal)

    def for_own_api(self, principal: Principal) -> bool:
        """The audience rule of authgate's own API: a token asked for resources (``aud`` a list) works
        here only when the API's identifier is among them; a token asked for none (``aud`` the issuer, as
        every token was before resources existed), a personal access token and a session always do."""
        aud = principal.audience
        return not isinstance(aud, list) or self.own_api in aud

    def from_database(self, token: str) -> Principal:
        """The principal behind ``token``, with at most one query; for when ``from_memory`` could not tell."""
        if not token or len(token) > MAX_TOKEN_LENGTH:
            raise InvalidToken("The access token is malformed.")
        if token.startswith(PERSONAL_TOKEN_PREFIX):
            return self._personal(token)
        return self._jwt(token)

    # -- personal access tokens ----------------------------------------------------------------------

    def _personal(self, token: str) -> Principal:
        generation = self.bus.generation()
        with self.db.session(write=False) as s:
            found = self.personal_token_store.with_owner_by_hash(s, self.hasher.hash(token))
        if found is None:
            raise InvalidToken("The access token is invalid, expired or revoked.")
        row, user = PersonalTokenView.of(found[0]), UserView.of(found[1])
        if row.revoked_at is None:
            self.personal_tokens.remember(row, generation)
            self.users.remember(user, generation)
        return self._personal_principal(row, user)

    def _personal_principal(self, row: PersonalTokenView, user: UserView) -> Principal:
        now = utcnow()
        if (row.revoked_at is not None or (row.expires_at and row.expires_at <= now)
                or token_refusal(for_user=True, user=user)):
            raise InvalidToken("The access token is invalid, expired or revoked.")
        self.personal_tokens.used(row, now)
        return Principal(user=user, client_id=None, scopes=row.scopes, kind="personal_access_token",
                         expires_at=row.expires_at, token_id=str(row.id))

    # -- JWT access tokens ---------------------------------------------------------------------------

    def verified_claims(self, token: str) -> dict:
        """The claims of a JWT access token signed by one of our published keys, for us, unexpired."""
        if not token or len(token) > MAX_TOKEN_LENGTH:
            raise InvalidToken("The access token is malformed.")
        return self._claims(token, reload_keys=True)

    def _claims(self, token: str, reload_keys: bool) -> dict | None:
        """As ``verified_claims``; None when the signing key is unknown and ``reload_keys`` is False.

        A token verified before is remembered with its key's ``kid``, and trusted only while that key
        is still published: a removed key, or one retired past its window, ends its tokens at once."""
        cached = self._verified.get(token)
        if cached is not None:
            if self.keys.public_key(cached[1], reload=reload_keys) is None:
                if not reload_keys:
                    return None  # unknown here (the key cache may be stale): the database decides
                self._verified.pop(token, None)
                raise InvalidToken("The access token's signing key is no longer published.")
            claims = cached[0]
        else:
            try:
                header = jws.extract_compact(token.encode()).headers()
                kid = str(header.get("kid", ""))
                key = self.keys.public_key(kid, reload=reload_keys)
                if key is None and not reload_keys:
                    return None
                if key is None or header.get("typ") != AT_JWT_TYPE:
                    raise InvalidToken("The access token is invalid.")
                claims = jwt.decode(token, key, algorithms=[key.alg]).claims
            except (JoseError, ValueError, TypeError, KeyError):
                raise InvalidToken("The access token is malformed or its signature is invalid.") from None
            aud = claims.get("aud")
            if claims.get("iss") != self.settings.issuer or not (aud == self.settings.issuer or (
                    isinstance(aud, list) and aud and all(isinstance(a, str) for a in aud))):
                raise InvalidToken("The access token was not issued by this server.")
        exp = claims.get("exp")
        if not isinstance(exp, int) or exp <= time.time():
            self._verified.pop(token, None)
            raise InvalidToken("The access token has expired.")
        if cached is None:
            self._verified.put(token, (claims, kid))
        return claims

    def _jwt_principal(self, claims: dict, user_of) -> Principal | None:
        if self.revoked.jti_revoked(str(claims.get("jti"))):
            raise InvalidToken("The access token has been revoked.")
        client_id = str(claims.get("client_id"))
        client_alive = not self.revoked.client_deleted(client_id)
        user = None
        sub = str(claims.get("sub"))
        for_user = sub != client_id
        if for_user and client_alive:
            if not sub.isdigit():
                raise InvalidToken("The access token is invalid.")
            user = user_of(int(sub))
            if user is NEEDS_DATABASE:
                return None
        refusal = token_refusal(client_alive=client_alive, for_user=for_user, user=user)
        if refusal is not None:
            raise InvalidToken(REFUSED[refusal])
        return Principal(user=user, client_id=client_id, scopes=tuple(str(claims.get("scope", "")).split()),
                         kind="access_token", jkt=bound_key(claims), audience=claims.get("aud"),
                         token_id=str(claims.get("jti")))

    def _jwt(self, token: str) -> Principal:
        claims = self.verified_claims(token)
        if self.bus.fresh():
            def load_user(user_id: int):
                with self.db.session(write=False) as s:
                    return self.users.read(s, user_id)
            return self._jwt_principal(claims, load_user)
        return self._jwt_from_database(claims, str(jws.extract_compact(token.encode()).headers().get("kid", "")))

    def _jwt_from_database(self, claims: dict, kid: str) -> Principal:
        """The bus is stale (the database was unreachable): ask the record and the key table."""
        with self.db.session(write=False) as s:
            if not self.keys.still_published(s, kid):
                raise InvalidToken("The access token is invalid.")
            record = self.token_store.access_token(s, str(claims.get("jti")))
            row = self.user_store.by_id(s, record.user_id) if record is not None and record.user_id is not None else None
        if record is None or record.revoked_at is not None:
            raise InvalidToken("The access token has been revoked.")
        if token_refusal(for_user=record.user_id is not None, user=row):
            raise InvalidToken(REFUSED[USER_INACTIVE])
        return Principal(
            user=UserView.of(row) if row is not None else None,
            client_id=str(claims.get("client_id")),
            scopes=tuple(str(claims.get("scope", "")).split()),
            kind="access_token",
            jkt=bound_key(claims),
            audience=claims.get("aud"),
            token_id=str(claims.get("jti")),
        )
