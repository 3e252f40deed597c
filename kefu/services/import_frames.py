"""A CSV export read chunk by chunk into the importer's row batches, columnar where it can be, row by row where not."""

from __future__ import annotations

from typing import Iterator

import polars as pl

from kefu.domain import order_status
from kefu.domain.carriers import carrier_code
from kefu.ingest import cell_columns as cc
from kefu.ingest.csv_chunks import CHUNK_BYTES, TextChunk
from kefu.ingest.taobao_columns import line_fields, order_fields, raw_cells
from kefu.ingest.taobao_export import ORDERS, ExportFile, LineRecord, OrderRecord, Rejection
from kefu.services.import_rows import RowBatch, RowMaker, line_content_id, record_batches
from kefu.services.import_tables import TableBatch, add_rows, from_rows

FALLBACK_ROWS = 20_000  # records per batch once a file is read row by row


def _order_rows(maker: RowMaker, fields: pl.DataFrame, batch: TableBatch) -> None:
    """RowMaker.add_orders for a frame of order fields."""
    shop_id, now = maker.shop_id, maker.now
    fields = cc.mapped(fields, ["buyer_nick"], lambda nick: maker.customer_id(nick) if nick else None, "customer_id")
    fields = fields.with_columns(
        id=pl.lit(f"{shop_id}:") + pl.col("order_no"), shop_id=pl.lit(shop_id), platform=pl.lit("taobao"),
        created_at_now=pl.lit(now),
    )
    batch.add("customers", fields.filter(pl.col("customer_id").is_not_null())
              .unique("customer_id", keep="first", maintain_order=True)
              .select(pl.col("customer_id").alias("id"), "shop_id", "platform", pl.col("buyer_nick").alias("buyer_key"),
                      "buyer_nick", "province", "city", "district", orders_count=0, paid_orders_count=0, total_spent=0,
                      marketing_consent=False, created_at="created_at_now"))
    batch.add("orders", fields.unique("id", keep="last", maintain_order=True).with_columns(
        currency=pl.lit("CNY"), receiver_province="province", receiver_city="city", receiver_district="district",
        receiver_address="street", source=pl.lit("taobao_export"), updated_at="created_at_now"))
    waybills = (
        fields.filter(pl.col("waybill") != "")
        .select("id", "shop_id", "carrier", "shipped_at", waybill=pl.col("waybill").str.replace_all("[，; ]", ",")
                .str.split(","))
        .explode("waybill")
        .filter(pl.col("waybill") != "")
    )
    if waybills.height:
        waybills = cc.mapped(waybills, ["carrier"], carrier_code, "carrier_code")
        batch.add("shipments", waybills.select(
            pl.col("id") + ":" + pl.col("waybill"), "shop_id", order_id="id", carrier_name="carrier",
            carrier_code="carrier_code", waybill_no="waybill", shipped_at="shipped_at"))


def _line_rows(maker: RowMaker, fields: pl.DataFrame, batch: TableBatch) -> None:
    """RowMaker.add_lines for a frame of line fields."""
    shop_id, now = maker.shop_id, maker.now
    fields = fields.with_columns(
        order_id=pl.lit(f"{shop_id}:") + pl.col("order_no"), shop_id=pl.lit(shop_id),
        sku=pl.col("sku_properties").fill_null(""), outer=pl.col("outer_id").fill_null(""),
    )
    fields = cc.mapped(fields, ["title", "sku", "outer"], line_content_id, "content_id")
    fields = fields.with_columns(id=pl.col("order_id") + "#" + pl.col("content_id"), title=pl.col("title").str.slice(0, 300))
    if maker.stub_orders:
        batch.add("stub_orders", fields.unique("order_id", keep="first", maintain_order=True).select(
            pl.col("order_id").alias("id"), "shop_id", "order_no", "status_text", platform=pl.lit("taobao"),
            status=pl.col("status").fill_null(order_status.UNKNOWN), currency=pl.lit("CNY"),
            source=pl.lit("taobao_export"), updated_at=pl.lit(now)))
    batch.add("order_lines", fields.unique("id", keep="last", maintain_order=True).with_columns(product_id=pl.lit(None)))


def _chunk_batch(export: ExportFile, maker: RowMaker, chunk: TextChunk, cells: pl.DataFrame) -> TableBatch:
    """One chunk's rows: the columnar fields for the usual rows, the record parser for the rest."""
    zone = export.zone.key
    orders = export.kind == ORDERS
    fields = (order_fields if orders else line_fields)(cells, export.layout, zone)
    batch = TableBatch(rows_read=cells.height, bytes_read=chunk.bytes_read)
    slow = fields["slow"]
    records: list[OrderRecord | LineRecord] = []
    if slow.any():
        picked = cells.filter(slow)
        for line_no, row in zip(picked["line_no"], picked.drop("line_no").iter_rows()):
            item = export.record(line_no, list(row))
            if isinstance(item, Rejection):
                batch.rejections.append(item)
            else:
                records.append(item)
        fields = fields.filter(~slow)
    fields = fields.drop("slow")
    (_order_rows if orders else _line_rows)(maker, fields, batch)
    if records:
        rows = RowBatch()
        (maker.add_orders if orders else maker.add_lines)(rows, records)  # type: ignore[arg-type]
        add_rows(batch, rows)
    return batch


def column_batches(export: ExportFile, maker: RowMaker, chunk_bytes: int = CHUNK_BYTES, *, start: int = 0,
                   stop: int | None = None) -> Iterator[TableBatch]:
    """Every row of a CSV export as row batches (one per chunk); from the first chunk the columnar reader refuses,
    the rest of the file goes through the record parser, exactly as row_batches reads it.

    A part of the file (import_split) starts at byte `start` and ends at the record boundary at `stop` while every
    chunk reads columnar; once the record parser has taken over it reads on to the end of the file, as one reader
    would. The last batch says where it ended (next_line) and how many bytes it could not decode."""
    width = len(export.layout.header)
    chunks = export.text_chunks(chunk_bytes, start=start, stop=stop)
    next_line = None
    for chunk in chunks:
        if chunk.boundary:
            next_line = chunk.first_line
            break
        cells = raw_cells(chunk.text, width, chunk.first_line)
        if cells is None:
            read = [chunk.bytes_read]
            rest = (c.text for c in _with_first(chunk, chunks, read))  # a boundary on the way has no text
            records = export.records(export.csv_rows(rest, chunk.first_line))
            for rows in record_batches(records, maker, export.kind, lambda: read[0], FALLBACK_ROWS):
                yield from_rows(rows)
            break
        if cells.height:
            yield _chunk_batch(export, maker, chunk, cells)
    if not start and stop is None:
        export.note_replaced_bytes()
    yield TableBatch(bytes_read=export.size if next_line is None else stop or 0, warnings=list(export.warnings),
                     next_line=next_line, replaced=export.replaced_bytes)


def _with_first(first: TextChunk, rest: Iterator[TextChunk], read: list[int]) -> Iterator[TextChunk]:
    yield first
    for chunk in rest:
        read[0] = chunk.bytes_read
        yield chunk
