"""Revocation events and purge indexes (revision 0006, issue 8).

``revocation_events`` is an append-only log of what was revoked (access token ``jti``s, deleted
clients, changed users, revoked personal access tokens, rotated keys). Every worker polls it by
``created_at`` so that its in-process revocation cache agrees with the database within a second,
even where a cascade has deleted the token rows themselves. The migration backfills the access
tokens already revoked and not yet expired, so an upgrade does not bring any back to life.
"""

from alembic import op
import sqlalchemy as sa

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "revocation_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("subject", sa.String(128), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_revocation_events_created_at", "revocation_events", ["created_at"])
    op.create_index("ix_oauth_token_families_created_at", "oauth_token_families", ["created_at"])
    op.create_index("ix_personal_access_tokens_expires_at", "personal_access_tokens", ["expires_at"])
    op.execute(
        "INSERT INTO revocation_events (kind, subject, created_at) "
        "SELECT 'jti', jti, revoked_at FROM oauth_access_tokens "
        "WHERE revoked_at IS NOT NULL AND expires_at > CURRENT_TIMESTAMP"
    )


def downgrade() -> None:
    op.drop_index("ix_personal_access_tokens_expires_at", "personal_access_tokens")
    op.drop_index("ix_oauth_token_families_created_at", "oauth_token_families")
    op.drop_index("ix_revocation_events_created_at", "revocation_events")
    op.drop_table("revocation_events")
