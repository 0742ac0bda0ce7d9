"""Plain OAuth 2.0 upstream providers and the mapping of upstream claims and groups (revision 0033, issue 18):
the endpoints of a provider without discovery, its claim mapping, and ``provider_group_mappings``."""

from alembic import op
import sqlalchemy as sa

revision = "0033"
down_revision = "0032"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("identity_providers") as table:
        table.add_column(sa.Column("authorization_url", sa.String(2000), nullable=True))
        table.add_column(sa.Column("token_url", sa.String(2000), nullable=True))
        table.add_column(sa.Column("userinfo_url", sa.String(2000), nullable=True))
        table.add_column(sa.Column("claim_mapping", sa.JSON(), nullable=False, server_default="{}"))
    op.create_table(
        "provider_group_mappings",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("provider_id", sa.Integer(), sa.ForeignKey("identity_providers.id", ondelete="CASCADE"),
                  nullable=False, index=True),
        sa.Column("upstream_group", sa.String(255), nullable=False),
        sa.Column("group_id", sa.Integer(), sa.ForeignKey("groups.id", ondelete="CASCADE"), nullable=False,
                  index=True),
        sa.UniqueConstraint("provider_id", "upstream_group", "group_id"),
    )


def downgrade() -> None:
    op.drop_table("provider_group_mappings")
    with op.batch_alter_table("identity_providers") as table:
        table.drop_column("claim_mapping")
        table.drop_column("userinfo_url")
        table.drop_column("token_url")
        table.drop_column("authorization_url")
