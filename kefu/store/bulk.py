"""Many rows in one statement: on PostgreSQL from one JSON parameter (json_populate_recordset), elsewhere executemany."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import ColumnElement, Connection, Table, bindparam, func, insert, update
from sqlalchemy.dialects import postgresql, sqlite

Row = dict[str, Any]


def among(column: Any, name: str, *, postgresql_array: bool) -> ColumnElement[bool]:
    """`column IN :name` for a list bound at execution; as `= ANY(:name)` on PostgreSQL, so that the statement's text is
    the same whatever the count and is prepared once instead of planned per count."""
    if postgresql_array:
        return column == func.any(bindparam(name, type_=postgresql.ARRAY(column.type)))
    return column.in_(bindparam(name, expanding=True))


def insert_rows(conn: Connection, table: Table, rows: Sequence[Row], *, skip_existing: bool = False) -> None:
    """INSERT the rows (all with the same keys); `skip_existing` leaves a row whose key is already stored alone."""
    if not rows:
        return
    if conn.dialect.name != "postgresql":
        statement = sqlite.insert(table).on_conflict_do_nothing() if skip_existing else insert(table)
        conn.execute(statement, list(rows))
        return
    names = tuple(rows[0])
    conn.exec_driver_sql(_insert_sql(table, names, skip_existing), (_records(conn, table, names, rows),))


def update_rows(conn: Connection, table: Table, rows: Sequence[Row], *, key: str = "id") -> None:
    """UPDATE each row's columns (all rows with the same keys) where `key` matches."""
    if not rows:
        return
    if conn.dialect.name != "postgresql":
        conn.execute(update(table).where(table.c[key] == bindparam("b_key")),
                     [{"b_key": row[key], **{n: v for n, v in row.items() if n != key}} for row in rows])
        return
    names = tuple(rows[0])
    conn.exec_driver_sql(_update_sql(table, names, key), (_records(conn, table, names, rows),))


def _records(conn: Connection, table: Table, names: Sequence[str], rows: Sequence[Row]) -> str:
    """The rows as one JSON array, each value as its column's type binds it (UTC times made naive, say).

    One text parameter, encoded in C, instead of a Python-dumped array per column.
    """
    processors = [(name, process) for name in names if (process := table.c[name].type.bind_processor(conn.dialect))]
    if processors:
        rows = [{**row, **{name: process(row[name]) for name, process in processors}} for row in rows]
    return json.dumps(rows, ensure_ascii=False, default=_json_value)


def _json_value(value: Any) -> str:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} cannot be written as a JSON record value")


@lru_cache(maxsize=64)
def _insert_sql(table: Table, names: tuple[str, ...], skip_existing: bool) -> str:
    conflict = " ON CONFLICT DO NOTHING" if skip_existing else ""
    return (f"INSERT INTO {table.name} ({_quoted(names)}) SELECT {_quoted(names, 'v.')} "
            f"FROM json_populate_recordset(NULL::{table.name}, %s::json) AS v{conflict}")


@lru_cache(maxsize=64)
def _update_sql(table: Table, names: tuple[str, ...], key: str) -> str:
    assignments = ", ".join(f'"{n}" = v."{n}"' for n in names if n != key)
    return (f'UPDATE {table.name} AS t SET {assignments} FROM json_populate_recordset(NULL::{table.name}, %s::json) AS v '
            f'WHERE t."{key}" = v."{key}"')


def _quoted(names: Sequence[str], prefix: str = "") -> str:
    return ", ".join(f'{prefix}"{n}"' for n in names)
