"""Alembic environment: migrations run on the engine authgate hands over (see ``storage.migrate``)."""

from alembic import context

from authgate.storage.models import Base

engine = context.config.attributes["engine"]
sqlite = engine.dialect.name == "sqlite"

with engine.connect() as connection:
    if sqlite:
        # A batch migration rebuilds a table (copy, drop, rename): with foreign keys enforced, the drop
        # would cascade to, or be refused by, every row that references it. The pragma only takes
        # effect outside a transaction, so it is set on the raw connection before the migration begins.
        connection.connection.dbapi_connection.execute("PRAGMA foreign_keys=OFF")
    try:
        with connection.begin():
            context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=sqlite)
            context.run_migrations()
            if sqlite and connection.exec_driver_sql("PRAGMA foreign_key_check").first() is not None:
                raise RuntimeError("a migration left rows whose foreign keys point nowhere")
    finally:
        if sqlite:
            connection.connection.dbapi_connection.execute("PRAGMA foreign_keys=ON")
