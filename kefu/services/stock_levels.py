"""Stock levels of a shop: each SKU's stock, what paid orders hold of it, sales velocity, safety stock, days of cover
and status; sell-through (动销率) over a period; low-stock alerts in the alert queue (kind "stock.low")."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from kefu.config import shop_rules
from kefu.domain import order_status as os_
from kefu.domain.rules.watch import AlertDraft
from kefu.domain.stock.levels import (
    LOW,
    OUT,
    SellThrough,
    StockPolicy,
    Velocity,
    days_of_cover,
    level_status,
    safety_stock,
    sell_through,
    stock_policy,
    velocity,
)
from kefu.services.stock_demand import ShopDemand, shop_demand
from kefu.services.watch import LIVE, RESOLVED, connection_of, raise_alerts
from kefu.store.stock_tables import PresaleSwitch, SkuIncoming
from kefu.store.tables import Alert, Order, OrderLine, Shop, Sku

LOW_STOCK = "stock.low"
_STATUS_ORDER = {OUT: 0, LOW: 1}
_SOLD_STATUSES = sorted(os_.PAID - {os_.TRADE_CLOSED})


@dataclass(frozen=True)
class SkuLevel:
    """One SKU on the stock page."""

    sku: Sku
    title: str
    stock: int | None
    committed: int  # units promised to paid, unshipped orders
    available: int | None  # stock − committed
    missing: int  # units paid orders want beyond the stock
    incoming: int | None
    velocity: Velocity
    safety: int
    cover_days: float | None
    status: str
    presale_on: bool  # switched to pre-sale for its current restock date
    best_seller: bool


def _shop_policy(session: Session, shop_id: str) -> tuple[dict, StockPolicy]:
    shop = shop_rules(session.scalar(select(Shop.settings).where(Shop.id == shop_id)))
    return shop, stock_policy(shop)


def units_sold(session: Session, shop_id: str, demand: ShopDemand, since: datetime, until: datetime,
               tz: str) -> dict[str, dict[str, int]]:
    """Units sold per SKU per shop-local day (paid orders not refunded in full), from order lines matched to SKUs."""
    zone = ZoneInfo(tz)
    query = (select(OrderLine.product_id, OrderLine.sku_properties, OrderLine.quantity, Order.paid_at)
             .join(Order, Order.id == OrderLine.order_id)
             .where(Order.shop_id == shop_id, Order.paid_at >= since, Order.paid_at < until,
                    Order.status.in_(_SOLD_STATUSES), OrderLine.product_id.is_not(None)))
    sold: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for product_id, properties, quantity, paid_at in session.execute(query):
        sku = demand.skus.of_line(product_id, properties)
        if sku is not None and quantity:
            sold[sku.id][paid_at.astimezone(zone).date().isoformat()] += quantity
    return sold


def sku_levels(session: Session, shop_id: str, *, now: datetime, q: str | None = None,
               demand: ShopDemand | None = None) -> list[SkuLevel]:
    """Every SKU of the shop (or those whose title, properties or codes contain `q`), out and low first."""
    shop, policy = _shop_policy(session, shop_id)
    demand = demand or shop_demand(session, shop_id)
    sold = units_sold(session, shop_id, demand, now - timedelta(days=policy.velocity_days), now, shop["timezone"])
    incoming = dict(session.execute(select(SkuIncoming.sku_id, SkuIncoming.quantity)
                                    .where(SkuIncoming.shop_id == shop_id)).all())
    switched = {(sku_id, when) for sku_id, when in session.execute(
        select(PresaleSwitch.sku_id, PresaleSwitch.restock_date).where(PresaleSwitch.shop_id == shop_id))}
    wanted: dict[str, int] = defaultdict(int)
    for order in demand.allocation.orders:
        for line in order.lines:
            if line.tracked:
                wanted[line.sku_id] += line.missing
    needle = (q or "").strip().upper()
    levels = []
    for sku in demand.skus.by_id.values():
        title = demand.skus.titles.get(sku.product_id, "")
        if needle and not any(needle in (v or "").upper() for v in (title, sku.properties, sku.outer_sku_id)):
            continue
        speed = velocity(list(sold.get(sku.id, {}).values()), policy.velocity_days)
        committed = demand.allocation.committed.get(sku.id, 0)
        available = None if sku.stock is None else sku.stock - committed
        safety = safety_stock(speed, sku.lead_time_days, policy)
        levels.append(SkuLevel(
            sku=sku, title=title, stock=sku.stock, committed=committed, available=available,
            missing=wanted.get(sku.id, 0), incoming=incoming.get(sku.id), velocity=speed, safety=safety,
            cover_days=days_of_cover(available, speed), status=level_status(sku.stock, available, safety),
            presale_on=(sku.id, sku.restock_date) in switched, best_seller=speed.units >= policy.best_seller_units,
        ))
    levels.sort(key=lambda lv: (_STATUS_ORDER.get(lv.status, 2), lv.cover_days if lv.cover_days is not None else 1e9,
                                lv.title, lv.sku.properties))
    return levels


def refresh_safety_stock(session: Session, shop_id: str, *, now: datetime, levels: list[SkuLevel] | None = None) -> int:
    """Write each SKU's safety stock from its current velocity and lead time; returns how many changed."""
    changed = 0
    for level in levels if levels is not None else sku_levels(session, shop_id, now=now):
        if level.sku.safety_stock != level.safety:
            level.sku.safety_stock = level.safety
            changed += 1
    session.flush()
    return changed


