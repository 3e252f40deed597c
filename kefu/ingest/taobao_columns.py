"""千牛 CSV chunks read column by column: pyarrow splits the cells, polars cleans them into order or line fields.

Every row the vectorised rules cannot read exactly is marked `slow`; the caller hands those rows, with their raw
cells, to the record parser. A chunk whose cells pyarrow cannot split the way Python's csv module would (a wrong
column count, blank lines, stray carriage returns) is refused whole (`None`) and read by the record parser too.
"""

from __future__ import annotations

import io
from typing import Sequence

import polars as pl
import pyarrow as pa
import pyarrow.csv as pa_csv

from kefu.domain import order_status
from kefu.ingest import cell_columns as cc
from kefu.ingest.taobao_export import LINE_COLUMNS, ORDER_COLUMNS, ExportLayout

# Characters Python's str.strip() takes for whitespace and polars' does not.
_PYTHON_ONLY_SPACES = b"\x1c\x1d\x1e\x1f"


def _ambiguous(data: bytes) -> bool:
    """Text pyarrow and Python's csv/str.strip may read differently: lone carriage returns, \\x1c-\\x1f."""
    return data.count(b"\r") != data.count(b"\r\n") or len(data.translate(None, _PYTHON_ONLY_SPACES)) != len(data)


def raw_cells(text: str, width: int, first_line: int) -> pl.DataFrame | None:
    """The chunk's cells as string columns c0… with each record's `line_no` (its last physical line, as csv.reader
    counts), or None when the chunk needs the record parser."""
    data = text.encode("utf-8")
    if _ambiguous(data):
        return None
    names = [f"c{i}" for i in range(width)]
    refused: list[object] = []

    def refuse(_row: object) -> str:
        refused.append(_row)
        return "skip"

    try:
        table = pa_csv.read_csv(
            io.BytesIO(data),
            read_options=pa_csv.ReadOptions(column_names=names, block_size=1 << 26),
            parse_options=pa_csv.ParseOptions(newlines_in_values=True, ignore_empty_lines=False,
                                               invalid_row_handler=refuse),
            convert_options=pa_csv.ConvertOptions(column_types={n: pa.string() for n in names},
                                                  strings_can_be_null=False, quoted_strings_can_be_null=False),
        )
    except (pa.ArrowInvalid, UnicodeError):
        return None
    if refused:
        return None
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    cells = [pl.col(n) for n in names]
    if frame.select(pl.all_horizontal([c == "" for c in cells]).any()).item():
        return None  # a blank line and a line of empty cells look alike here; csv tells them apart
    line_no = first_line + pl.int_range(pl.len())
    if data.count(b"\n") > frame.height - (0 if data.endswith(b"\n") else 1):  # newlines inside cells: csv.reader counts each as a line
        line_no = line_no + pl.sum_horizontal([c.str.count_matches("\n", literal=True) for c in cells]).cum_sum()
    return frame.with_columns(line_no=line_no)


def _picked(cells: pl.DataFrame, layout: ExportLayout,
            columns: dict[str, tuple[str, ...]]) -> tuple[pl.DataFrame, dict[str, pl.Expr]]:
    """Every known field's cell and every extra column cleaned once (f_<field>, x<i>), and expressions naming them.
    Only columns with an Excel guard somewhere in the chunk pay for removing it; the others are just stripped."""
    used = sorted({layout.positions[name] for name in columns if name in layout.positions} | {i for i, _ in layout.extras})
    guarded = cells.select([pl.col(f"c{i}").str.contains(r"^\s*[='\"]").any().alias(f"c{i}") for i in used]).row(0)

    def clean(i: int) -> pl.Expr:
        return cc.cleaned(pl.col(f"c{i}")) if guarded[used.index(i)] else pl.col(f"c{i}").str.strip_chars()

    picked = {f"f_{name}": clean(layout.positions[name]) if name in layout.positions else pl.lit("")
              for name in columns}
    extras = {f"x{i}": clean(i) for i, _ in layout.extras}
    frame = cells.select("line_no", **picked, **extras)
    return frame, {name: pl.col(f"f_{name}") for name in columns}


def _extra(layout: ExportLayout) -> cc.Read:
    return cc.json_object([(name, pl.col(f"x{i}")) for i, name in layout.extras])


def _any(flags: Sequence[pl.Expr]) -> pl.Expr:
    return pl.any_horizontal(list(flags))


