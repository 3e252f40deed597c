"""What the packer does with an order that has a stockout case: which units ship now, which are held or refunded."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from kefu.domain.stock.buyer_choice import CANCEL, SHIP_AVAILABLE, SUBSTITUTE, WAIT

AWAITING_BUYER, WAITING_RESTOCK, DONE, CANCELLED = "awaiting_buyer", "waiting_restock", "done", "cancelled"
LIVE_STATUSES = (AWAITING_BUYER, WAITING_RESTOCK)


@dataclass(frozen=True)
class CaseLine:
    """A short line as the case recorded it."""

    order_line_id: str
    quantity: int
    missing: int
    action: str | None
    refunded_quantity: int
    original_properties: str | None
    substituted: bool


@dataclass(frozen=True)
class LinePick:
    """The units of one line that ship now, wait (held) or were refunded, and the SKU it replaced."""

    ship_now: int
    held: int
    refunded: int
    substituted_from: str | None = None


@dataclass(frozen=True)
class OrderPick:
    """The packer's instruction for one order with a stockout case."""

    status: str
    choice: str | None
    hold_order: bool  # nothing of this order ships now
    do_not_ship: bool  # cancelled
    lines: Mapping[str, LinePick]

    def for_line(self, line_id: str, quantity: int) -> LinePick:
        if line_id in self.lines:
            return self.lines[line_id]
        return LinePick(0, quantity, 0) if self.hold_order else LinePick(quantity, 0, 0)


def order_pick(status: str, choice: str | None, case_lines: Sequence[CaseLine], *, split_when_waiting: bool) -> OrderPick:
    """Awaiting the buyer or cancelled: nothing ships. Waiting for the restock: the in-stock part ships now and the
    missing units are held (or the whole order is held when the shop does not split). Refunded: the missing units are
    struck off. Substituted: the whole line ships as its new SKU."""
    lines: dict[str, LinePick] = {}
    if status == CANCELLED or choice == CANCEL:
        return OrderPick(status, choice, True, True, {c.order_line_id: LinePick(0, 0, 0) for c in case_lines})
    if status == AWAITING_BUYER:
        return OrderPick(status, choice, True, False,
                         {c.order_line_id: LinePick(0, c.quantity, 0) for c in case_lines})
    if status == WAITING_RESTOCK or (choice == WAIT and status != DONE):
        if not split_when_waiting:
            return OrderPick(status, choice, True, False,
                             {c.order_line_id: LinePick(0, c.quantity, 0) for c in case_lines})
        for c in case_lines:
            lines[c.order_line_id] = LinePick(c.quantity - c.missing, c.missing, 0)
        return OrderPick(status, choice, False, False, lines)
    for c in case_lines:
        if c.action == "refund" or choice == SHIP_AVAILABLE:
            lines[c.order_line_id] = LinePick(c.quantity - c.refunded_quantity, 0, c.refunded_quantity)
        elif c.substituted or choice == SUBSTITUTE:
            lines[c.order_line_id] = LinePick(c.quantity, 0, 0, c.original_properties if c.substituted else None)
        else:
            lines[c.order_line_id] = LinePick(c.quantity, 0, 0)
    return OrderPick(status, choice, False, False, lines)
