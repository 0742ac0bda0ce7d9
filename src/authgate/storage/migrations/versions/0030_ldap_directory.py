"""LDAP directories as identity providers (revision 0030).

``identity_providers.directory``: for a provider of kind ``ldap``, the user and group search bases and filters and
the mapping of its groups to local groups (``services/directory/``). Empty for OpenID Connect providers."""

from alembic import op
import sqlalchemy as sa

revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("identity_providers") as batch:
        batch.add_column(sa.Column("directory", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("identity_providers") as batch:
        batch.drop_column("directory")
