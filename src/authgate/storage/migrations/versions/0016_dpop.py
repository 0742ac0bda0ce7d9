"""DPoP (revision 0016): the key a public client's token family is bound to (RFC 9449 §5)."""

from alembic import op
import sqlalchemy as sa

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("oauth_token_families") as batch:
        batch.add_column(sa.Column("dpop_jkt", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("oauth_token_families") as batch:
        batch.drop_column("dpop_jkt")
