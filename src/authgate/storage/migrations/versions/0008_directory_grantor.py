"""Who let a client read the directory (revision 0008, issue 12 item 1).

A client credentials token may list users and groups only while whoever gave its client
``users:read`` / ``groups:read`` still may. Existing clients that use client credentials with one
of those scopes keep the read only when the security log (revision 0007) shows that the last change
to their scopes or grants was made at the CLI, or by a user who is an active administrator now;
every other such client (changed by someone else, or older than the log) loses it until an
administrator saves it again.
"""

from collections import defaultdict

from alembic import op
import sqlalchemy as sa

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

DIRECTORY_SCOPES = {"users:read", "groups:read"}
SETS_SCOPES = {"scopes", "grants"}

clients = sa.table("oauth_clients", sa.column("id", sa.Integer), sa.column("client_id", sa.String),
                   sa.column("grants", sa.JSON), sa.column("scopes", sa.JSON),
                   sa.column("directory_granted_by", sa.String), sa.column("directory_grantor_id", sa.Integer))
events = sa.table("audit_events", sa.column("id", sa.Integer), sa.column("event", sa.String),
                  sa.column("actor_kind", sa.String), sa.column("user_id", sa.Integer),
                  sa.column("subject", sa.String), sa.column("details", sa.JSON))
users = sa.table("users", sa.column("id", sa.Integer), sa.column("status", sa.String),
                 sa.column("is_administrator", sa.Boolean), sa.column("deleted_at", sa.DateTime))


def upgrade() -> None:
    op.add_column("oauth_clients", sa.Column("directory_granted_by", sa.String(length=16), nullable=True))
    op.add_column("oauth_clients", sa.Column("directory_grantor_id", sa.Integer(), nullable=True))
    bind = op.get_bind()
    readers = [row for row in bind.execute(sa.select(clients.c.id, clients.c.client_id, clients.c.grants,
                                                     clients.c.scopes))
               if "client_credentials" in (row.grants or ()) and DIRECTORY_SCOPES & set(row.scopes or ())]
    if not readers:
        return
    history = defaultdict(list)
    for event in bind.execute(sa.select(events.c.event, events.c.actor_kind, events.c.user_id, events.c.subject,
                                        events.c.details)
                              .where(events.c.event.in_(("client.created", "client.updated")))
                              .order_by(events.c.id)):
        fields = set(str((event.details or {}).get("fields", "")).split(","))
        if event.event == "client.created" or fields & SETS_SCOPES:
            history[event.subject].append(event)
    administrators = {row.id for row in bind.execute(
        sa.select(users.c.id).where(users.c.is_administrator.is_(True), users.c.status == "ACTIVE",
                                    users.c.deleted_at.is_(None)))}
    for client in readers:
        last = history[client.client_id][-1] if history[client.client_id] else None
        if last is None:
            continue
        if last.actor_kind == "system":
            granted = {"directory_granted_by": "system", "directory_grantor_id": None}
        elif last.user_id in administrators:
            granted = {"directory_granted_by": "user", "directory_grantor_id": last.user_id}
        else:
            continue
        bind.execute(clients.update().where(clients.c.id == client.id).values(**granted))


def downgrade() -> None:
    op.drop_column("oauth_clients", "directory_grantor_id")
    op.drop_column("oauth_clients", "directory_granted_by")
