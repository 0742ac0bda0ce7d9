"""OpenID Connect sign-out (revision 0019, RP-Initiated and Back-Channel Logout 1.0): the sign-out URIs a client
registers, the browser session each authorization code and token family came from (to know which clients a
session touched), and the queue of logout tokens waiting to be delivered."""

from alembic import op
import sqlalchemy as sa

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("oauth_clients") as batch:
        batch.add_column(sa.Column("post_logout_redirect_uris", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("backchannel_logout_uri", sa.Text(), nullable=True))
        batch.add_column(sa.Column("backchannel_logout_session_required", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
    with op.batch_alter_table("oauth_authorization_codes") as batch:
        batch.add_column(sa.Column("session_id", sa.Integer(), nullable=True))
    with op.batch_alter_table("oauth_token_families") as batch:
        batch.add_column(sa.Column("session_id", sa.Integer(), nullable=True))
        batch.create_index("ix_oauth_token_families_session_id", ["session_id"])
    op.create_table(
        "logout_deliveries",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("client_id", sa.Integer(), sa.ForeignKey("oauth_clients.id", ondelete="CASCADE"), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=True),
        sa.Column("jti", sa.String(64), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=False, index=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("logout_deliveries")
    with op.batch_alter_table("oauth_token_families") as batch:
        batch.drop_index("ix_oauth_token_families_session_id")
        batch.drop_column("session_id")
    with op.batch_alter_table("oauth_authorization_codes") as batch:
        batch.drop_column("session_id")
    with op.batch_alter_table("oauth_clients") as batch:
        batch.drop_column("backchannel_logout_session_required")
        batch.drop_column("backchannel_logout_uri")
        batch.drop_column("post_logout_redirect_uris")