def order_fields(cells: pl.DataFrame, layout: ExportLayout, zone: str) -> pl.DataFrame:
    """One row per record with the OrderRecord fields (amounts in fen, times as UTC text) and a `slow` flag."""
    cells, f = _picked(cells, layout, ORDER_COLUMNS)
    order_no, slow_no = cc.platform_id(f["order_no"])
    phone, slow_phone = cc.platform_id(pl.when(f["mobile"] != "").then(f["mobile"]).otherwise(f["phone"]))
    amounts = {name: cc.fen(f[name]) for name in ("goods_amount", "post_fee", "total_amount", "paid_amount")}
    refunded, slow_refund = cc.refund_fen(f["refunded_amount"])
    time_fields = ("created_at", "paid_at", "shipped_at", "finished_at")
    hours = cc.utc_hours(cells, [f"f_{name}" for name in time_fields], zone)
    times = {name: cc.utc_time(f[name], hours) for name in time_fields}
    item_count, slow_count = cc.count(f["item_count"])
    extra, slow_extra = _extra(layout)
    province, city, district, street = cc.address_parts(f["address"])
    slow = _any([slow_no, order_no == "", slow_phone, slow_refund, slow_count, slow_extra,
                 *(s for _, s in amounts.values()), *(s for _, s in times.values())])
    fields = cells.select(
        line_no=pl.col("line_no"),
        order_no=order_no,
        buyer_nick=cc.none_if_empty(f["buyer_nick"]),
        status_text=f["status_text"],
        close_reason=pl.when(f["close_reason"] == "订单未关闭").then(pl.lit("")).otherwise(f["close_reason"]),
        **{name: value for name, (value, _) in times.items()},
        **{name: value for name, (value, _) in amounts.items()},
        refunded_amount=refunded,
        item_count=item_count,
        title_summary=cc.none_if_empty(f["title_summary"]),
        buyer_message=cc.none_if_empty(f["buyer_message"]),
        seller_memo=cc.none_if_empty(f["seller_memo"]),
        receiver_name=cc.none_if_empty(f["receiver_name"]),
        receiver_phone=cc.none_if_empty(phone),
        province=province, city=city, district=district, street=street,
        shipping_method=cc.none_if_empty(f["shipping_method"]),
        invoice_title=cc.none_if_empty(f["invoice_title"]),
        is_mobile=cc.flag(f["is_mobile"]),
        waybill=f["waybill"],
        carrier=cc.none_if_empty(f["carrier"]),
        extra=extra,
        slow=slow,
    )
    fields = fields.with_columns(has_paid_time=pl.col("paid_at").is_not_null())
    fields = cc.mapped(fields, ["status_text", "close_reason", "has_paid_time"], _order_status, "status")
    closed_unrefunded = (pl.col("status") == order_status.TRADE_CLOSED) & (pl.col("refunded_amount").fill_null(0) == 0)
    return fields.with_columns(
        refunded_amount=pl.when(closed_unrefunded).then(pl.col("paid_amount")).otherwise(pl.col("refunded_amount")),
        status_text=cc.none_if_empty(pl.col("status_text")),
        close_reason=cc.none_if_empty(pl.col("close_reason")),
    ).drop("has_paid_time")


def _order_status(status_text: str, close_reason: str, has_paid_time: bool) -> str:
    return order_status.from_export_wording(status_text, close_reason, paid=None if has_paid_time else False)


def _line_status(status_text: str) -> str | None:
    return order_status.from_export_wording(status_text) if status_text else None


def line_fields(cells: pl.DataFrame, layout: ExportLayout, zone: str) -> pl.DataFrame:
    """One row per record with the LineRecord fields and a `slow` flag."""
    cells, f = _picked(cells, layout, LINE_COLUMNS)
    order_no, slow_no = cc.platform_id(f["order_no"])
    sub_order_no, slow_sub = cc.platform_id(f["sub_order_no"])
    item_id, slow_item = cc.platform_id(f["item_id"])
    price, slow_price = cc.fen(f["price"])
    paid, slow_paid = cc.fen(f["paid_amount"])
    refunded, slow_refund = cc.refund_fen(f["refunded_amount"])
    quantity, slow_quantity = cc.count(f["quantity"])
    shipped_at, slow_shipped = cc.utc_time(f["shipped_at"], cc.utc_hours(cells, ["f_shipped_at"], zone))
    extra, slow_extra = _extra(layout)
    slow = _any([slow_no, order_no == "", f["title"] == "", slow_sub, slow_item, slow_price, slow_paid, slow_refund,
                 slow_quantity, slow_shipped, slow_extra])
    fields = cells.select(
        line_no=pl.col("line_no"),
        order_no=order_no,
        sub_order_no=cc.none_if_empty(sub_order_no),
        title=f["title"],
        sku_properties=cc.none_if_empty(f["sku_properties"].str.strip_chars('"')),
        outer_id=cc.none_if_empty(f["outer_id"]),
        item_id=cc.none_if_empty(item_id),
        price=price,
        quantity=quantity.fill_null(1),
        paid_amount=paid,
        refund_status=cc.none_if_empty(f["refund_status"]),
        refunded_amount=refunded,
        status_text=f["status_text"],
        shipped_at=shipped_at,
        extra=extra,
        slow=slow,
    )
    fields = cc.mapped(fields, ["status_text"], _line_status, "status")
    return fields.with_columns(status_text=cc.none_if_empty(pl.col("status_text")))
