"""kefu.ingest.cells as polars expressions: each reads the usual shape of a cell and flags any other shape as slow.

A slow cell is not an error: the row goes to the record parser (kefu.ingest.taobao_export), which reads every shape
and words every rejection, so the columnar path never has to agree with it on anything but the common case.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Callable, Sequence

import polars as pl

from kefu.ingest.cells import _NO_AMOUNT_WORDS, _FALSE_WORDS, _TRUE_WORDS

Read = tuple[pl.Expr, pl.Expr]  # (value, slow): slow rows are read again by the record parser

_MONEY = r"^([0-9]{1,15})(?:\.([0-9]{1,2}))?$"
_COUNT = r"^([0-9]{1,15})(?:\.0+)?$"
_SCIENTIFIC = r"^\d(\.\d+)?[eE]\+?\d+$"
_TRAILING_ZEROS = r"^(\d+)\.0+$"
_USUAL_TIME = r"^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-5][0-9]:[0-5][0-9]$"
_POSTCODE = r"\s*\(\d{6}\)\s*$"
_ADDRESS = r"^(\S+)(?:\s+(\S+))?(?:\s+(\S+))?(?:\s+([\s\S]+))?$"
_CONTROL = r"[\x00-\x1f]"


def cleaned(raw: pl.Expr) -> pl.Expr:
    """kefu.ingest.cells.clean: spaces stripped, then Excel's `="…"` wrapping or a leading `=` / `'` removed."""
    cell = raw.str.strip_chars()
    wrapped = cell.str.starts_with('="')
    closed = wrapped & cell.str.ends_with('"') & (cell.str.len_chars() > 2)
    return (
        pl.when(closed).then(cell.str.slice(2, cell.str.len_chars() - 3))
        .when(wrapped).then(cell.str.slice(2))
        .when(cell.str.starts_with("=") | cell.str.starts_with("'")).then(cell.str.slice(1))
        .otherwise(cell)
        .str.strip_chars()
    )


def none_if_empty(cell: pl.Expr) -> pl.Expr:
    return pl.when(cell == "").then(None).otherwise(cell)


def fen(cell: pl.Expr) -> Read:
    """cells.parse_fen for plain `59` / `59.5` / `59.00`; anything else (thousands commas, ¥, errors) is slow."""
    parts = cell.str.extract_groups(_MONEY)
    whole = parts.struct.field("1").cast(pl.Int64)
    cents = (parts.struct.field("2").fill_null("") + "00").str.slice(0, 2).cast(pl.Int64)
    value = whole * 100 + cents
    return value, (cell != "") & value.is_null()


def refund_fen(cell: pl.Expr) -> Read:
    """cells.parse_refund_fen: the export's words for "no refund" read as zero."""
    value, slow = fen(cell)
    no_refund = cell.is_in(sorted(_NO_AMOUNT_WORDS))
    return pl.when(no_refund).then(pl.lit(0, pl.Int64)).otherwise(value), slow & ~no_refund


def count(cell: pl.Expr) -> Read:
    """cells.parse_count for `3` and `3.0`."""
    value = cell.str.extract(_COUNT, 1).cast(pl.Int64)
    return value, (cell != "") & value.is_null()


def platform_id(cell: pl.Expr) -> Read:
    """cells.parse_id: `.00` tails dropped; scientific notation is slow (the record parser words the rejection)."""
    value = pl.when(cell.str.contains(_TRAILING_ZEROS)).then(cell.str.extract(_TRAILING_ZEROS, 1)).otherwise(cell)
    return value, cell.str.contains(_SCIENTIFIC)


def utc_hours(frame: pl.DataFrame, columns: Sequence[str], zone: str) -> dict[str, str]:
    """Each local hour ("yyyy-MM-dd HH") the columns mention, as its UTC hour, for hours the zone keeps at one
    whole-hour offset from :00 to :59 (as cells.LocalTimes does: the conversion runs once per hour, not per cell)."""
    hours = pl.concat([frame.get_column(c).str.slice(0, 13) for c in columns]).unique().to_frame("hour")

    def utc(suffix: str) -> pl.Expr:
        local = (pl.col("hour") + suffix).str.strptime(pl.Datetime("us"), "%Y-%m-%d %H:%M:%S", strict=False)
        return local.dt.replace_time_zone(zone, ambiguous="earliest", non_existent="null").dt.convert_time_zone("UTC")

    table = hours.select("hour", start=utc(":00:00"), end=utc(":59:59")).filter(
        (pl.col("end") - pl.col("start") == timedelta(seconds=3599)) & (pl.col("start").dt.minute() == 0))
    return dict(zip(table["hour"], table["start"].dt.strftime("%Y-%m-%d %H")))


def utc_time(cell: pl.Expr, hours: dict[str, str]) -> Read:
    """cells.LocalTimes.utc for `yyyy-MM-dd HH:mm:ss`, by the hour table of utc_hours; other shapes are slow."""
    usual = cell.str.contains(_USUAL_TIME)
    hour = pl.when(usual).then(cell.str.slice(0, 13)).replace_strict(hours, default=None, return_dtype=pl.String)
    value = hour + cell.str.slice(13) + ".000000"
    return value, (cell != "") & value.is_null()


def flag(cell: pl.Expr) -> pl.Expr:
    """cells.parse_flag: 是/否 and friends, anything else unknown."""
    words = {**{w: True for w in _TRUE_WORDS}, **{w: False for w in _FALSE_WORDS}}
    return cell.replace_strict(words, default=None, return_dtype=pl.Boolean)


def address_parts(cell: pl.Expr) -> list[pl.Expr]:
    """cells.split_address: province, city, district and street, a postcode suffix dropped."""
    parts = cell.str.replace(_POSTCODE, "").str.extract_groups(_ADDRESS)
    return [parts.struct.field(str(i)) for i in range(1, 5)]


def json_object(fields: Sequence[tuple[str, pl.Expr]]) -> Read:
    """json.dumps(dict, ensure_ascii=False) of the fields that are not empty, `0` or `0.00`; None when none are.

    Values with control characters are slow: only the record parser escapes those exactly as json.dumps does.
    """
    pieces, slow = [], pl.lit(False)
    if not fields:
        return pl.lit(None, pl.String), slow
    for name, cell in fields:
        kept = ~cell.is_in(["", "0", "0.00"])
        escaped = cell.str.replace_all("\\", "\\\\", literal=True).str.replace_all('"', '\\"', literal=True)
        pieces.append(pl.when(kept).then(pl.lit(json.dumps(name, ensure_ascii=False) + ': "') + escaped + '"'))
        slow = slow | (kept & cell.str.contains(_CONTROL))
    body = pl.concat_str(pieces, separator=", ", ignore_nulls=True)
    return pl.when(body == "").then(None).otherwise("{" + body + "}"), slow


def mapped(frame: pl.DataFrame, columns: Sequence[str], func: Callable[..., object], name: str,
           dtype: pl.DataType = pl.String) -> pl.DataFrame:
    """`frame` with a column `name` = func(*row[columns]), computed once per distinct combination (statuses,
    carriers, buyer ids): the exact Python rule, at the cost of the distinct values only."""
    keys = frame.select(columns).unique(maintain_order=True)
    values = [func(*row) for row in keys.iter_rows()]
    table = keys.with_columns(pl.Series(name, values, dtype=dtype))
    return frame.join(table, on=list(columns), how="left", nulls_equal=True, maintain_order="left")
