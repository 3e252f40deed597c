"""Bulk rows as one JSON parameter (kefu.store.bulk): times land as naive UTC whatever their zone, nothing is refused."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone
from types import SimpleNamespace

from sqlalchemy import BigInteger, Column, Date, MetaData, String, Table
from sqlalchemy.dialects import postgresql

from kefu.store.bulk import _records
from kefu.store.types import UTCDateTime

TABLE = Table("t", MetaData(), Column("id", String), Column("at", UTCDateTime()), Column("day", Date),
              Column("n", BigInteger))
CONN = SimpleNamespace(dialect=postgresql.dialect())
BEIJING = timezone(timedelta(hours=8))


def _decoded(rows):
    return json.loads(_records(CONN, TABLE, list(rows[0]), rows))


def test_times_in_any_zone_are_written_as_their_utc_moment():
    rows = [{"id": "a", "at": datetime(2025, 6, 1, 8, 0, tzinfo=BEIJING), "day": date(2025, 6, 1), "n": 1},
            {"id": "b", "at": datetime(2025, 6, 1, 0, 0, tzinfo=UTC), "day": None, "n": None},
            {"id": "c", "at": datetime(2025, 6, 1, 0, 0), "day": None, "n": 2}]
    written = _decoded(rows)
    # a timestamp column reads the text up to its offset: each one must already say the UTC wall time
    assert [r["at"][:19] for r in written] == ["2025-06-01T00:00:00"] * 3
    assert written[0]["day"] == "2025-06-01" and written[1]["n"] is None
    assert rows[0]["at"].tzinfo is BEIJING  # the caller's rows are left as they were


def test_what_orjson_refuses_is_still_written():
    huge = 2**70
    assert _decoded([{"id": "a", "at": None, "day": None, "n": huge}])[0]["n"] == huge
