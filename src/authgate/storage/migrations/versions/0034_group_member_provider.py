"""Which provider granted a group membership (revision 0034): ``group_members.provider_id``, set when an upstream
provider's group mapping adds the member and NULL for a membership made by hand. A provider's sign-in then takes
away only the memberships it granted, so two providers mapping to one group, or an administrator adding a member to
a mapped group, no longer undo each other. Memberships from before are given to a provider that maps their group
and at which their member has an identity (what that provider's next sign-in managed until now)."""

from alembic import op
import sqlalchemy as sa

revision = "0034"
down_revision = "0033"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("group_members") as table:
        table.add_column(sa.Column("provider_id", sa.Integer(), nullable=True))
        table.create_foreign_key("fk_group_members_provider_id", "identity_providers", ["provider_id"], ["id"],
                                 ondelete="SET NULL")
    op.execute(
        "UPDATE group_members SET provider_id = ("
        " SELECT MIN(m.provider_id) FROM provider_group_mappings m"
        " JOIN federated_identities i ON i.provider_id = m.provider_id"
        " WHERE m.group_id = group_members.group_id AND i.user_id = group_members.member_id)"
    )


def downgrade() -> None:
    with op.batch_alter_table("group_members") as table:
        table.drop_constraint("fk_group_members_provider_id", type_="foreignkey")
        table.drop_column("provider_id")
