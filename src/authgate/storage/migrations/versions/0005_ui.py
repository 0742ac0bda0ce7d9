"""Remembered consent (revision 0005): one row per user and client with the scopes they approved."""

from alembic import op
import sqlalchemy as sa


revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "oauth_consents",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("client_id", sa.Integer(), sa.ForeignKey("oauth_clients.id", ondelete="CASCADE"), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("user_id", "client_id"),
    )
    op.create_index("ix_oauth_consents_client_id", "oauth_consents", ["client_id"])


def downgrade() -> None:
    op.drop_index("ix_oauth_consents_client_id", table_name="oauth_consents")
    op.drop_table("oauth_consents")
