"""Hot statements run straight on the DBAPI cursor: no SQLAlchemy statement walk per call, errors still SQLAlchemy's.

For a few statements run thousands of times a second (a carrier push batch): SQLAlchemy spends more CPU computing a
select's cache key and processing its rows than PostgreSQL spends running it. The text is written once, the rows
come back as the driver returns them, and a driver error is raised as the matching sqlalchemy.exc class, so callers
that retry on IntegrityError or OperationalError behave as with conn.execute.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError


def driver_rows(conn: Connection, sql: str, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
    """Run a query (the driver's %(name)s placeholders) in the connection's transaction; its rows as the driver returns them."""
    return _run(conn, sql, params, rows=True)


def driver_execute(conn: Connection, sql: str, params: Mapping[str, Any]) -> None:
    """Run a statement that returns no rows (the driver's %(name)s placeholders) in the connection's transaction."""
    _run(conn, sql, params, rows=False)


def _run(conn: Connection, sql: str, params: Mapping[str, Any], *, rows: bool) -> list[tuple[Any, ...]]:
    if not conn.in_transaction():
        conn.begin()  # as conn.execute would: the statement belongs to a transaction the connection knows of
    dbapi = conn.dialect.dbapi
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(sql, params)
        return cursor.fetchall() if rows else []
    except dbapi.Error as exc:  # type: ignore[union-attr]
        raise DBAPIError.instance(sql, params, exc, dbapi.Error, dialect=conn.dialect) from exc
    finally:
        cursor.close()


def json_keys(name: str) -> str:
    """SQL for a list of text keys bound as one JSON array in parameter `name`, usable as `column = ANY(…)`.

    One text parameter (json.dumps, in C) instead of a driver-dumped array, and the planner still probes the index.
    """
    return f"ARRAY(SELECT json_array_elements_text(%({name})s::json))"


def as_utc(value: Any) -> Any:
    """A naive UTC timestamp as read from a UTCDateTime column, made aware (as the column type returns it)."""
    return value.replace(tzinfo=UTC) if value is not None else None
