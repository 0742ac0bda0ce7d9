"""A signing key made for FAPI 2.0 clients signs only for them (revision 0027).

Before, the ES256 key made on the spot for the first FAPI 2.0 client became the newest active key and so
signed every access token, moving resource servers that accept only RS256 off their tokens. Keys made that
way are found by their audit entry (``key.rotated`` with ``"for": "FAPI 2.0 clients"``) and marked.
"""

from alembic import op
import sqlalchemy as sa

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("signing_keys") as batch:
        batch.add_column(sa.Column("reserved_for", sa.String(16), nullable=True))
    op.execute("UPDATE signing_keys SET reserved_for = 'fapi2' WHERE kid IN (SELECT subject FROM audit_events "
               "WHERE event = 'key.rotated' AND CAST(details AS TEXT) LIKE '%FAPI 2.0 clients%')")


def downgrade() -> None:
    with op.batch_alter_table("signing_keys") as batch:
        batch.drop_column("reserved_for")
