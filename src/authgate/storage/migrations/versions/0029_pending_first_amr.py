"""A pending sign-in remembers how its first step was made (revision 0029).

``pending_sign_ins.first_amr``: the ``amr`` of the first step (``pwd``, or ``fed`` and the upstream's methods after
a sign-in through an identity provider), so the session started at the second step records both steps. Empty for
rows made before: they are a password's."""

from alembic import op
import sqlalchemy as sa

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("pending_sign_ins") as batch:
        batch.add_column(sa.Column("first_amr", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("pending_sign_ins") as batch:
        batch.drop_column("first_amr")
