"""Authorized applications: the clients a user has let in, from their live token families.

An authorization is every live family (code or password sign-in, across refreshes) of one user with
one client; revoking it revokes all of them, so the client's access and refresh tokens stop working,
and forgets the user's remembered consent, so the client must ask again.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from authgate.services.accounts.people.permissions import PermissionService
from authgate.services.accounts.people.principal import Principal
from authgate.services.applications.clients import ClientService
from authgate.services.credentials import scopes as scope_rules
from authgate.services.credentials.consents import ConsentService
from authgate.services.credentials.tokens import TokenService
from authgate.services.errors import NotFound
from authgate.services.operations import audit
from authgate.services.operations.listing import ListQuery, Page, paginate_items
from authgate.storage.models import Client, TokenFamily


def _view(client: Client, families: list[TokenFamily]) -> dict:
    scopes: list[str] = []
    for family in families:
        scopes.extend(scope_rules.parse(family.scope))
    return {
        "id": client.client_id,
        "client": {"id": client.client_id, "name": client.name},
        "scopes": list(dict.fromkeys(scopes)),
        "grant_types": sorted({f.grant_type for f in families}),
        "created_at": min(f.created_at for f in families).isoformat(),
        "last_authorized_at": max(f.created_at for f in families).isoformat(),
    }


class AuthorizationService:
    def __init__(self, permissions: PermissionService, tokens: TokenService, consents: ConsentService,
                 clients: ClientService):
        self.permissions = permissions
        self.tokens = tokens
        self.consents = consents
        self.clients = clients

    def list(self, s: Session, actor: Principal, query: ListQuery) -> Page:
        user = self._me(actor)
        by_client: dict[int, tuple[Client, list[TokenFamily]]] = {}
        for family, client in self.tokens.live_families(s, user.id):
            by_client.setdefault(client.id, (client, []))[1].append(family)
        views = [_view(client, families) for client, families in by_client.values()]
        sortable = {"name": lambda v: v["client"]["name"], "created_at": lambda v: v["created_at"],
                    "last_authorized_at": lambda v: v["last_authorized_at"]}
        return paginate_items(views, query, sortable=sortable, default_order="name",
                              search=[lambda v: v["client"]["name"]])

    def revoke(self, s: Session, actor: Principal, client_id: str) -> None:
        user = self._me(actor)
        client = self.clients.get(s, client_id)
        families = self.tokens.live_families(s, user.id, client.id) if client is not None else []
        forgotten = client is not None and self.consents.forget(s, user.id, client.id)
        if not families and not forgotten:
            raise NotFound(f"You have not authorized a client with id {client_id!r}.")
        for family, _ in families:
            self.tokens.revoke_family(s, family.id)
        audit.record(s, "authorization.revoked", actor=actor, client_id=client_id)

    def _me(self, actor: Principal):
        user = self.permissions.require_user(actor)
        if user is None:
            raise NotFound("The command line has no authorized applications.")
        return user
