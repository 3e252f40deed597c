"""The importer's unit of work: one batch of rows per target table as polars frames with the tables' column types."""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from kefu.ingest.taobao_export import Rejection
from kefu.services.import_rows import (
    CUSTOMER_COLUMNS,
    LINE_COLUMNS,
    ORDER_COLUMNS,
    SHIPMENT_COLUMNS,
    STUB_ORDER_COLUMNS,
    RowBatch,
)

_INTEGERS = frozenset({"goods_amount", "post_fee", "total_amount", "paid_amount", "refunded_amount", "item_count",
                       "orders_count", "paid_orders_count", "total_spent", "line_no", "price", "quantity"})
_BOOLEANS = frozenset({"is_mobile", "marketing_consent"})


def schema(columns: tuple[str, ...]) -> dict[str, pl.DataType]:
    """Polars types for a target table's columns: fen and counts as Int64, flags as Boolean, the rest text."""
    return {c: pl.Int64() if c in _INTEGERS else pl.Boolean() if c in _BOOLEANS else pl.String() for c in columns}


# Lines carry their product's platform item id until the writer has linked them to a product.
LINE_STAGE_COLUMNS = (*LINE_COLUMNS, "item_id")
SCHEMAS = {
    "customers": schema(CUSTOMER_COLUMNS),
    "orders": schema(ORDER_COLUMNS),
    "shipments": schema(SHIPMENT_COLUMNS),
    "stub_orders": schema(STUB_ORDER_COLUMNS),
    "order_lines": schema(LINE_STAGE_COLUMNS),
}


PRODUCT_KEY = ("item_id", "outer_id", "title", "price")  # what a line's product is found by (see import_products_link)
LINE_PRODUCTS = {"ref": pl.Int64(), **{c: SCHEMAS["order_lines"][c] for c in PRODUCT_KEY}}
SCHEMAS["line_products"] = LINE_PRODUCTS


def empty(table: str) -> pl.DataFrame:
    return pl.DataFrame(schema=SCHEMAS[table])


@dataclass
class TableBatch:
    """Rows for each target table from one stretch of a file, the rows it rejected, and how far into the file it got."""

    rows_read: int = 0
    rejections: list[Rejection] = field(default_factory=list)
    tables: dict[str, pl.DataFrame] = field(default_factory=dict)
    bytes_read: int = 0
    warnings: list[str] = field(default_factory=list)
    # On the last batch of a part of a file (import_split): the line the next part starts on when this part ended
    # at its boundary (None: it read on to the end of the file), and how many bytes it could not decode.
    next_line: int | None = None
    replaced: int = 0

    def add(self, table: str, frame: pl.DataFrame) -> None:
        """Append rows to a table (columns in the table's order, cast to its types)."""
        frame = frame.select([pl.col(c).cast(t) for c, t in SCHEMAS[table].items()])
        if frame.height:
            before = self.tables.get(table)
            self.tables[table] = frame if before is None else pl.concat([before, frame])

    def frame(self, table: str) -> pl.DataFrame:
        return self.tables.get(table, empty(table))


def from_rows(batch: RowBatch) -> TableBatch:
    """A batch of the record parser's row tuples as frames."""
    tables = TableBatch(rows_read=batch.rows_read, rejections=batch.rejections, bytes_read=batch.bytes_read,
                        warnings=batch.warnings)
    add_rows(tables, batch)
    return tables


def add_rows(tables: TableBatch, batch: RowBatch) -> None:
    """Append a RowBatch's tuples to the frames of `tables`."""
    lines = [(*row, product[0]) for row, product in zip(batch.lines, batch.line_products)]
    for table, rows in (("customers", batch.customers), ("orders", batch.orders), ("shipments", batch.shipments),
                        ("stub_orders", batch.stub_orders), ("order_lines", lines)):
        if rows:
            tables.add(table, pl.DataFrame(rows, schema=SCHEMAS[table], orient="row"))


class ProductRefs:
    """Numbers each distinct (item id, outer id, title, price) of a file's lines in the order they first appear, so
    the writer links products once per distinct item: lines carry `product_ref` and each batch lists its new items
    in a `line_products` table."""

    def __init__(self) -> None:
        self.refs: dict[tuple, int] = {}

    def assign(self, batch: TableBatch) -> None:
        lines = batch.tables.get("order_lines")
        if lines is None:
            return
        keys = lines.select(PRODUCT_KEY).unique(maintain_order=True)
        refs, new = [], []
        for key in keys.iter_rows():
            ref = self.refs.get(key)
            if ref is None:
                ref = self.refs[key] = len(self.refs)
                new.append((ref, *key))
            refs.append(ref)
        keys = keys.with_columns(product_ref=pl.Series(refs, dtype=pl.Int64))
        batch.tables["order_lines"] = lines.join(keys, on=list(PRODUCT_KEY), how="left", nulls_equal=True,
                                                 maintain_order="left").drop("item_id")
        if new:
            batch.tables["line_products"] = pl.DataFrame(new, schema=LINE_PRODUCTS, orient="row")


class FirstCustomers:
    """Drops the customer rows the upsert would ignore: it inserts a buyer's first row and afterwards only fills in a
    missing province, so a buyer's rows after their first (and after their first with a province, when the first
    had none) change nothing. Most rows of a large order report are repeat buyers: this keeps the stage small."""

    def __init__(self) -> None:
        self.seen = pl.DataFrame(schema={"id": pl.String(), "had_province": pl.Boolean()})

    def keep(self, batch: TableBatch) -> None:
        """Filter the batch's customers in file order, as the upsert would meet them."""
        customers = batch.tables.get("customers")
        if customers is None:
            return
        province = pl.col("has_province")
        known = customers.select("id", has_province=pl.col("province").is_not_null()).join(
            self.seen, on="id", how="left", maintain_order="left")
        known = known.with_columns(
            any_before=pl.col("had_province").is_not_null() | (pl.int_range(pl.len()).over("id") > 0),
            province_before=pl.col("had_province").fill_null(False)
            | ((province.cast(pl.Int32).cum_sum() - province.cast(pl.Int32)).over("id") > 0))
        kept = known.select(~pl.col("any_before") | (province & ~pl.col("province_before"))).to_series()
        now = known.group_by("id").agg(had_province=pl.col("had_province").fill_null(False).first() | province.any())
        self.seen = pl.concat([self.seen.join(now, on="id", how="anti"), now])
        customers = customers.filter(kept)
        if customers.height:
            batch.tables["customers"] = customers
        else:
            del batch.tables["customers"]
