"""Authorization codes (RFC 6749 §4.1.2): short-lived, single use, bound to client, redirect URI and PKCE."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from authgate.security.secrets import SecretHasher
from authgate.services.applications import profiles
from authgate.services.credentials.tokens import TokenService
from authgate.settings import Settings
from authgate.storage.models import AuthorizationCode, Client, User
from authgate.storage.repositories.codes import CodeStore
from authgate.storage.types import utcnow


class CodeService:
    def __init__(self, settings: Settings, hasher: SecretHasher, tokens: TokenService, store: CodeStore):
        self.settings = settings
        self.hasher = hasher
        self.tokens = tokens
        self.store = store

    def create(
        self, s: Session, code: str, *, client: Client, user: User, redirect_uri: str, scope: str,
        code_challenge: str | None, code_challenge_method: str | None, nonce: str | None,
        auth_time: datetime | None = None, amr: tuple[str, ...] = (), resources: list[str] | None = None,
        session_id: int | None = None, dpop_jkt: str | None = None,
    ) -> None:
        self.store.add(
            s,
            AuthorizationCode(
                code_hash=self.hasher.hash(code),
                client_id=client.id,
                user_id=user.id,
                redirect_uri=redirect_uri,
                scope=scope,
                code_challenge=code_challenge,
                code_challenge_method=code_challenge_method,
                nonce=nonce,
                auth_time=auth_time or utcnow(),
                amr=" ".join(amr) or None,
                resources=resources,
                session_id=session_id,
                dpop_jkt=dpop_jkt,
                expires_at=utcnow() + timedelta(seconds=self.lifetime(client)),
            )
        )

    def lifetime(self, client: Client) -> int:
        """Seconds a new code of ``client`` lives: ``AUTHGATE_AUTH_CODE_TTL``, at most 60 under FAPI 2.0."""
        ttl = self.settings.auth_code_ttl
        return min(ttl, profiles.FAPI2_CODE_SECONDS) if profiles.fapi2(self.settings, client) else ttl

    def redeem(self, s: Session, code: str, client: Client) -> tuple[AuthorizationCode, User] | None:
        """The code's record, now marked used, and its user (one query for both); None if unknown,
        foreign, expired or already used.

        A second use revokes every token issued from the code (the reuse rule, ``TokenService.code_reused``).
        """
        found = self.store.with_user(s, self.hasher.hash(code))
        row = found[0] if found else None
        if row is None or row.client_id != client.id:
            return None
        if not self.store.claim(s, row.id, utcnow()):
            self.tokens.code_reused(s, row.id, row.user_id, client.client_id)
            return None
        if row.expires_at <= utcnow():
            return None
        return found

    def nonce_used(self, s: Session, client_pk: int, nonce: str) -> bool:
        """Whether this client sent ``nonce`` with an earlier authorization request (a replay)."""
        return self.store.nonce_used(s, client_pk, nonce)
