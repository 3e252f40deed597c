"""What paid, unshipped orders ask of the stock: each line matched to its SKU, after the refunds, substitutions and
cancellations of stockout cases, and allocated first paid, first served.

`skus.stock` is the units on hand in the warehouse (what the last stock file or catalogue said); units promised to
paid, unshipped orders are not taken off it, they are worked out here from the orders themselves.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.domain import order_status as os_
from kefu.domain.rules.watch import UNSHIPPED_STATUSES
from kefu.domain.stock.allocation import Allocation, LineDemand, OrderDemand, allocate
from kefu.domain.stock.pick import CANCELLED
from kefu.ingest.product_catalog import normalise_properties
from kefu.store.stock_tables import StockoutCase, StockoutLine
from kefu.store.tables import Order, OrderLine, Product, Sku

CHUNK = 500
_LINE_DONE = {os_.WAIT_BUYER_CONFIRM_GOODS, os_.TRADE_BUYER_SIGNED, os_.TRADE_FINISHED, os_.TRADE_CLOSED,
              os_.TRADE_CLOSED_BY_TAOBAO}
_LINE_DONE_WORDS = ("关闭", "已发货", "交易成功", "已签收", "退款成功")


def line_still_open(line: OrderLine) -> bool:
    """A line not shipped, closed or refunded on its own (a partly shipped order keeps only its open lines)."""
    status = line.status or ""
    if status in _LINE_DONE or any(word in status for word in _LINE_DONE_WORDS):
        return False
    return "成功" not in (line.refund_status or "")


@dataclass
class ShopSkus:
    """A shop's SKUs, found by id and by (product, properties) as order lines name them."""

    by_id: dict[str, Sku]
    by_key: dict[tuple[str, str], Sku]
    titles: dict[str, str]  # product id → title

    def of_line(self, product_id: str | None, properties: str | None) -> Sku | None:
        if product_id is None:
            return None
        return self.by_key.get((product_id, normalise_properties(properties or "")))

    def stock(self) -> dict[str, int | None]:
        return {sku_id: sku.stock for sku_id, sku in self.by_id.items()}


def shop_skus(session: Session, shop_id: str) -> ShopSkus:
    skus = list(session.scalars(select(Sku).where(Sku.shop_id == shop_id)))
    titles = dict(session.execute(select(Product.id, Product.title).where(Product.shop_id == shop_id)).all())
    return ShopSkus({s.id: s for s in skus}, {(s.product_id, s.properties): s for s in skus}, titles)


@dataclass
class ShopDemand:
    """The unshipped orders of a shop, their open lines and the allocation of the stock to them."""

    skus: ShopSkus
    orders: dict[str, Order]
    lines: dict[str, OrderLine]
    line_skus: dict[str, str | None]  # line id → the SKU it now takes from
    allocation: Allocation

    def free(self, sku_id: str) -> int:
        """Units of a tracked SKU nobody has been promised."""
        return self.allocation.left.get(sku_id, 0)


def _in_chunks(ids: list[str]) -> Iterable[list[str]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


def shop_demand(session: Session, shop_id: str) -> ShopDemand:
    """Load the shop's paid, unshipped orders and allocate the stock on hand to them in payment order."""
    skus = shop_skus(session, shop_id)
    orders = {o.id: o for o in session.scalars(
        select(Order).where(Order.shop_id == shop_id, Order.status.in_(sorted(UNSHIPPED_STATUSES)),
                            Order.paid_at.is_not(None)))}
    cancelled = set(session.scalars(select(StockoutCase.order_id).where(
        StockoutCase.shop_id == shop_id, StockoutCase.status == CANCELLED)))
    for order_id in cancelled:
        orders.pop(order_id, None)
    lines: dict[str, OrderLine] = {}
    for chunk in _in_chunks(sorted(orders)):
        for line in session.scalars(select(OrderLine).where(OrderLine.order_id.in_(chunk))
                                    .order_by(OrderLine.order_id, OrderLine.line_no)):
            if line_still_open(line):
                lines[line.id] = line
    adjustments: dict[str, StockoutLine] = {}
    for chunk in _in_chunks(sorted(lines)):
        for row in session.scalars(select(StockoutLine).where(StockoutLine.order_line_id.in_(chunk))
                                   .order_by(StockoutLine.id)):
            if row.action in ("refund", "substitute"):
                adjustments[row.order_line_id] = row
    line_skus: dict[str, str | None] = {}
    by_order: dict[str, list[LineDemand]] = {}
    for line in lines.values():
        adjusted = adjustments.get(line.id)
        sku = skus.of_line(line.product_id, line.sku_properties)
        sku_id = sku.id if sku else None
        quantity = line.quantity
        if adjusted is not None and adjusted.action == "substitute" and adjusted.substitute_sku_id:
            sku_id = adjusted.substitute_sku_id
        if adjusted is not None and adjusted.action == "refund":
            quantity -= adjusted.refunded_quantity
        line_skus[line.id] = sku_id
        by_order.setdefault(line.order_id, []).append(LineDemand(line.id, sku_id, max(quantity, 0)))
    demands = [OrderDemand(o.id, o.paid_at, o.order_no, tuple(by_order.get(o.id, ()))) for o in orders.values()]
    return ShopDemand(skus, orders, lines, line_skus, allocate(demands, skus.stock()))
