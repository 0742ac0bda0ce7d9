"""Dynamic client registration (revision 0017, RFC 7591 / RFC 7592): what a client that registered itself
keeps on its row (when, its registration access token's hash, the metadata kept as given, when its secret
expires) and the operator's initial access tokens."""

from alembic import op
import sqlalchemy as sa

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("oauth_clients") as batch:
        batch.add_column(sa.Column("registered_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("registration_token_hash", sa.String(64), nullable=True))
        batch.add_column(sa.Column("registration_metadata", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("secret_expires_at", sa.DateTime(), nullable=True))
        batch.create_unique_constraint("uq_oauth_clients_registration_token_hash", ["registration_token_hash"])
    op.create_table(
        "registration_tokens",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=True),
        sa.Column("uses_allowed", sa.Integer(), nullable=True),
        sa.Column("uses", sa.Integer(), nullable=False, server_default="0"),
    )


def downgrade() -> None:
    op.drop_table("registration_tokens")
    with op.batch_alter_table("oauth_clients") as batch:
        batch.drop_constraint("uq_oauth_clients_registration_token_hash", type_="unique")
        batch.drop_column("secret_expires_at")
        batch.drop_column("registration_metadata")
        batch.drop_column("registration_token_hash")
        batch.drop_column("registered_at")
