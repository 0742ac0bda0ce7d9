"""The audit log: who did what, when and from where, in the database and never with a secret.

``record`` writes an event in the caller's transaction; the client address and request id come
from ``bind``, which the web layer calls once per request (the CLI leaves them empty). ``record`` is
a function, called by every service, so it appends through the module's ``LOG`` store rather than
one given to a constructor; ``AuditService`` reads the log through the store it is given.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass

from sqlalchemy.orm import Session

from authgate.services.accounts.people.principal import Principal
from authgate.services.operations.listing import ListQuery, Page, paginate
from authgate.storage.models import AuditEvent
from authgate.storage.repositories.audit import AuditStore, SqlAuditStore

EVENTS = (
    "login.succeeded", "login.failed", "login.refused",
    "consent.granted", "consent.denied", "consent.forgotten", "authorization.revoked",
    "token.issued", "token.refreshed", "token.revoked", "token.reuse_detected", "code.replayed",
    "personal_token.created", "personal_token.revoked",
    "client.created", "client.updated", "client.deleted", "client.secret_regenerated", "client.disabled", "client.enabled",
    "key.rotated", "user.unlocked", "user.password_changed", "user.deactivated", "user.deleted",
    "key.removed", "keys.encrypted",
    "login.second_factor_required", "login.second_step_failed",
    "factor.enrolled", "factor.renamed", "factor.removed", "factor.recovery_codes_regenerated", "factor.recovery_code_used",
    "session.ended", "sessions.ended",
    "factor_policy.changed", "login.enrolment_required", "login.step_up_required",
    "factor.reset", "passkey.refused",
    "client.registered", "client.metadata_document", "registration.token_created",
    "resource.created", "resource.updated", "resource.deleted",
    "logout.delivered", "logout.delivery_failed",
    "user.reset_link_sent", "user.verification_sent", "user.email_verified", "user.invited",
    "user.invitation_accepted",
    "provider.created", "provider.updated", "provider.deleted",
    "federation.linked", "federation.user_created", "federation.refused", "identity.linked", "identity.unlinked",
    "directory.unreachable", "federation.group_joined", "federation.group_left",
    "user.updated", "permissions.changed", "group.member_added", "group.member_removed",
    "user.created", "group.created", "group.updated", "group.deleted", "user.restored",
)
MAX_DETAIL = 255
SORTABLE = ("id", "event", "occurred_at", "user_id", "client_id", "ip")
LOG: AuditStore = SqlAuditStore()


@dataclass(frozen=True)
class Origin:
    ip: str | None = None
    request_id: str | None = None
    user_agent: str | None = None


_origin: ContextVar[Origin] = ContextVar("authgate_audit_origin", default=Origin())


def bind(ip: str | None, request_id: str | None = None, user_agent: str | None = None) -> None:
    _origin.set(Origin(ip, request_id, user_agent))


def peer_ip() -> str | None:
    """The address of the client of the request being served (None outside one)."""
    return _origin.get().ip


def peer_user_agent() -> str | None:
    """The ``User-Agent`` of the request being served, as sent (None outside one, or when it sent none)."""
    return _origin.get().user_agent


def _clean(details: dict | None) -> dict:
    return {str(k)[:64]: (v if isinstance(v, (int, bool)) or v is None else str(v)[:MAX_DETAIL])
            for k, v in (details or {}).items()}


def by_whom(actor: Principal | None, user_id: int | None) -> dict:
    """``by_user_id`` for the details of an event about the user ``user_id`` that another user did."""
    return ({"by_user_id": actor.user.id}
            if actor is not None and actor.user is not None and actor.user.id != user_id else {})


def record(
    s: Session, event: str, *, actor: Principal | None = None, user_id: int | None = None,
    client_id: str | None = None, subject: str | None = None, details: dict | None = None,
) -> None:
    """Add one event. ``details`` must name things (ids, grant types, scopes), never hold a secret."""
    assert event in EVENTS, event
    origin = _origin.get()
    if actor is not None:
        user_id = user_id if user_id is not None else (actor.user.id if actor.user is not None else None)
        client_id = client_id or actor.client_id
    LOG.append(s, {
        "event": event, "user_id": user_id, "client_id": client_id, "subject": (subject or "")[:MAX_DETAIL] or None,
        "ip": origin.ip, "request_id": origin.request_id, "details": _clean(details),
        "actor_kind": actor.kind if actor is not None else None,
    })


def public_view(row: AuditEvent) -> dict:
    return {
        "id": row.id,
        "event": row.event,
        "occurred_at": row.occurred_at.isoformat(),
        "user_id": row.user_id,
        "client_id": row.client_id,
        "subject": row.subject,
        "ip": row.ip,
        "request_id": row.request_id,
        "actor": row.actor_kind,
        "details": row.details or {},
    }


class AuditService:
    def __init__(self, store: AuditStore, permissions):
        self.store = store
        self.permissions = permissions

    def list(self, s: Session, actor: Principal, query: ListQuery) -> Page:
        """Administrators only: the log shows every user's activity."""
        self.permissions.require_administrator(actor, "read the security log")
        return paginate(query, sortable=SORTABLE, default_order="id", fetch=lambda checked: self.store.page(s, checked))
