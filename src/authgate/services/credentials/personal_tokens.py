"""Personal access tokens: long-lived opaque tokens a user makes for scripts, revocable at any time.

A user manages their own tokens; an administrator anyone's. A token made through the API never
holds a scope the token that made it lacks, one made with a personal access token never outlives it, and
none outlives the grant of the token that made it: one made with an OAuth access token records that token's
family (the application's authorization), one made with such a personal access token inherits it, and revoking
the grant (the user revoking the application, a refresh token's reuse, the client disabled or deleted) revokes
them (``TokenService.revoke_family``). An access token whose record names no family cannot make one.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from authgate.security import secrets as gen
from authgate.security.secrets import SecretHasher
from authgate.services.accounts.people.permissions import PermissionService
from authgate.services.accounts.people.principal import Principal
from authgate.services.caching import events
from authgate.services.credentials import scopes as scope_rules
from authgate.services.errors import Forbidden, Invalid, NotFound
from authgate.services.operations import audit
from authgate.services.operations.listing import ListQuery, Page, paginate
from authgate.settings import Settings
from authgate.storage.models import PersonalAccessToken, User
from authgate.storage.repositories.personal_tokens import PersonalTokenStore
from authgate.storage.repositories.tokens import TokenStore
from authgate.storage.repositories.users import UserStore
from authgate.storage.types import utcnow

SORTABLE = ("id", "name", "created_at", "expires_at", "last_used_at")


def public_view(token: PersonalAccessToken) -> dict:
    return {
        "id": token.id,
        "user_id": token.user_id,
        "client_id": None,
        "name": token.name,
        "scopes": list(token.scopes),
        "created_at": token.created_at.isoformat(),
        "expires_at": token.expires_at.isoformat() if token.expires_at else None,
        "last_used_at": token.last_used_at.isoformat() if token.last_used_at else None,
        "revoked": token.revoked_at is not None,
    }


class PersonalTokenService:
    def __init__(self, store: PersonalTokenStore, users: UserStore, settings: Settings, hasher: SecretHasher,
                 permissions: PermissionService, tokens: TokenStore):
        self.store = store
        self.tokens = tokens
        self.users = users
        self.settings = settings
        self.hasher = hasher
        self.permissions = permissions

    def create(
        self, s: Session, user: User, name: str, scopes: list[str] | None = None,
        expires_at: datetime | None = None, family_id: int | None = None,
    ) -> tuple[PersonalAccessToken, str]:
        """The new token's record and the token itself, shown this once; ``family_id``: the grant it is
        revoked with."""
        name = (name or "").strip()
        if not name or len(name) > 255:
            raise Invalid("name must be 1 to 255 characters", field="name")
        scopes = list(dict.fromkeys(scopes or [scope_rules.ALL]))
        try:
            scope_rules.check_known(scopes)
        except Invalid as error:
            raise Invalid(str(error), field="scopes") from None
        now = utcnow()
        expires_at = expires_at or now + timedelta(seconds=self.settings.personal_token_ttl)
        if expires_at <= now:
            raise Invalid("expiry must be in the future", field="expires_at")
        token = gen.generate(gen.PERSONAL_TOKEN_PREFIX)
        row = PersonalAccessToken(
            token_hash=self.hasher.hash(token), user_id=user.id, name=name, scopes=scopes, expires_at=expires_at,
            family_id=family_id,
        )
        self.store.add(s, row)
        audit.record(s, "personal_token.created", user_id=user.id, subject=str(row.id), details={"name": name})
        return row, token

    def list(self, s: Session, user: User) -> list[PersonalAccessToken]:
        return self.store.of_user(s, user.id)

    def revoke(self, s: Session, token_id: int, user: User | None = None) -> None:
        """Revoke one token; with ``user``, only if it is theirs."""
        if not self.store.revoke(s, token_id, user.id if user is not None else None):
            raise NotFound(f"no personal access token with id {token_id}")
        audit.record(s, "personal_token.revoked", user_id=user.id if user else None, subject=str(token_id))
        events.record(s, events.PAT, [token_id])

    def revoke_all(self, s: Session, user_id: int) -> None:
        events.record(s, events.PAT, self.store.revoke_all_of(s, user_id))

    # -- through the API: the owner, or an administrator -------------------------------------------

    def _check_owner(self, actor: Principal, user_id: int) -> None:
        user = self.permissions.require_user(actor)
        if user is not None and user.id != user_id:
            self.permissions.require_administrator(actor, "manage another user's tokens")

    def _owner(self, s: Session, user_id: int) -> User:
        user = self.users.by_id(s, user_id)
        if user is None or user.deleted_at is not None:
            raise NotFound(f"No user with id {user_id}.")
        return user

    def list_for(self, s: Session, actor: Principal, user_id: int, query: ListQuery) -> Page:
        """The user's tokens that are not revoked (expired ones included, with their date)."""
        self._check_owner(actor, user_id)
        self._owner(s, user_id)
        return paginate(query, sortable=SORTABLE, default_order="id",
                        fetch=lambda checked: self.store.live_page(s, user_id, checked))

    def get_for(self, s: Session, actor: Principal, user_id: int, token_id: int) -> PersonalAccessToken:
        self._check_owner(actor, user_id)
        row = self.store.by_id(s, token_id)
        if row is None or row.user_id != user_id or row.revoked_at is not None:
            raise NotFound(f"No token with id {token_id} for user {user_id}.")
        return row

    def create_for(
        self, s: Session, actor: Principal, user_id: int, name: str, scopes: list[str] | None,
        expires_at: datetime | None,
    ) -> tuple[PersonalAccessToken, str]:
        self._check_owner(actor, user_id)
        user = self._owner(s, user_id)
        if not scopes:
            scopes = [scope_rules.ALL] if scope_rules.ALL in actor.scopes else list(actor.scopes)
        try:
            scope_rules.check_known(scopes)
        except Invalid as error:
            raise Invalid(str(error), field="scopes") from None
        if not scope_rules.within(scopes, actor.scopes):
            raise Forbidden("A new token cannot hold a scope the token that makes it lacks.")
        return self.create(s, user, name, scopes, self._within_lifetime(actor, expires_at),
                           family_id=self._grant_of(s, actor))

    def _within_lifetime(self, actor: Principal, expires_at: datetime | None) -> datetime | None:
        """A personal access token makes none that outlives it: a later expiry is refused, and no expiry given is
        the earlier of the default one and the maker's own."""
        ends = actor.expires_at if actor.kind == "personal_access_token" else None
        if ends is None:
            return expires_at
        if expires_at is None:
            return min(ends, utcnow() + timedelta(seconds=self.settings.personal_token_ttl))
        if expires_at > ends:
            raise Forbidden(f"A new token cannot outlive the token that makes it, which expires at "
                            f"{ends.isoformat()}.", field="expires_at")
        return expires_at

    def _grant_of(self, s: Session, actor: Principal) -> int | None:
        """The token family the acting token belongs to, which a token it makes must belong to too: an access
        token's, or the one a personal access token inherited (None: made by a session, the CLI or its owner's
        own personal access token, which no application's revocation touches)."""
        if actor.kind == "personal_access_token" and actor.token_id:
            row = self.store.by_id(s, int(actor.token_id))
            return row.family_id if row is not None else None
        if actor.kind != "access_token":
            return None
        record = self.tokens.access_token(s, actor.token_id) if actor.token_id else None
        if record is None or record.family_id is None:
            raise Forbidden("This access token belongs to no grant that revoking the application would end, so it "
                            "cannot make a personal access token: make one on your account page or with a "
                            "personal access token.")
        return record.family_id

    def revoke_for(self, s: Session, actor: Principal, user_id: int, token_id: int) -> None:
        self.get_for(s, actor, user_id, token_id)
        self.revoke(s, token_id)
