"""Shop figures for the dashboard and the CLI: row counts, the 80/20 split, orders per day, orders per province."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, literal_column, select
from sqlalchemy.orm import Session

from kefu.config import SHOP_RULE_DEFAULTS, shop_rules
from kefu.domain.value_tier import TOP, tier_shares
from kefu.services.customer_stats import order_spend_sql, paid_flag_sql
from kefu.store.tables import Customer, Order, OrderLine, Shop
from kefu.store.types import from_fen

BUCKET_SECONDS = 900  # every real time zone's offset is a whole number of quarter hours
ZERO = Decimal("0.00")


@dataclass(frozen=True)
class TopCustomer:
    """One of the biggest spenders."""

    customer_id: str
    buyer_nick: str | None
    total_spent: Decimal
    orders_count: int
    value_tier: str | None


@dataclass(frozen=True)
class ValueSplit:
    """The 80/20 view of a shop: how much of the revenue its top-tier customers bring."""

    customers: int
    customers_with_spend: int
    top_share: float  # the configured share of spending customers in the top tier, e.g. 0.2
    top_count: int
    top_revenue: Decimal
    total_revenue: Decimal
    top_customers: list[TopCustomer]

    @property
    def top_revenue_share(self) -> float:
        """Top tier's share of revenue, 0.0–1.0."""
        return float(self.top_revenue / self.total_revenue) if self.total_revenue > 0 else 0.0


@dataclass(frozen=True)
class DayFigures:
    """One calendar day in the shop's time zone: orders created, how many of them are paid, and their revenue."""

    date: date
    orders: int
    paid_orders: int
    revenue: Decimal


@dataclass(frozen=True)
class RegionFigures:
    """Orders and revenue of one receiver province (None when the orders did not say)."""

    province: str | None
    orders: int
    paid_orders: int
    revenue: Decimal


def shop_timezone(shop: Shop | None) -> ZoneInfo:
    """The shop's time zone from its rules (Asia/Shanghai unless the shop says otherwise)."""
    name = shop_rules(shop.settings if shop else None).get("timezone") or SHOP_RULE_DEFAULTS["timezone"]
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(SHOP_RULE_DEFAULTS["timezone"])


def store_counts(session: Session, shop_id: str | None = None) -> dict[str, int]:
    """How many orders, order lines, customers and shops the store holds (for one shop when given)."""

    def count(model) -> int:
        query = select(func.count()).select_from(model)
        if shop_id is not None:
            query = query.where((model.id if model is Shop else model.shop_id) == shop_id)
        return int(session.scalar(query) or 0)

    return {
        "orders": count(Order),
        "order_lines": count(OrderLine),
        "customers": count(Customer),
        "shops": count(Shop),
    }


def value_split(session: Session, shop_id: str, *, top_n: int = 10) -> ValueSplit:
    """The 80/20 split from the customers' stored spend and tiers, with the `top_n` biggest spenders."""
    shop = session.get(Shop, shop_id)
    shares = tier_shares(shop_rules(shop.settings if shop else None).get("value_tiers"))
    spent = literal_column("customers.total_spent")
    row = session.execute(
        select(
            func.count(),
            func.sum(literal_column("CASE WHEN customers.total_spent > 0 THEN 1 ELSE 0 END")),
            func.sum(literal_column(f"CASE WHEN customers.value_tier = '{TOP}' AND customers.total_spent > 0 THEN 1 ELSE 0 END")),
            func.sum(literal_column(f"CASE WHEN customers.value_tier = '{TOP}' AND customers.total_spent > 0 THEN customers.total_spent ELSE 0 END")),
            func.sum(literal_column("CASE WHEN customers.total_spent > 0 THEN customers.total_spent ELSE 0 END")),
        )
        .select_from(Customer)
        .where(Customer.shop_id == shop_id)
    ).one()
    customers, with_spend, top_count, top_fen, total_fen = (int(value or 0) for value in row)
    top = session.execute(
        select(Customer.id, Customer.buyer_nick, spent, Customer.orders_count, Customer.value_tier)
        .where(Customer.shop_id == shop_id, Customer.total_spent > 0)
        .order_by(Customer.total_spent.desc(), Customer.id)
        .limit(top_n)
    ).all()
    return ValueSplit(
        customers=customers,
        customers_with_spend=with_spend,
        top_share=shares.top_ppm / 1_000_000,
        top_count=top_count,
        top_revenue=from_fen(top_fen),
        total_revenue=from_fen(total_fen),
        top_customers=[
            TopCustomer(cid, nick, from_fen(int(fen)), int(orders or 0), tier) for cid, nick, fen, orders, tier in top
        ],
    )


def _bucket_sql(session: Session) -> str:
    """SQL numbering the quarter hour (since 1970, UTC) an order was created in."""
    if session.get_bind().dialect.name == "sqlite":
        return f"CAST(strftime('%s', orders.created_at) AS INTEGER) / {BUCKET_SECONDS}"
    return f"CAST(FLOOR(EXTRACT(EPOCH FROM orders.created_at) / {BUCKET_SECONDS}) AS BIGINT)"


def daily_orders(session: Session, shop_id: str, *, days: int = 90, today: date | None = None) -> list[DayFigures]:
    """Orders created and paid revenue for each of the last `days` days up to `today`, days in the shop's time zone, empty days included."""
    shop = session.get(Shop, shop_id)
    zone = shop_timezone(shop)
    today = today or datetime.now(zone).date()
    first = today - timedelta(days=max(1, days) - 1)
    start = datetime.combine(first, time.min, zone).astimezone(timezone.utc)
    end = datetime.combine(today + timedelta(days=1), time.min, zone).astimezone(timezone.utc)
    bucket = literal_column(_bucket_sql(session))
    rows = session.execute(
        select(
            bucket,
            func.count(),
            func.sum(literal_column(paid_flag_sql("orders"))),
            func.sum(literal_column(order_spend_sql("orders"))),
        )
        .select_from(Order)
        .where(Order.shop_id == shop_id, Order.created_at >= start, Order.created_at < end)
        .group_by(bucket)
    ).all()
    totals: dict[date, list[int]] = {first + timedelta(days=n): [0, 0, 0] for n in range((today - first).days + 1)}
    for number, orders, paid, fen in rows:
        day = datetime.fromtimestamp(int(number) * BUCKET_SECONDS, timezone.utc).astimezone(zone).date()
        if day in totals:
            figures = totals[day]
            figures[0] += int(orders)
            figures[1] += int(paid or 0)
            figures[2] += int(fen or 0)
    return [DayFigures(day, o, p, from_fen(fen)) for day, (o, p, fen) in sorted(totals.items())]


def region_split(
    session: Session, shop_id: str, *, since: datetime | None = None, until: datetime | None = None
) -> list[RegionFigures]:
    """Orders and paid revenue per receiver province (orders created in [since, until) when given), most revenue first."""
    province = Order.receiver_province
    query = (
        select(
            province,
            func.count(),
            func.sum(literal_column(paid_flag_sql("orders"))),
            func.sum(literal_column(order_spend_sql("orders"))),
        )
        .select_from(Order)
        .where(Order.shop_id == shop_id)
        .group_by(province)
    )
    if since is not None:
        query = query.where(Order.created_at >= since)
    if until is not None:
        query = query.where(Order.created_at < until)
    figures = [
        RegionFigures(name, int(orders), int(paid or 0), from_fen(int(fen or 0)) or ZERO)
        for name, orders, paid, fen in session.execute(query)
    ]
    figures.sort(key=lambda f: (-f.revenue, -f.orders, f.province is None, f.province or ""))
    return figures
