"""Who is acting: the principal behind a bearer token, a browser session, or the operator at the CLI."""

from __future__ import annotations

from dataclasses import dataclass

from authgate.storage.models import User


@dataclass(frozen=True)
class Principal:
    user: User | None
    client_id: str | None
    scopes: tuple[str, ...]
    kind: str  # "access_token", "personal_access_token", "session" or "system"

    @property
    def is_system(self) -> bool:
        return self.kind == "system"

    @property
    def is_service_account(self) -> bool:
        """A client credentials token: a client acting for itself, with no user."""
        return self.user is None and not self.is_system


SYSTEM = Principal(user=None, client_id=None, scopes=("*",), kind="system")
"""The operator at the command line: every rule allows it."""


def signed_in(user: User) -> Principal:
    """A person using authgate's own pages: their permissions decide, no token scopes apply."""
    return Principal(user=user, client_id=None, scopes=("*",), kind="session")
