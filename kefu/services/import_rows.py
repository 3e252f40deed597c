"""Turning parsed export records into the row tuples the importer writes, in batches (no database needed)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Callable, Iterator

from kefu.domain import order_status
from kefu.domain.carriers import carrier_code
from kefu.ids import customer_id as make_customer_id
from kefu.ids import stable_id
from kefu.ingest.cells import utc_text
from kefu.ingest.taobao_export import ORDERS, ExportFile, LineRecord, OrderRecord, Rejection

ORDER_COLUMNS = (
    "id", "shop_id", "platform", "order_no", "customer_id", "buyer_nick", "status", "status_text", "close_reason",
    "created_at", "paid_at", "shipped_at", "finished_at", "goods_amount", "post_fee", "total_amount", "paid_amount",
    "refunded_amount", "currency", "item_count", "title_summary", "buyer_message", "seller_memo", "receiver_name",
    "receiver_phone", "receiver_province", "receiver_city", "receiver_district", "receiver_address", "shipping_method",
    "invoice_title", "is_mobile", "source", "extra", "updated_at",
)
CUSTOMER_COLUMNS = ("id", "shop_id", "platform", "buyer_key", "buyer_nick", "province", "city", "district",
                    "orders_count", "paid_orders_count", "total_spent", "marketing_consent", "created_at")
SHIPMENT_COLUMNS = ("id", "shop_id", "order_id", "carrier_name", "carrier_code", "waybill_no", "shipped_at")
STUB_ORDER_COLUMNS = ("id", "shop_id", "platform", "order_no", "status", "status_text", "currency", "source", "updated_at")
LINE_COLUMNS = (
    "id", "shop_id", "order_id", "line_no", "sub_order_no", "product_id", "title", "sku_properties", "outer_id",
    "price", "quantity", "paid_amount", "refund_status", "refunded_amount", "status", "extra",
)
CUSTOMER_IDS_KEPT = 500_000  # buyers whose id a reader remembers (a bound on its memory, not on correctness)


@dataclass
class RowBatch:
    """One batch of rows ready for executemany, with the rows it rejected and how far into the file it got."""

    rows_read: int = 0
    rejections: list[Rejection] = field(default_factory=list)
    customers: list[tuple] = field(default_factory=list)
    orders: list[tuple] = field(default_factory=list)
    shipments: list[tuple] = field(default_factory=list)
    stub_orders: list[tuple] = field(default_factory=list)
    lines: list[list] = field(default_factory=list)  # product_id is filled in by the writer
    line_products: list[tuple] = field(default_factory=list)  # (item_id, outer_id, title, price) per line
    bytes_read: int = 0
    warnings: list[str] = field(default_factory=list)


class RowMaker:
    """Builds row tuples for one shop; times are UTC text (which SQLite stores and PostgreSQL casts) and JSON is text."""

    def __init__(self, shop_id: str, *, sqlite: bool, now: datetime | None = None, stub_orders: bool = True):
        self.shop_id = shop_id
        self.sqlite = sqlite
        self.stub_orders = stub_orders
        self.now = utc_text(now or datetime.now(timezone.utc))
        self._customer_ids: dict[str, str] = {}

    def customer_id(self, buyer_nick: str) -> str:
        """The buyer's customer id, hashed once per buyer (most orders of a large file are repeat buyers')."""
        cid = self._customer_ids.get(buyer_nick)
        if cid is None:
            if len(self._customer_ids) >= CUSTOMER_IDS_KEPT:
                self._customer_ids.clear()
            cid = self._customer_ids[buyer_nick] = make_customer_id(self.shop_id, "taobao", buyer_nick)
        return cid

    @staticmethod
    def json(value: dict | None) -> str | None:
        return None if value is None else json.dumps(value, ensure_ascii=False)

    def add_orders(self, batch: RowBatch, records: list[OrderRecord]) -> None:
        shop_id, now = self.shop_id, self.now
        customers: dict[str, tuple] = {}
        orders: dict[str, tuple] = {}
        for r in records:
            cid = None
            if r.buyer_nick:
                cid = self.customer_id(r.buyer_nick)
                if cid not in customers:
                    customers[cid] = (cid, shop_id, "taobao", r.buyer_nick, r.buyer_nick, r.province, r.city, r.district,
                                      0, 0, 0, False, now)
            oid = f"{shop_id}:{r.order_no}"
            shipped_at = r.shipped_at
            orders[oid] = (
                oid, shop_id, "taobao", r.order_no, cid, r.buyer_nick, r.status, r.status_text, r.close_reason,
                r.created_at, r.paid_at, shipped_at, r.finished_at,
                r.goods_amount, r.post_fee, r.total_amount, r.paid_amount, r.refunded_amount, "CNY", r.item_count,
                r.title_summary, r.buyer_message, r.seller_memo, r.receiver_name, r.receiver_phone, r.province, r.city,
                r.district, r.street, r.shipping_method, r.invoice_title, r.is_mobile, "taobao_export",
                self.json(r.extra), now,
            )
            if r.waybills:
                code = carrier_code(r.carrier)
                for waybill in r.waybills:
                    batch.shipments.append((f"{oid}:{waybill}", shop_id, oid, r.carrier, code, waybill, shipped_at))
        batch.customers.extend(customers.values())
        batch.orders.extend(orders.values())

    def add_lines(self, batch: RowBatch, records: list[LineRecord]) -> None:
        shop_id, now = self.shop_id, self.now
        stubs: dict[str, tuple] = {}
        lines: dict[str, tuple] = {}
        for r in records:
            oid = f"{shop_id}:{r.order_no}"
            if self.stub_orders and oid not in stubs:
                stubs[oid] = (oid, shop_id, "taobao", r.order_no, r.status or order_status.UNKNOWN, r.status_text, "CNY",
                              "taobao_export", now)
            # A line's id comes from its content, so the old and new report layouts land on the same row.
            line_id = f"{oid}#{line_content_id(r.title, r.sku_properties or '', r.outer_id or '')}"
            lines[line_id] = (
                [line_id, shop_id, oid, r.line_no, r.sub_order_no, None, r.title[:300], r.sku_properties, r.outer_id,
                 r.price, r.quantity, r.paid_amount, r.refund_status, r.refunded_amount, r.status, self.json(r.extra)],
                (r.item_id, r.outer_id, r.title[:300], r.price),
            )
        batch.stub_orders.extend(stubs.values())
        for row, product in lines.values():
            batch.lines.append(row)
            batch.line_products.append(product)


def line_content_id(title: str, sku_properties: str, outer_id: str) -> str:
    """The part of an order line's id taken from its content (the same in the old and new report layouts)."""
    return stable_id(title, sku_properties, outer_id)[:12]


def row_batches(export: ExportFile, maker: RowMaker, size: int = 2000) -> Iterator[RowBatch]:
    """Read the whole export, yielding row batches of about `size` records each."""
    yield from record_batches(iter(export), maker, export.kind, export.bytes_read, size)
    yield RowBatch(bytes_read=export.size, warnings=list(export.warnings))


def record_batches(items: Iterator[OrderRecord | LineRecord | Rejection], maker: RowMaker, kind: str,
                   position: Callable[[], int], size: int = 2000) -> Iterator[RowBatch]:
    """Records and rejections as row batches of about `size` records each; `position` says how far the file is read."""
    add = maker.add_orders if kind == ORDERS else maker.add_lines
    batch, records = RowBatch(), []
    for item in items:
        if isinstance(item, Rejection):
            if item.line_no:
                batch.rows_read += 1
            batch.rejections.append(item)
            continue
        batch.rows_read += 1
        records.append(item)
        if len(records) >= size:
            add(batch, records)  # type: ignore[arg-type]
            batch.bytes_read = position()
            yield batch
            batch, records = RowBatch(), []
    add(batch, records)  # type: ignore[arg-type]
    batch.bytes_read = position()
    yield batch
