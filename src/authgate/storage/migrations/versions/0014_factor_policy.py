"""The second-factor policy (revision 0014): who must have a second factor (one row: off, everyone, administrators
or the members of chosen groups), those groups, and how each token family was authenticated (``amr``, RFC 8176),
so that refreshed access tokens and introspection still say it."""

from alembic import op
import sqlalchemy as sa

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "factor_policy",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("require", sa.String(16), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "factor_policy_groups",
        sa.Column("group_id", sa.Integer(), sa.ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True),
    )
    with op.batch_alter_table("oauth_token_families") as batch:
        batch.add_column(sa.Column("amr", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("oauth_token_families") as batch:
        batch.drop_column("amr")
    op.drop_table("factor_policy_groups")
    op.drop_table("factor_policy")
