"""Staged key rotation (revision 0010): a key is published before it signs, from ``activates_at``.

Rows from before have no ``activates_at``: they signed from ``created_at``.
"""

from alembic import op
import sqlalchemy as sa

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("signing_keys") as batch:
        batch.add_column(sa.Column("activates_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("signing_keys") as batch:
        batch.drop_column("activates_at")
