"""Pure figures about one customer's buying: spend, average order value, refunds, the rhythm of repeat orders."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from statistics import median

from kefu.domain.order_status import PAID

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
SECONDS_PER_DAY = 86400


@dataclass(frozen=True)
class OrderFacts:
    """What the profile needs to know about one order."""

    status: str
    created_at: datetime | None
    paid_amount: Decimal | None = None
    refunded_amount: Decimal | None = None


@dataclass(frozen=True)
class OrderSummary:
    """A customer's orders summed up: counts, spend, first/last order, refunds, repeat rhythm."""

    orders_count: int
    paid_orders_count: int
    total_spent: Decimal
    first_order_at: datetime | None
    last_order_at: datetime | None
    average_order_value: Decimal | None
    refunds_count: int
    refunds_amount: Decimal
    median_days_between_orders: float | None


def order_spend(status: str, paid_amount: Decimal | None, refunded_amount: Decimal | None) -> Decimal:
    """What an order brought in: paid minus refunded for a paid order (never below zero); an unpaid order counts 0."""
    if status not in PAID:
        return ZERO
    spend = (paid_amount or ZERO) - (refunded_amount or ZERO)
    return max(spend, ZERO).quantize(CENT)


def average_order_value(total_spent: Decimal, paid_orders_count: int) -> Decimal | None:
    """Spend per paid order, to the fen; None when nothing was paid."""
    if paid_orders_count <= 0:
        return None
    return (Decimal(total_spent) / paid_orders_count).quantize(CENT)


def median_days_between_orders(times: Iterable[datetime | None]) -> float | None:
    """The median gap in days (one decimal) between consecutive orders; None with fewer than two orders."""
    ordered: Sequence[datetime] = sorted(t for t in times if t is not None)
    if len(ordered) < 2:
        return None
    gaps = [(later - earlier).total_seconds() / SECONDS_PER_DAY for earlier, later in zip(ordered, ordered[1:])]
    return round(median(gaps), 1)


def summarise_orders(orders: Iterable[OrderFacts]) -> OrderSummary:
    """Counts, spend, dates and refunds of a customer's orders (repeat rhythm measured over paid orders)."""
    facts = list(orders)
    paid = [o for o in facts if o.status in PAID]
    total = sum((order_spend(o.status, o.paid_amount, o.refunded_amount) for o in paid), ZERO)
    created = [o.created_at for o in facts if o.created_at is not None]
    refunded = [o for o in facts if (o.refunded_amount or ZERO) > 0]
    return OrderSummary(
        orders_count=len(facts),
        paid_orders_count=len(paid),
        total_spent=total,
        first_order_at=min(created) if created else None,
        last_order_at=max(created) if created else None,
        average_order_value=average_order_value(total, len(paid)),
        refunds_count=len(refunded),
        refunds_amount=sum((o.refunded_amount or ZERO for o in refunded), ZERO).quantize(CENT),
        median_days_between_orders=median_days_between_orders(o.created_at for o in paid),
    )
