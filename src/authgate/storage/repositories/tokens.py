"""Token families and their refresh-token and access-token records (RFC 6749 §1.4-1.5, RFC 9068).

A family is every token issued from one grant, across refreshes. ``rotate_refresh`` claims a
refresh token by compare-and-set (``UPDATE … WHERE rotated_at IS NULL``), so of two concurrent
refreshes only one wins; ``revoke_family`` revokes the family, its refresh tokens and its access
tokens at once and returns the revoked access tokens' ``jti`` (for the revocation events).
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from sqlalchemy import bindparam, exists, insert, or_, select, update
from sqlalchemy.orm import Session

from authgate.storage.models import AccessToken, Client, PersonalAccessToken, RefreshToken, TokenFamily
from authgate.storage.prepared_inserts import PreparedInsert, guard
from authgate.storage.prepared_statements import PreparedStatement

_families = TokenFamily.__table__
_refresh_tokens = RefreshToken.__table__
NEW_FAMILY = insert(_families).returning(_families.c.id)
NEW_ACCESS_TOKEN = PreparedInsert(AccessToken.__table__)
NEW_REFRESH_TOKEN = PreparedInsert(_refresh_tokens)
# Built once and sent to the driver's cursor (``prepared_statements.py``): the refresh grant's reads and updates.
REFRESH_TOKEN_BY_HASH = PreparedStatement(select(_refresh_tokens).where(_refresh_tokens.c.token_hash == bindparam("token_hash")))
REFRESH_TOKEN_BY_ID = PreparedStatement(select(_refresh_tokens).where(_refresh_tokens.c.id == bindparam("row_id")))
_TOKEN_KEYS = tuple(c.key for c in _refresh_tokens.c)
_FAMILY_KEYS = tuple(c.key for c in _families.c)
REFRESH_TOKEN_WITH_FAMILY = PreparedStatement(
    select(*(c.label("t_" + c.key) for c in _refresh_tokens.c), *(c.label("f_" + c.key) for c in _families.c))
    .select_from(_refresh_tokens.outerjoin(_families, _families.c.id == _refresh_tokens.c.family_id))
    .where(_refresh_tokens.c.token_hash == bindparam("token_hash")))
FAMILY_BY_ID = PreparedStatement(select(_families).where(_families.c.id == bindparam("family_id")))
CLAIM_REFRESH_TOKEN = PreparedStatement(
    update(_refresh_tokens).where(_refresh_tokens.c.id == bindparam("row_id"), _refresh_tokens.c.rotated_at.is_(None))
    .values(rotated_at=bindparam("now")))
KEEP_REPLAY = PreparedStatement(
    update(_refresh_tokens).where(_refresh_tokens.c.id == bindparam("row_id")).values(replay_blob=bindparam("blob")))

class TokenStore(Protocol):
    def new_family(self, s: Session, values: dict) -> int:
        """Insert a family (``client_id``, ``user_id``, ``grant_type``, ``scope``, ``authorization_code_id``,
        ``dpop_jkt``, ``session_id``); its id."""

    def family(self, s: Session, family_id: int) -> TokenFamily | None:
        """The family's record, outside the session (read its fields only)."""

    def families_of_code(self, s: Session, authorization_code_id: int) -> list[int]: ...

    def live_families(self, s: Session, user_id: int, client_pk: int | None, now: datetime) -> list[tuple[TokenFamily, Client]]:
        """The user's unrevoked families that still hold a working access or refresh token, with their client."""

    def add_access_token(self, s: Session, values: dict) -> None: ...

    def client_may_get_tokens(self, s: Session, client_pk: int, secret_hash: str | None) -> None:
        """In the transaction that records the tokens (a deferred one too), the client's row locked against a
        concurrent change until it commits: raise ``ClientChanged`` when the client is gone, disabled, or, for
        ``secret_hash`` given, has another secret by now."""

    def access_token(self, s: Session, jti: str) -> AccessToken | None: ...

    def revoke_access_token(self, s: Session, jti: str, now: datetime) -> None: ...

    def add_refresh_token(self, s: Session, values: dict) -> None: ...

    def refresh_token(self, s: Session, token_hash: str) -> RefreshToken | None:
        """The token's record, rotated, revoked or not, outside the session (read its fields only)."""

    def refresh_token_with_family(self, s: Session, token_hash: str) -> tuple[RefreshToken, TokenFamily | None] | None:
        """``refresh_token`` and its family (None if gone), in one statement."""

    def rotate_refresh(self, s: Session, row_id: int, now: datetime) -> bool:
        """Mark the refresh token rotated; False when another request rotated it first."""

    def reread_refresh(self, s: Session, row: RefreshToken) -> None:
        """Reload ``row`` from the database (after losing ``rotate_refresh``)."""

    def keep_replay(self, s: Session, row_id: int, blob: bytes) -> None:
        """Keep the sealed response of a rotation on the rotated token (the grace-window retry)."""

    def revoke_family(self, s: Session, family_id: int, now: datetime) -> list[str]:
        """Revoke the family and its live tokens; the ``jti`` of the access tokens revoked."""

    def revoke_client(self, s: Session, client_pk: int, now: datetime) -> list[str]:
        """Revoke every family, refresh token and access token of the client (row id); the access tokens' ``jti``s."""
    def revoke_user(self, s: Session, user_id: int, now: datetime) -> list[str]:
        """Revoke every family and live token of the user; the ``jti`` of the access tokens revoked."""

    def revoke_personal_tokens(self, s: Session, now: datetime, *, family_id: int | None = None,
                               client_pk: int | None = None) -> list[int]:
        """Revoke the live personal access tokens made with the family's (or any of the client's families')
        access tokens; their ids."""


