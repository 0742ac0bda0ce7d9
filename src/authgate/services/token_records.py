"""The statements the bearer check, introspection and revocation issue on token records: one small
function per statement, gathered here until the token store (``storage/repositories/tokens.py``)
takes them over. Each takes the caller's session.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from authgate.storage.models import AccessToken, TokenFamily


def access_token(s: Session, jti: str) -> AccessToken | None:
    return s.scalar(select(AccessToken).where(AccessToken.jti == jti))


def family(s: Session, family_id: int) -> TokenFamily | None:
    return s.get(TokenFamily, family_id)


def revoke_access_token(s: Session, jti: str, when: datetime) -> None:
    s.execute(update(AccessToken).where(AccessToken.jti == jti, AccessToken.revoked_at.is_(None)).values(revoked_at=when))
