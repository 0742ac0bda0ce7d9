"""Request objects (revision 0024, RFC 9101): the client requirement ``require_signed_request_object`` (§10.5),
and which kept authorization requests came from a request object sent through the browser rather than pushed."""

from alembic import op
import sqlalchemy as sa

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("oauth_clients") as batch:
        batch.add_column(sa.Column("require_request_object", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("pushed_authorization_requests") as batch:
        batch.add_column(sa.Column("front_channel", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("pushed_authorization_requests") as batch:
        batch.drop_column("front_channel")
    with op.batch_alter_table("oauth_clients") as batch:
        batch.drop_column("require_request_object")
