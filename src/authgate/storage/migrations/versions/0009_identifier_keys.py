"""Sign-in identifiers compared as one namespace (revision 0009, issue 12 item 8).

``username_key`` and ``email_key`` hold each identifier NFKC-normalised and case-folded, computed
in Python (SQLite's ``lower()`` folds ASCII only), so that no identifier can be one user's username
and another's email. Existing rows are filled in here; a conflict already in the data is kept (the
service refuses new ones, and sign-in prefers the exact username). The columns stay nullable in the
schema (the service always sets them): on SQLite a NOT NULL change rebuilds the table.
"""

import unicodedata

from alembic import op
import sqlalchemy as sa

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def _key(value):
    return unicodedata.normalize("NFKC", value or "").casefold()


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("username_key", sa.String(), nullable=True))
        batch.add_column(sa.Column("email_key", sa.String(), nullable=True))
    users = sa.table("users", sa.column("id", sa.Integer), sa.column("username", sa.String),
                     sa.column("email", sa.String), sa.column("username_key", sa.String),
                     sa.column("email_key", sa.String))
    connection = op.get_bind()
    for id_, username, email in connection.execute(sa.select(users.c.id, users.c.username, users.c.email)).all():
        connection.execute(users.update().where(users.c.id == id_).values(
            username_key=_key(username), email_key=_key(email)))
    op.create_index("ix_users_username_key", "users", ["username_key"])
    op.create_index("ix_users_email_key", "users", ["email_key"])


def downgrade() -> None:
    op.drop_index("ix_users_email_key", table_name="users")
    op.drop_index("ix_users_username_key", table_name="users")
    op.drop_column("users", "email_key")
    op.drop_column("users", "username_key")
