"""Refresh-token grace window (revision 0004): the rotated pair, sealed with the old token.

A client that retries a refresh within the grace window gets the same new pair back; the pair is
stored encrypted under a key only the old refresh token yields, so the database alone reveals nothing.
"""

from alembic import op
import sqlalchemy as sa

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("oauth_refresh_tokens") as batch:
        batch.add_column(sa.Column("replay_blob", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("oauth_refresh_tokens") as batch:
        batch.drop_column("replay_blob")