class ClientChanged(Exception):
    """The client was deleted, disabled or given a new secret while its tokens were being issued."""


CLIENT_FOR_TOKENS = PreparedStatement(
    select(Client.disabled_at, Client.secret_hash).where(Client.id == bindparam("client_pk")).with_for_update(read=True))


class SqlTokenStore:
    def new_family(self, s: Session, values: dict) -> int:
        return s.execute(NEW_FAMILY, values).scalar_one()

    def family(self, s: Session, family_id: int) -> TokenFamily | None:
        found = FAMILY_BY_ID.rows(s, family_id=family_id)
        return TokenFamily(**found[0]) if found else None

    def families_of_code(self, s: Session, authorization_code_id: int) -> list[int]:
        return list(s.scalars(select(TokenFamily.id).where(TokenFamily.authorization_code_id == authorization_code_id)))

    def live_families(self, s: Session, user_id: int, client_pk: int | None, now: datetime) -> list[tuple[TokenFamily, Client]]:
        live_access = exists().where(
            AccessToken.family_id == TokenFamily.id, AccessToken.revoked_at.is_(None), AccessToken.expires_at > now)
        live_refresh = exists().where(
            RefreshToken.family_id == TokenFamily.id, RefreshToken.revoked_at.is_(None),
            RefreshToken.rotated_at.is_(None), RefreshToken.expires_at > now)
        live_personal = exists().where(
            PersonalAccessToken.family_id == TokenFamily.id, PersonalAccessToken.revoked_at.is_(None),
            or_(PersonalAccessToken.expires_at.is_(None), PersonalAccessToken.expires_at > now))
        stmt = (
            select(TokenFamily, Client)
            .join(Client, Client.id == TokenFamily.client_id)
            .where(TokenFamily.user_id == user_id, TokenFamily.revoked_at.is_(None),
                   live_access | live_refresh | live_personal)
            .order_by(TokenFamily.id)
        )
        if client_pk is not None:
            stmt = stmt.where(TokenFamily.client_id == client_pk)
        return list(s.execute(stmt).tuples())

    def client_may_get_tokens(self, s: Session, client_pk: int, secret_hash: str | None) -> None:
        def check(connection) -> None:
            found = CLIENT_FOR_TOKENS.rows(connection, client_pk=client_pk)
            row = found[0] if found else None
            if row is None or row["disabled_at"] is not None or (secret_hash is not None and row["secret_hash"] != secret_hash):
                raise ClientChanged()
        guard(s, check)

    def add_access_token(self, s: Session, values: dict) -> None:
        NEW_ACCESS_TOKEN.run(s, [values])

    def access_token(self, s: Session, jti: str) -> AccessToken | None:
        return s.scalar(select(AccessToken).where(AccessToken.jti == jti))

    def revoke_access_token(self, s: Session, jti: str, now: datetime) -> None:
        s.execute(update(AccessToken).where(AccessToken.jti == jti, AccessToken.revoked_at.is_(None)).values(revoked_at=now))

    def add_refresh_token(self, s: Session, values: dict) -> None:
        NEW_REFRESH_TOKEN.run(s, [values])

    def refresh_token(self, s: Session, token_hash: str) -> RefreshToken | None:
        found = REFRESH_TOKEN_BY_HASH.rows(s, token_hash=token_hash)
        return RefreshToken(**found[0]) if found else None

    def refresh_token_with_family(self, s: Session, token_hash: str) -> tuple[RefreshToken, TokenFamily | None] | None:
        found = REFRESH_TOKEN_WITH_FAMILY.values(s, token_hash=token_hash)
        if not found:
            return None
        values, n = found[0], len(_TOKEN_KEYS)
        token = RefreshToken(**dict(zip(_TOKEN_KEYS, values[:n])))
        return token, TokenFamily(**dict(zip(_FAMILY_KEYS, values[n:]))) if values[n] is not None else None

    def rotate_refresh(self, s: Session, row_id: int, now: datetime) -> bool:
        return CLAIM_REFRESH_TOKEN.rowcount(s, row_id=row_id, now=now) == 1

    def reread_refresh(self, s: Session, row: RefreshToken) -> None:
        for name, value in REFRESH_TOKEN_BY_ID.rows(s, row_id=row.id)[0].items():
            setattr(row, name, value)

    def keep_replay(self, s: Session, row_id: int, blob: bytes) -> None:
        KEEP_REPLAY.rowcount(s, row_id=row_id, blob=blob)

    def revoke_family(self, s: Session, family_id: int, now: datetime) -> list[str]:
        s.execute(update(TokenFamily).where(TokenFamily.id == family_id).values(revoked_at=now))
        s.execute(
            update(RefreshToken)
            .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        return list(s.scalars(
            update(AccessToken)
            .where(AccessToken.family_id == family_id, AccessToken.revoked_at.is_(None))
            .values(revoked_at=now)
            .returning(AccessToken.jti)
        ).all())

    def revoke_client(self, s: Session, client_pk: int, now: datetime) -> list[str]:
        families = select(TokenFamily.id).where(TokenFamily.client_id == client_pk)
        s.execute(update(TokenFamily).where(TokenFamily.client_id == client_pk, TokenFamily.revoked_at.is_(None))
                  .values(revoked_at=now))
        s.execute(update(RefreshToken).where(RefreshToken.family_id.in_(families), RefreshToken.revoked_at.is_(None))
                  .values(revoked_at=now))
        return list(s.scalars(update(AccessToken).where(AccessToken.client_id == client_pk,
                                                        AccessToken.revoked_at.is_(None))
                              .values(revoked_at=now).returning(AccessToken.jti)).all())

    def revoke_user(self, s: Session, user_id: int, now: datetime) -> list[str]:
        s.execute(update(TokenFamily).where(TokenFamily.user_id == user_id, TokenFamily.revoked_at.is_(None))
                  .values(revoked_at=now))
        s.execute(update(RefreshToken).where(RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None))
                  .values(revoked_at=now))
        return list(s.scalars(update(AccessToken).where(AccessToken.user_id == user_id, AccessToken.revoked_at.is_(None))
                              .values(revoked_at=now).returning(AccessToken.jti)).all())

    def revoke_personal_tokens(self, s: Session, now: datetime, *, family_id: int | None = None,
                               client_pk: int | None = None) -> list[int]:
        if family_id is not None:
            made_with = PersonalAccessToken.family_id == family_id
        else:
            made_with = PersonalAccessToken.family_id.in_(
                select(TokenFamily.id).where(TokenFamily.client_id == client_pk))
        return list(s.scalars(update(PersonalAccessToken)
                              .where(made_with, PersonalAccessToken.revoked_at.is_(None))
                              .values(revoked_at=now).returning(PersonalAccessToken.id)).all())
