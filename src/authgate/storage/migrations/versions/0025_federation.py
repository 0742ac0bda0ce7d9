"""Sign-in through upstream OpenID Connect providers (revision 0025, issue 18): the providers, the identities
linking a provider's subject to a local user, and the round trips under way."""

from alembic import op
import sqlalchemy as sa

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "identity_providers",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(64), nullable=False, unique=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("issuer", sa.String(2000), nullable=False),
        sa.Column("client_id", sa.String(512), nullable=False),
        sa.Column("client_secret", sa.Text(), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("allow_jit", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("link_verified_email", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("allow_private_network", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "federated_identities",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("provider_id", sa.Integer(), sa.ForeignKey("identity_providers.id", ondelete="CASCADE"),
                  nullable=False, index=True),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
        sa.Column("email", sa.String(255), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_used_at", sa.DateTime(), nullable=True),
        sa.UniqueConstraint("provider_id", "subject"),
    )
    op.create_table(
        "federated_sign_ins",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("state_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("provider_id", sa.Integer(), sa.ForeignKey("identity_providers.id", ondelete="CASCADE"),
                  nullable=False, index=True),
        sa.Column("sealed", sa.Text(), nullable=False),
        sa.Column("next_url", sa.Text(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False, index=True),
    )


def downgrade() -> None:
    op.drop_table("federated_sign_ins")
    op.drop_table("federated_identities")
    op.drop_table("identity_providers")
