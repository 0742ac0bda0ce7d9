"""The statements the bearer check, introspection, revocation and the PAT cache issue about access-token
records, personal access tokens, users, token families and clients: one small function per statement,
gathered here until the token and account stores (``storage/repositories/tokens.py``, ``users.py``,
``personal_tokens.py``, ``clients.py``) take them over. Each takes the caller's session.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from authgate.storage.models import AccessToken, Client, PersonalAccessToken, TokenFamily, User


def user(s: Session, user_id: int) -> User | None:
    return s.get(User, user_id)


def access_token(s: Session, jti: str) -> AccessToken | None:
    return s.scalar(select(AccessToken).where(AccessToken.jti == jti))


def personal_token(s: Session, token_hash: str) -> PersonalAccessToken | None:
    return s.scalar(select(PersonalAccessToken).where(PersonalAccessToken.token_hash == token_hash))


def personal_token_and_user(s: Session, token_hash: str) -> tuple[PersonalAccessToken, User] | None:
    """The token and its user in one query (the bearer check's cold path)."""
    found = s.execute(
        select(PersonalAccessToken, User).join(User, User.id == PersonalAccessToken.user_id)
        .where(PersonalAccessToken.token_hash == token_hash)
    ).first()
    return None if found is None else (found[0], found[1])


def store_last_used(s: Session, uses: dict[int, datetime]) -> None:
    for token_id, when in uses.items():
        s.execute(update(PersonalAccessToken).where(PersonalAccessToken.id == token_id).values(last_used_at=when))


def family(s: Session, family_id: int) -> TokenFamily | None:
    return s.get(TokenFamily, family_id)


def client(s: Session, client_pk: int) -> Client | None:
    return s.get(Client, client_pk)


def revoke_access_token(s: Session, jti: str, when: datetime) -> None:
    s.execute(update(AccessToken).where(AccessToken.jti == jti, AccessToken.revoked_at.is_(None)).values(revoked_at=when))


def revoke_personal_token(s: Session, token_id: int, when: datetime) -> None:
    s.execute(update(PersonalAccessToken).where(PersonalAccessToken.id == token_id,
                                                PersonalAccessToken.revoked_at.is_(None)).values(revoked_at=when))
