"""Client applications: registration, lookup by id or by secret, deletion (which revokes their tokens)."""

from __future__ import annotations

import uuid
from urllib.parse import urlsplit

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from authgate.security import secrets as gen
from authgate.security.secrets import SecretHasher
from authgate.services import scopes as scope_rules
from authgate.services.errors import Invalid, NotFound
from authgate.storage.models import Client

GRANTS = ("authorization_code", "password", "client_credentials", "refresh_token", "personal_access", "device_code")
DEFAULT_GRANTS = ("authorization_code", "password", "refresh_token")
DEFAULT_GRANTS_WITHOUT_REDIRECT = ("password", "refresh_token")
REFRESHABLE = ("authorization_code", "password", "device_code")


def normalize_grants(grants: list[str] | None, has_redirect_uri: bool = True) -> list[str]:
    """The grants as given, or the defaults; ``refresh_token`` comes with the grants that use it."""
    chosen = list(dict.fromkeys(grants or (DEFAULT_GRANTS if has_redirect_uri else DEFAULT_GRANTS_WITHOUT_REDIRECT)))
    unknown = [g for g in chosen if g not in GRANTS]
    if unknown:
        raise Invalid(f"unknown grant: {', '.join(unknown)}; choose from {', '.join(GRANTS)}")
    if any(g in REFRESHABLE for g in chosen) and "refresh_token" not in chosen:
        chosen.append("refresh_token")
    return chosen


def check_redirect_uri(uri: str) -> None:
    parts = urlsplit(uri)
    if parts.scheme not in ("http", "https") and not (parts.scheme and "." in parts.scheme):
        raise Invalid(f"redirect URI {uri!r} must be an absolute http(s) URL or a private-use scheme")
    if parts.fragment or "#" in uri:
        raise Invalid(f"redirect URI {uri!r} must not contain a fragment (RFC 6749 §3.1.2)")
    if parts.scheme in ("http", "https") and not parts.hostname:
        raise Invalid(f"redirect URI {uri!r} has no host")


def public_view(client: Client) -> dict:
    return {
        "client_id": client.client_id,
        "name": client.name,
        "redirect_uris": list(client.redirect_uris),
        "grants": list(client.grants),
        "scopes": list(client.scopes),
        "public": client.public,
        "created_at": client.created_at.isoformat(),
    }


class ClientService:
    def __init__(self, hasher: SecretHasher):
        self.hasher = hasher

    def create(
        self,
        s: Session,
        name: str,
        *,
        redirect_uris: list[str] = (),
        grants: list[str] | None = None,
        scopes: list[str] = (),
        public: bool = False,
        owner_id: int | None = None,
    ) -> tuple[Client, str | None]:
        """The new client and its secret in clear (``None`` for a public client): shown this once."""
        name = (name or "").strip()
        if not name or len(name) > 255:
            raise Invalid("name must be 1 to 255 characters")
        grants = normalize_grants(grants, bool(redirect_uris))
        scopes = list(dict.fromkeys(scopes))
        scope_rules.check_known(scopes)
        for uri in redirect_uris:
            check_redirect_uri(uri)
        if "authorization_code" in grants and not redirect_uris:
            raise Invalid("the authorization_code grant needs at least one redirect URI")
        if public and "client_credentials" in grants:
            raise Invalid("a public client cannot use client_credentials: it has no secret")
        secret = None if public else gen.generate(gen.CLIENT_SECRET_PREFIX)
        client = Client(
            client_id=str(uuid.uuid4()),
            name=name,
            secret_hash=self.hasher.hash(secret) if secret else None,
            public=public,
            redirect_uris=list(dict.fromkeys(redirect_uris)),
            grants=grants,
            scopes=scopes,
            owner_id=owner_id,
        )
        s.add(client)
        s.flush()
        return client, secret

    def list(self, s: Session) -> list[Client]:
        return list(s.scalars(select(Client).order_by(Client.id)))

    def get(self, s: Session, client_id: str) -> Client | None:
        return s.scalar(select(Client).where(Client.client_id == client_id))

    def by_secret(self, s: Session, secret: str) -> Client | None:
        return s.scalar(select(Client).where(Client.secret_hash == self.hasher.hash(secret)))

    def check_secret(self, client: Client, secret: str) -> bool:
        return self.hasher.matches(secret, client.secret_hash)

    def delete(self, s: Session, client_id: str) -> None:
        """Delete the client; its codes and tokens go with it, so none of them works any more."""
        result = s.execute(delete(Client).where(Client.client_id == client_id))
        if result.rowcount == 0:
            raise NotFound(f"no client with id {client_id!r}")
