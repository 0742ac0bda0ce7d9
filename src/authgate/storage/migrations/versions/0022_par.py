"""Pushed authorization requests (revision 0022, RFC 9126) and the two client requirements: pushed requests
(``require_pushed_authorization_requests``) and DPoP proofs (RFC 9449 §5.2 ``dpop_bound_access_tokens``); the DPoP
key an authorization code is bound to (``dpop_jkt``, RFC 9449 §10)."""

from alembic import op
import sqlalchemy as sa

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("oauth_clients") as batch:
        batch.add_column(sa.Column("require_par", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("require_dpop", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("oauth_authorization_codes") as batch:
        batch.add_column(sa.Column("dpop_jkt", sa.String(64), nullable=True))
    op.create_table(
        "pushed_authorization_requests",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("request_uri_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("client_id", sa.Integer(), sa.ForeignKey("oauth_clients.id", ondelete="CASCADE"), nullable=False,
                  index=True),
        sa.Column("parameters", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False, index=True),
        sa.Column("first_used_at", sa.DateTime(), nullable=True),
        sa.Column("sign_in_after", sa.DateTime(), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("pushed_authorization_requests")
    with op.batch_alter_table("oauth_authorization_codes") as batch:
        batch.drop_column("dpop_jkt")
    with op.batch_alter_table("oauth_clients") as batch:
        batch.drop_column("require_dpop")
        batch.drop_column("require_par")
