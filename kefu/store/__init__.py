"""Storage: SQLAlchemy tables, Alembic migrations and the queries the rest of kefu reads through."""
