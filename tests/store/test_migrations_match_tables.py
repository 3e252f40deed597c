"""The migrations build exactly the schema the table classes declare, on both stores."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from kefu.store.tables import Base


def _differences(store) -> list:
    with store.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(context, Base.metadata)


def test_migrated_schema_equals_declared_tables(store):
    diff = _differences(store)
    assert diff == [], "migrations and kefu/store/*tables.py disagree; write the missing migration step:\n" + "\n".join(
        map(str, diff))
