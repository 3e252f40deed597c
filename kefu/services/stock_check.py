"""The stock check before shipping: allocate on-hand stock to paid, unshipped orders (first paid, first served), open
a stockout case for every order that comes up short, and close the cases the stock now covers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.config import shop_rules
from kefu.domain.stock.levels import stock_policy
from kefu.domain.stock.pick import DONE, LIVE_STATUSES, WAITING_RESTOCK
from kefu.services.stock_demand import shop_demand
from kefu.services.stockouts import open_case
from kefu.store.stock_tables import StockoutCase
from kefu.store.tables import Shop


@dataclass
class CheckResult:
    """What one stock check of one shop found and did."""

    shop_id: str
    orders_checked: int = 0
    short_orders: int = 0
    cases_opened: int = 0
    cases_closed: int = 0  # covered by new stock, or the order left the unshipped queue
    messages: dict[str, int] = field(default_factory=dict)  # outbox status → count, for the opened cases

    def to_json(self) -> dict[str, Any]:
        return {"shop_id": self.shop_id, "orders_checked": self.orders_checked, "short_orders": self.short_orders,
                "cases_opened": self.cases_opened, "cases_closed": self.cases_closed,
                "messages": dict(sorted(self.messages.items()))}


def check_stock(session: Session, shop_id: str, *, now: datetime, actor: str | None = None) -> CheckResult:
    """Check every paid, unshipped order of the shop against the stock; one live case per short order."""
    policy = stock_policy(shop_rules(session.scalar(select(Shop.settings).where(Shop.id == shop_id))))
    demand = shop_demand(session, shop_id)
    result = CheckResult(shop_id, orders_checked=len(demand.allocation.orders))
    live = {c.order_id: c for c in session.scalars(
        select(StockoutCase).where(StockoutCase.shop_id == shop_id, StockoutCase.status.in_(LIVE_STATUSES)))}
    short_ids = set()
    for allocation in demand.allocation.short_orders():
        short_ids.add(allocation.order_id)
        result.short_orders += 1
        if allocation.order_id in live:
            continue
        case = open_case(session, demand, allocation, policy=policy, now=now, actor=actor)
        result.cases_opened += 1
        result.messages[case.message_status or "none"] = result.messages.get(case.message_status or "none", 0) + 1
    for order_id, case in live.items():
        if order_id in short_ids:
            continue
        # Covered now (restocked, or shipped or closed on the platform): nothing is left for the buyer to choose.
        still_queued = order_id in demand.orders
        note = "补货到货，整单发出" if still_queued else "订单已不在待发货队列"
        case.outcome = f"{case.outcome}；{note}" if case.status == WAITING_RESTOCK and case.outcome else note
        case.status, case.live_key, case.closed_at = DONE, None, now
        result.cases_closed += 1
    session.flush()
    return result


@dataclass
class StockRun:
    """One full stock pass of a shop: the check, refreshed safety stock and the low-stock alerts."""

    check: CheckResult
    safety_changed: int
    alerts_raised: int
    alerts_resolved: int

    def to_json(self) -> dict[str, Any]:
        return {**self.check.to_json(), "safety_changed": self.safety_changed, "alerts_raised": self.alerts_raised,
                "alerts_resolved": self.alerts_resolved}


def run_stock_pass(session: Session, shop_id: str, *, now: datetime, actor: str | None = None) -> StockRun:
    """Check orders against stock, then recompute safety stock and raise or clear stock.low and stock.wait_over
    alerts."""
    from kefu.services.stock_levels import low_stock_alerts, overdue_wait_alerts, refresh_safety_stock, sku_levels

    check = check_stock(session, shop_id, now=now, actor=actor)
    levels = sku_levels(session, shop_id, now=now)
    changed = refresh_safety_stock(session, shop_id, now=now, levels=levels)
    alerts = low_stock_alerts(session, shop_id, now=now, levels=levels)
    waits = overdue_wait_alerts(session, shop_id, now=now)
    return StockRun(check, changed, alerts.raised + waits.raised, alerts.resolved + waits.resolved)
