"""procrastinate's queue schema, applied by kefu's migration into its own PostgreSQL schema (never by hand)."""

from __future__ import annotations

from sqlalchemy import Connection, text

QUEUE_SCHEMA = "procrastinate"  # the PostgreSQL schema holding procrastinate's tables, types and functions

# Every procrastinate function (and trigger function) runs with its own schema first, so kefu can call them from a
# connection whose search_path is kefu's (deferring a job in the caller's transaction) and the triggers still work.
_PIN_FUNCTIONS = f"""
DO $$
DECLARE f record;
BEGIN
  FOR f IN SELECT p.oid::regprocedure AS sig FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
           WHERE n.nspname = '{QUEUE_SCHEMA}' AND p.prokind = 'f'
  LOOP
    EXECUTE format('ALTER FUNCTION %s SET search_path = {QUEUE_SCHEMA}, pg_catalog', f.sig);
  END LOOP;
END $$;
"""


def queue_schema_present(connection: Connection) -> bool:
    return connection.execute(text(f"SELECT to_regclass('{QUEUE_SCHEMA}.procrastinate_jobs')")).scalar() is not None


def apply_queue_schema(connection: Connection) -> bool:
    """Create procrastinate's schema in `procrastinate` unless it is there already; True when it was created."""
    from procrastinate.schema import SchemaManager

    if queue_schema_present(connection):
        return False
    saved = connection.execute(text("SELECT current_setting('search_path')")).scalar()
    driver = connection.connection.driver_connection  # psycopg: a script without parameters runs as one batch
    driver.execute(f"CREATE SCHEMA IF NOT EXISTS {QUEUE_SCHEMA}")
    driver.execute(f"SET LOCAL search_path TO {QUEUE_SCHEMA}")
    driver.execute(SchemaManager.get_schema())
    driver.execute(_PIN_FUNCTIONS)
    connection.execute(text("SELECT set_config('search_path', :p, true)"), {"p": saved})
    return True


def drop_queue_schema(connection: Connection) -> None:
    connection.exec_driver_sql(f"DROP SCHEMA IF EXISTS {QUEUE_SCHEMA} CASCADE")
