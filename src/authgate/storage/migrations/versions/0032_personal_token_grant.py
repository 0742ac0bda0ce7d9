"""The grant a personal access token was made with (revision 0032): ``personal_access_tokens.family_id``.

A token made through the API with an OAuth access token belongs to that token's family (its authorization),
and is revoked with it; None for one made by its owner's own means (a session, the CLI, another PAT)."""

from alembic import op
import sqlalchemy as sa

revision = "0032"
down_revision = "0031"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("personal_access_tokens") as batch:
        batch.add_column(sa.Column("family_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_personal_access_tokens_family_id", "oauth_token_families", ["family_id"], ["id"],
                                 ondelete="SET NULL")
        batch.create_index("ix_personal_access_tokens_family_id", ["family_id"])


def downgrade() -> None:
    with op.batch_alter_table("personal_access_tokens") as batch:
        batch.drop_index("ix_personal_access_tokens_family_id")
        batch.drop_constraint("fk_personal_access_tokens_family_id", type_="foreignkey")
        batch.drop_column("family_id")
