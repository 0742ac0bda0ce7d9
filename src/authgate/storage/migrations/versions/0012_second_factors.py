"""Second factors (revision 0012): TOTP factors, recovery codes, sign-ins waiting for their second step, and
how each session and authorization code was authenticated (``amr``, RFC 8176)."""

from alembic import op
import sqlalchemy as sa

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "user_factors",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("secret", sa.Text(), nullable=False),
        sa.Column("last_step", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(), nullable=True),
        sa.UniqueConstraint("user_id", "kind"),
    )
    op.create_table(
        "recovery_codes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=True),
    )
    op.create_index("ix_recovery_codes_user_id", "recovery_codes", ["user_id"])
    op.create_table(
        "pending_sign_ins",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("pending_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_pending_sign_ins_user_id", "pending_sign_ins", ["user_id"])
    op.create_index("ix_pending_sign_ins_expires_at", "pending_sign_ins", ["expires_at"])
    with op.batch_alter_table("web_sessions") as batch:
        batch.add_column(sa.Column("amr", sa.String(64), nullable=True))
    with op.batch_alter_table("oauth_authorization_codes") as batch:
        batch.add_column(sa.Column("amr", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("oauth_authorization_codes") as batch:
        batch.drop_column("amr")
    with op.batch_alter_table("web_sessions") as batch:
        batch.drop_column("amr")
    op.drop_table("pending_sign_ins")
    op.drop_table("recovery_codes")
    op.drop_table("user_factors")
