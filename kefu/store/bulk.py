"""Many rows in one statement: on PostgreSQL from column arrays (unnest, one prepared text), elsewhere as executemany."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import ColumnElement, Connection, Table, bindparam, func, insert, update
from sqlalchemy.dialects import postgresql, sqlite

Row = dict[str, Any]


def among(conn: Connection, column: Any, values: Iterable[str]) -> ColumnElement[bool]:
    """`column IN values`; on PostgreSQL `= ANY(array)`, one statement text whatever the count, so it is prepared once."""
    ordered = sorted(set(values))
    if conn.dialect.name == "postgresql":
        return column == func.any(bindparam(None, ordered, type_=postgresql.ARRAY(column.type)))
    return column.in_(ordered)


def insert_rows(conn: Connection, table: Table, rows: Sequence[Row], *, skip_existing: bool = False) -> None:
    """INSERT the rows (all with the same keys); `skip_existing` leaves a row whose key is already stored alone."""
    if not rows:
        return
    if conn.dialect.name != "postgresql":
        statement = sqlite.insert(table).on_conflict_do_nothing() if skip_existing else insert(table)
        conn.execute(statement, list(rows))
        return
    names = tuple(rows[0])
    conn.exec_driver_sql(_insert_sql(table, names, skip_existing), _arrays(conn, table, names, rows))


def update_rows(conn: Connection, table: Table, rows: Sequence[Row], *, key: str = "id") -> None:
    """UPDATE each row's columns (all rows with the same keys) where `key` matches."""
    if not rows:
        return
    if conn.dialect.name != "postgresql":
        conn.execute(update(table).where(table.c[key] == bindparam("b_key")),
                     [{"b_key": row[key], **{n: v for n, v in row.items() if n != key}} for row in rows])
        return
    names = tuple(rows[0])
    conn.exec_driver_sql(_update_sql(table, names, key), _arrays(conn, table, names, rows))


def _arrays(conn: Connection, table: Table, names: Sequence[str], rows: Sequence[Row]) -> dict[str, list[Any]]:
    """One list per column, each value as the column's type binds it (UTC times made naive, say)."""
    arrays: dict[str, list[Any]] = {}
    for name in names:
        process = table.c[name].type.bind_processor(conn.dialect)
        values = [row[name] for row in rows]
        arrays[name] = [process(v) for v in values] if process else values
    return arrays


@lru_cache(maxsize=64)
def _array_types(table: Table, names: tuple[str, ...]) -> str:
    dialect = postgresql.psycopg.dialect()
    return ", ".join(f"%({n})s::{table.c[n].type.compile(dialect=dialect)}[]" for n in names)


@lru_cache(maxsize=64)
def _insert_sql(table: Table, names: tuple[str, ...], skip_existing: bool) -> str:
    conflict = " ON CONFLICT DO NOTHING" if skip_existing else ""
    return f"INSERT INTO {table.name} ({_quoted(names)}) SELECT * FROM unnest({_array_types(table, names)}){conflict}"


@lru_cache(maxsize=64)
def _update_sql(table: Table, names: tuple[str, ...], key: str) -> str:
    assignments = ", ".join(f'"{n}" = v."{n}"' for n in names if n != key)
    return (f'UPDATE {table.name} AS t SET {assignments} FROM unnest({_array_types(table, names)}) AS v({_quoted(names)}) '
            f'WHERE t."{key}" = v."{key}"')


def _quoted(names: Sequence[str]) -> str:
    return ", ".join(f'"{n}"' for n in names)
