"""Each resource server names the algorithm its access tokens are signed with (revision 0031).

RFC 9068 §2.1: RS256 stays the default every verifier supports; a resource may opt in to PS256, ES256 or
EdDSA, signed by keys reserved for resources (``signing_keys.reserved_for = 'resources'``).
"""

from alembic import op
import sqlalchemy as sa

revision = "0031"
down_revision = "0030"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("resource_servers") as batch:
        batch.add_column(sa.Column("signing_alg", sa.String(16), nullable=False, server_default="RS256"))


def downgrade() -> None:
    with op.batch_alter_table("resource_servers") as batch:
        batch.drop_column("signing_alg")
