"""Secrets shown once after a redirect (revision 0011): one sealed slot per new token or client secret,
read once by the page the POST redirects to (POST/redirect/GET)."""

from alembic import op
import sqlalchemy as sa

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "shown_once_slots",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("session_hash", sa.String(64), nullable=False),
        sa.Column("sealed", sa.Text(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_shown_once_slots_session_hash", "shown_once_slots", ["session_hash"])
    op.create_index("ix_shown_once_slots_expires_at", "shown_once_slots", ["expires_at"])


def downgrade() -> None:
    op.drop_table("shown_once_slots")
