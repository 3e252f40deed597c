"""Allocating on-hand stock to paid, unshipped orders: first paid, first served, line by line."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class LineDemand:
    """What one order line needs: a SKU (None when the line matches no SKU) and a quantity."""

    line_id: str
    sku_id: str | None
    quantity: int


@dataclass(frozen=True)
class OrderDemand:
    """A paid, unshipped order and the lines it still needs."""

    order_id: str
    paid_at: datetime | None
    order_no: str
    lines: tuple[LineDemand, ...]


@dataclass(frozen=True)
class LineAllocation:
    """How much of a line the stock covers; `tracked` is False when kefu knows no stock for its SKU."""

    line_id: str
    sku_id: str | None
    quantity: int
    allocated: int
    tracked: bool

    @property
    def missing(self) -> int:
        return self.quantity - self.allocated


@dataclass(frozen=True)
class OrderAllocation:
    """An order's lines with what the stock covers."""

    order_id: str
    lines: tuple[LineAllocation, ...]

    @property
    def short(self) -> bool:
        return any(line.missing > 0 for line in self.lines)

    @property
    def missing_lines(self) -> tuple[LineAllocation, ...]:
        return tuple(line for line in self.lines if line.missing > 0)

    @property
    def nothing_ships(self) -> bool:
        """Every line is missing entirely: shipping "what is there" would ship nothing."""
        return all(line.allocated == 0 for line in self.lines)


@dataclass(frozen=True)
class Allocation:
    """Every order's allocation, and each tracked SKU's stock left over and committed to orders."""

    orders: tuple[OrderAllocation, ...]
    left: Mapping[str, int]
    committed: Mapping[str, int]

    def short_orders(self) -> tuple[OrderAllocation, ...]:
        return tuple(order for order in self.orders if order.short)


_LAST = datetime.max


def pay_order(order: OrderDemand) -> tuple:
    """Orders are served by payment time (unknown last), then order number, so the result never depends on input order."""
    paid = order.paid_at.replace(tzinfo=None) if order.paid_at else _LAST
    return (paid, order.order_no, order.order_id)


def allocate(orders: Iterable[OrderDemand], stock: Mapping[str, int | None]) -> Allocation:
    """Give each order, in payment order, as much of each line as the SKU's remaining stock covers.

    A SKU missing from `stock` or with stock None is untracked: its lines count as covered. Negative stock counts as
    zero. A line's units are taken whole or in part (a line of 3 with 2 left gets 2 and misses 1), so the first paid
    buyer is never short while a later one is served.
    """
    left: dict[str, int] = {sku: max(0, n) for sku, n in stock.items() if n is not None}
    committed: dict[str, int] = {sku: 0 for sku in left}
    result = []
    for order in sorted(orders, key=pay_order):
        lines = []
        for line in order.lines:
            if line.sku_id is None or line.sku_id not in left or line.quantity <= 0:
                lines.append(LineAllocation(line.line_id, line.sku_id, max(line.quantity, 0), max(line.quantity, 0), False))
                continue
            take = min(line.quantity, left[line.sku_id])
            left[line.sku_id] -= take
            committed[line.sku_id] += take
            lines.append(LineAllocation(line.line_id, line.sku_id, line.quantity, take, True))
        result.append(OrderAllocation(order.order_id, tuple(lines)))
    return Allocation(tuple(result), left, committed)