def shop_sell_through(session: Session, shop_id: str, *, now: datetime, days: int | None = None,
                      demand: ShopDemand | None = None) -> SellThrough:
    """动销率 over the last `days` (the shop's sell_through_days by default)."""
    shop, policy = _shop_policy(session, shop_id)
    demand = demand or shop_demand(session, shop_id)
    period = days or policy.sell_through_days
    sold = units_sold(session, shop_id, demand, now - timedelta(days=period), now, shop["timezone"])
    return sell_through({s.id: s.product_id for s in demand.skus.by_id.values()},
                        {sku: sum(days_.values()) for sku, days_ in sold.items()},
                        {s.id: s.stock for s in demand.skus.by_id.values()})


def presale_candidates(levels: list[SkuLevel], *, today) -> list[SkuLevel]:
    """Best sellers with nothing free, a confirmed restock date from today on, not yet switched for that date."""
    return [lv for lv in levels if lv.best_seller and lv.status == OUT and lv.sku.restock_date is not None
            and lv.sku.restock_date >= today and not lv.presale_on]


@dataclass(frozen=True)
class AlertSweep:
    raised: int
    resolved: int


def low_stock_alerts(session: Session, shop_id: str, *, now: datetime, levels: list[SkuLevel] | None = None) -> AlertSweep:
    """Raise one live stock.low alert per SKU at or under its safety stock (critical when none is free); resolve the
    live ones whose SKU is above it again."""
    _shop, policy = _shop_policy(session, shop_id)
    levels = levels if levels is not None else sku_levels(session, shop_id, now=now)
    conn = connection_of(session)
    live = {key.split(":")[1]: alert_id for alert_id, key in conn.execute(
        select(Alert.id, Alert.dedupe_key).where(Alert.shop_id == shop_id, Alert.kind == LOW_STOCK,
                                                 Alert.status.in_(LIVE)))}
    drafts = []
    short = set()
    for lv in levels:
        if lv.status not in (OUT, LOW) or not policy.low_stock_alerts:
            continue
        short.add(lv.sku.id)
        if lv.sku.id in live:
            continue
        drafts.append(AlertDraft(
            kind=LOW_STOCK, severity="critical" if lv.status == OUT else "warning",
            dedupe_key=f"{LOW_STOCK}:{lv.sku.id}:{now.strftime('%Y%m%d%H%M%S')}",
            due_at=now + timedelta(hours=policy.alert_due_hours),
            rule=f"stock.low: 可用 {lv.available} ≤ 安全库存 {lv.safety} · {lv.title[:40]} {lv.sku.properties}"[:200],
            detail={"sku_id": lv.sku.id, "limit": lv.safety, "available": lv.available, "status": lv.status,
                    "properties": lv.sku.properties, "title": lv.title},
        ))
    session.flush()
    raised = raise_alerts(conn, shop_id, drafts, now)
    cleared = [alert_id for sku_id, alert_id in live.items() if sku_id not in short]
    if cleared:
        conn.execute(update(Alert).where(Alert.id.in_(cleared), Alert.status.in_(LIVE))
                     .values(status=RESOLVED, resolved_at=now, resolved_by="stock"))
    return AlertSweep(len(raised), len(cleared))


WAIT_OVER = "stock.wait_over"


def overdue_wait_alerts(session: Session, shop_id: str, *, now: datetime) -> AlertSweep:
    """A buyer agreed to wait until a date (theirs, else the restock date) and the goods have not come: raise one
    stock.wait_over alert per case so an agent calls before the buyer complains; resolve it when the case closes."""
    from kefu.domain.stock.pick import WAITING_RESTOCK
    from kefu.store.stock_tables import StockoutCase

    shop, policy = _shop_policy(session, shop_id)
    today = now.astimezone(ZoneInfo(shop["timezone"])).date()
    conn = connection_of(session)
    live = {key.split(":")[1]: alert_id for alert_id, key in conn.execute(
        select(Alert.id, Alert.dedupe_key).where(Alert.shop_id == shop_id, Alert.kind == WAIT_OVER,
                                                 Alert.status.in_(LIVE)))}
    waiting = session.scalars(select(StockoutCase).where(StockoutCase.shop_id == shop_id,
                                                        StockoutCase.status == WAITING_RESTOCK)).all()
    overdue = {}
    for case in waiting:
        until = case.wait_until or case.restock_date
        if until is not None and until < today:
            overdue[case.id] = (case, until)
    drafts = [AlertDraft(
        kind=WAIT_OVER, severity="warning", dedupe_key=f"{WAIT_OVER}:{case.id}",
        due_at=now + timedelta(hours=policy.alert_due_hours), order_id=case.order_id, customer_id=case.customer_id,
        rule=f"stock.wait_over: 买家同意等到 {until.isoformat()}，仍未到货 / the buyer agreed to wait until {until.isoformat()}",
        detail={"case_id": case.id, "wait_until": until.isoformat(), "hours": (today - until).days * 24},
    ) for case_id, (case, until) in sorted(overdue.items()) if case_id not in live]
    session.flush()
    raised = raise_alerts(conn, shop_id, drafts, now)
    cleared = [alert_id for case_id, alert_id in live.items() if case_id not in overdue]
    if cleared:
        conn.execute(update(Alert).where(Alert.id.in_(cleared), Alert.status.in_(LIVE))
                     .values(status=RESOLVED, resolved_at=now, resolved_by="stock"))
    return AlertSweep(len(raised), len(cleared))
