"""An index on ``registration_tokens.expires_at`` (revision 0028): the purge deletes initial access tokens by it."""

from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_registration_tokens_expires_at", "registration_tokens", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_registration_tokens_expires_at", table_name="registration_tokens")
