"""Client keys (revision 0020): how a client authenticates at the token endpoint, its public keys (RFC 7523
``private_key_jwt``: ``jwks`` inline or ``jwks_uri``), and the mark of a client known by its Client ID
Metadata Document, whose ``client_id`` is a URL (so the column widens)."""

from alembic import op
import sqlalchemy as sa

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("oauth_clients") as batch:
        batch.alter_column("client_id", type_=sa.String(512), existing_type=sa.String(64))
        batch.add_column(sa.Column("auth_method", sa.String(32), nullable=True))
        batch.add_column(sa.Column("jwks", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("jwks_uri", sa.Text(), nullable=True))
        batch.add_column(sa.Column("metadata_document_at", sa.DateTime(), nullable=True))
    with op.batch_alter_table("audit_events") as batch:
        batch.alter_column("client_id", type_=sa.String(512), existing_type=sa.String(64))


def downgrade() -> None:
    with op.batch_alter_table("audit_events") as batch:
        batch.alter_column("client_id", type_=sa.String(64), existing_type=sa.String(512))
    with op.batch_alter_table("oauth_clients") as batch:
        batch.drop_column("metadata_document_at")
        batch.drop_column("jwks_uri")
        batch.drop_column("jwks")
        batch.drop_column("auth_method")
        batch.alter_column("client_id", type_=sa.String(64), existing_type=sa.String(512))
