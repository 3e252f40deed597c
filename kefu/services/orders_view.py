"""Orders as the workbench reads them: a filtered, paginated list and one order with its lines and parcels."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from kefu.domain import order_status
from kefu.store.tables import Customer, Order, OrderLine, Shipment, Shop

MAX_PER_PAGE = 200


@dataclass(frozen=True)
class OrderPage:
    """One page of orders, newest first, and how many there are in all."""

    items: list[Order]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


@dataclass(frozen=True)
class OrderDetail:
    """An order with everything the order page shows."""

    order: Order
    shop: Shop
    lines: list[OrderLine]
    shipments: list[Shipment]
    customer: Customer | None


def like_pattern(text: str) -> str:
    """A LIKE pattern matching `text` anywhere, with the user's % and _ taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def parse_statuses(status: str | None) -> list[str]:
    """TOP statuses from a filter value: one status or several separated by commas; unknown words are dropped."""
    if not status:
        return []
    return [s for s in (part.strip().upper() for part in status.split(",")) if s in order_status.ALL]


def search_orders(
    session: Session,
    *,
    shop_id: str | None = None,
    status: str | None = None,
    q: str | None = None,
    customer_id: str | None = None,
    page: int = 1,
    per_page: int = 50,
) -> OrderPage:
    """Orders of a shop (or all shops) filtered by status, by order number or buyer nick (`q`), or by customer."""
    per_page = max(1, min(per_page, MAX_PER_PAGE))
    page = max(1, page)
    conditions = []
    if shop_id:
        conditions.append(Order.shop_id == shop_id)
    statuses = parse_statuses(status)
    if statuses:
        conditions.append(Order.status.in_(statuses))
    if customer_id:
        conditions.append(Order.customer_id == customer_id)
    q = (q or "").strip().strip("'=\"")
    if q:
        matches = [Order.order_no == q, Order.order_name == q, Order.buyer_nick.like(like_pattern(q), escape="\\")]
        if q.isdigit():
            matches.append(Order.order_no.like(q + "%"))
        conditions.append(or_(*matches))
    total = session.scalar(select(func.count()).select_from(Order).where(*conditions)) or 0
    rows = session.scalars(
        select(Order)
        .where(*conditions)
        .order_by(Order.created_at.desc().nulls_last(), Order.order_no.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    return OrderPage(items=list(rows), total=total, page=page, per_page=per_page)


def order_detail(session: Session, order_id: str) -> OrderDetail | None:
    """The order with its lines (in line order), its parcels and its customer; None when there is no such order."""
    order = session.get(Order, order_id)
    if order is None:
        return None
    lines = session.scalars(select(OrderLine).where(OrderLine.order_id == order_id).order_by(OrderLine.line_no))
    shipments = session.scalars(select(Shipment).where(Shipment.order_id == order_id).order_by(Shipment.shipped_at))
    customer = session.get(Customer, order.customer_id) if order.customer_id else None
    return OrderDetail(
        order=order, shop=session.get(Shop, order.shop_id), lines=list(lines), shipments=list(shipments), customer=customer
    )


def status_counts(session: Session, shop_id: str | None = None) -> dict[str, int]:
    """How many orders there are in each TOP status (for the filter tabs)."""
    query = select(Order.status, func.count()).group_by(Order.status)
    if shop_id:
        query = query.where(Order.shop_id == shop_id)
    return {status: count for status, count in session.execute(query)}
