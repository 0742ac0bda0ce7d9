"""Bulk inserts of live tokens into authgate's tables (SQLAlchemy core executemany, one transaction
per batch of 20,000). The secrets behind the stored hashes are never needed, so random hashes stand in."""

from __future__ import annotations

import os
import secrets
import time
from datetime import timedelta

from sqlalchemy import insert, select

from authgate.oauth.grants.registry import GRANTS
from authgate.services.runtime import Runtime
from authgate.settings import load
from authgate.storage.models import AccessToken, Client, PersonalAccessToken, RefreshToken, TokenFamily, User
from authgate.storage.types import utcnow

BATCH = 20_000
SEED_USER = "bench-seed"
SEED_CLIENT = "bench seed"


def _owner(runtime: Runtime) -> tuple[int, int]:
    """The seed user's and seed client's ids, made on first use through authgate's services."""
    with runtime.db.session() as s:
        user_id = s.scalar(select(User.id).where(User.username == SEED_USER))
        if user_id is None:
            user_id = runtime.users.create(s, SEED_USER, "bench-seed@example.org", secrets.token_urlsafe(16)).id
        client_id = s.scalar(select(Client.id).where(Client.name == SEED_CLIENT))
        if client_id is None:
            # the OAuth layer's registry knows the grant types (the CLI imports it the same way)
            assert "client_credentials" in GRANTS.names()
            client_id = runtime.clients.create(s, SEED_CLIENT, grants=["client_credentials"])[0].id
    return user_id, client_id


def seed(count: int, database_url: str | None = None) -> float:
    if database_url:
        os.environ["AUTHGATE_DATABASE_URL"] = database_url
    runtime = Runtime.open(load())
    user_id, client_id = _owner(runtime)
    started = time.monotonic()
    now = utcnow()
    later = now + timedelta(days=30)
    done = 0
    while done < count:
        n = min(BATCH, count - done)
        with runtime.db.session() as s:
            c = s.connection()
            families = list(c.scalars(
                insert(TokenFamily.__table__).returning(TokenFamily.id, sort_by_parameter_order=True),
                [{"client_id": client_id, "user_id": user_id, "grant_type": "password", "scope": "users:read",
                  "created_at": now} for _ in range(n)],
            ))
            c.execute(insert(AccessToken.__table__), [
                {"jti": secrets.token_urlsafe(16), "family_id": f, "client_id": client_id, "user_id": user_id,
                 "scope": "users:read", "created_at": now, "expires_at": later} for f in families
            ])
            c.execute(insert(RefreshToken.__table__), [
                {"token_hash": secrets.token_hex(32), "family_id": f, "client_id": client_id, "user_id": user_id,
                 "scope": "users:read", "created_at": now, "expires_at": later} for f in families
            ])
            c.execute(insert(PersonalAccessToken.__table__), [
                {"token_hash": secrets.token_hex(32), "user_id": user_id, "name": "seed", "scopes": ["users:read"],
                 "created_at": now, "expires_at": later} for _ in range(n)
            ])
        done += n
    runtime.db.dispose()
    return time.monotonic() - started
