"""Many rows in one statement: on PostgreSQL from JSON parameters (json_populate_recordset), elsewhere executemany."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any

import orjson
from sqlalchemy import ColumnElement, Connection, Table, bindparam, insert, update
from sqlalchemy.dialects import sqlite

from kefu.store.driver_sql import driver_execute
from kefu.store.types import UTCDateTime

Row = dict[str, Any]


def among(column: Any, name: str) -> ColumnElement[bool]:
    """`column IN :name`, the list bound at execution (on PostgreSQL, hot reads bind keys as JSON: driver_sql.json_keys)."""
    return column.in_(bindparam(name, expanding=True))


def insert_rows(conn: Connection, table: Table, rows: Sequence[Row], *, skip_existing: bool = False) -> None:
    """INSERT the rows (all with the same keys); `skip_existing` leaves a row whose key is already stored alone."""
    RowWrites().insert(table, rows, skip_existing=skip_existing).run(conn)


def update_rows(conn: Connection, table: Table, rows: Sequence[Row], *, key: str = "id") -> None:
    """UPDATE each row's columns (all rows with the same keys) where `key` matches."""
    RowWrites().update(table, rows, key=key).run(conn)


@dataclass
class RowWrites:
    """Bulk inserts and updates of different tables, run together: on PostgreSQL as one statement (a data-modifying
    WITH per table, one JSON parameter each), so a batch's writes cost one round trip; elsewhere one executemany each.

    The writes must not depend on each other's rows within the statement (PostgreSQL runs them on one snapshot).
    """

    _writes: list[tuple[str, Table, Sequence[Row], str | bool]] = field(default_factory=list)

    def insert(self, table: Table, rows: Sequence[Row], *, skip_existing: bool = False) -> RowWrites:
        if rows:
            self._writes.append(("insert", table, rows, skip_existing))
        return self

    def update(self, table: Table, rows: Sequence[Row], *, key: str = "id") -> RowWrites:
        if rows:
            self._writes.append(("update", table, rows, key))
        return self

    def run(self, conn: Connection) -> None:
        if not self._writes:
            return
        if conn.dialect.name != "postgresql":
            for kind, table, rows, option in self._writes:
                _executemany(conn, kind, table, rows, option)
            return
        shapes = tuple((kind, table, tuple(rows[0]), option) for kind, table, rows, option in self._writes)
        params = {f"p{n}": _records(conn, table, names, rows)
                  for n, ((_, table, names, _), (_, _, rows, _)) in enumerate(zip(shapes, self._writes))}
        driver_execute(conn, _statement(shapes), params)  # no SQLAlchemy statement handling: see driver_sql


def _executemany(conn: Connection, kind: str, table: Table, rows: Sequence[Row], option: str | bool) -> None:
    if kind == "insert":
        conn.execute(sqlite.insert(table).on_conflict_do_nothing() if option else insert(table), list(rows))
        return
    key = str(option)
    conn.execute(update(table).where(table.c[key] == bindparam("b_key")),
                 [{"b_key": row[key], **{n: v for n, v in row.items() if n != key}} for row in rows])


@lru_cache(maxsize=64)
def _statement(shapes: tuple[tuple[str, Table, tuple[str, ...], str | bool], ...]) -> str:
    """One SQL text for these writes: a single write alone, several as data-modifying WITH parts."""
    parts = [_insert_sql(table, names, bool(option), f"p{n}") if kind == "insert" else _update_sql(table, names, str(option), f"p{n}")
             for n, (kind, table, names, option) in enumerate(shapes)]
    if len(parts) == 1:
        return parts[0]
    *first, last = parts
    return "WITH " + ", ".join(f"w{n} AS ({part})" for n, part in enumerate(first)) + " " + last


def _records(conn: Connection, table: Table, names: Sequence[str], rows: Sequence[Row]) -> str:
    """The rows as one JSON array, each value as its column's type binds it (UTC times made naive, say).

    One text parameter, encoded in C, instead of a Python-dumped array per column.
    """
    processors = _processors(table, tuple(names), conn.dialect)
    if processors:  # UTC times are written as they are (their processor cost more than the rest of a row)
        rows = [{**row, **{name: process(row[name]) for name, process in processors}} for row in rows]
    rows = _times_in_utc(rows)
    try:  # orjson: a batch's rows in a tenth of the standard encoder's time; a time as ISO text, its offset +00:00,
        # which a timestamp column ignores (naive UTC is how UTCDateTime stores it)
        return orjson.dumps(rows, default=json_value).decode()
    except TypeError:  # what orjson refuses (an int beyond 64 bits, say): the standard encoder writes it
        return json.dumps(rows, ensure_ascii=False, default=json_value)


def _times_in_utc(rows: Sequence[Row]) -> Sequence[Row]:
    """The rows with any aware time that is not in UTC moved to UTC (a copy of those rows only; nearly always none)."""
    moved: list[Row] | None = None
    for index, row in enumerate(rows):
        if any(v.__class__ is datetime and v.tzinfo is not None and v.tzinfo is not UTC for v in row.values()):
            moved = moved if moved is not None else list(rows)
            moved[index] = {k: v.astimezone(UTC) if v.__class__ is datetime and v.tzinfo is not None else v
                            for k, v in row.items()}
    return moved if moved is not None else rows


@lru_cache(maxsize=256)
def _processors(table: Table, names: tuple[str, ...], dialect: Any) -> tuple[tuple[str, Any], ...]:
    """The columns among `names` whose type changes a value before binding, with how (looked up once per shape)."""
    return tuple((name, process) for name in names if not isinstance(table.c[name].type, UTCDateTime)
                 and (process := table.c[name].type.bind_processor(dialect)))


def json_value(value: Any) -> str:
    """A value json cannot write itself: an aware time as naive UTC (how UTCDateTime stores it), a date in ISO form."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None).isoformat()
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} cannot be written as a JSON record value")


def _insert_sql(table: Table, names: tuple[str, ...], skip_existing: bool, param: str) -> str:
    conflict = " ON CONFLICT DO NOTHING" if skip_existing else ""
    return (f"INSERT INTO {table.name} ({_quoted(names)}) SELECT {_quoted(names, 'v.')} "
            f"FROM json_populate_recordset(NULL::{table.name}, %({param})s::json) AS v{conflict}")


def _update_sql(table: Table, names: tuple[str, ...], key: str, param: str) -> str:
    """The rows joined by key; the keys also as an array, so the planner probes the key's index (it takes a JSON
    function for a hundred rows and would rather scan a small table whole, and keeps that plan as the table grows)."""
    assignments = ", ".join(f'"{n}" = v."{n}"' for n in names if n != key)
    return (f'UPDATE {table.name} AS t SET {assignments} FROM json_populate_recordset(NULL::{table.name}, %({param})s::json) AS v '
            f'WHERE t."{key}" = v."{key}" '
            f'AND t."{key}" = ANY(ARRAY(SELECT e->>\'{key}\' FROM json_array_elements(%({param})s::json) AS e))')


def _quoted(names: Sequence[str], prefix: str = "") -> str:
    return ", ".join(f'{prefix}"{n}"' for n in names)
