"""Storage: the SQLAlchemy models, the engine and sessions, and the Alembic migrations."""
