"""Resource servers (revision 0018): the APIs tokens are issued for (RFC 8707), and the resources each
authorization code, token family and device code was granted for.

``resources`` on codes, families and device codes is a JSON list of resource identifiers, or NULL for a
grant made without the ``resource`` parameter (whose tokens keep the issuer as their audience).
"""

from alembic import op
import sqlalchemy as sa

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

GRANTED = ("oauth_authorization_codes", "oauth_token_families", "oauth_device_codes")


def upgrade() -> None:
    op.create_table(
        "resource_servers",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("identifier", sa.String(2000), nullable=False, unique=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("access_token_ttl", sa.Integer(), nullable=True),
        sa.Column("introspection", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("builtin", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )
    for table in GRANTED:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("resources", sa.JSON(), nullable=True))


def downgrade() -> None:
    for table in reversed(GRANTED):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("resources")
    op.drop_table("resource_servers")
