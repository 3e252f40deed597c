"""Buyer requirements in the store: read from 买家留言 after every import (or from chat), checked against the courier
a parcel actually went with, and gathered for the packer's pick list.

An order whose message asks for nothing gets one row of kind "none", so the next import does not read it again.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, exists, or_, select
from sqlalchemy.orm import Session

from kefu.config import shop_rules
from kefu.domain.order_status import WAIT_BUYER_CONFIRM_GOODS, WAIT_BUYER_PAY
from kefu.domain.privacy import redact_phones
from kefu.domain.rules import watch as rules
from kefu.domain.rules.watch import AlertDraft
from kefu.ids import stable_id
from kefu.services.watch import (
    connection_of,
    insert_ignoring,
    raise_alerts,
    shipments_by_id,
)
from kefu.store.tables import Order, OrderLine, OrderRequirement, Shipment, Shop
from kefu.text.requests import (
    COURIER_EXCLUDED,
    COURIER_WANTED,
    Requirement,
    find_requirements,
)

log = logging.getLogger(__name__)

BUYER_MESSAGE, CHAT, AGENT = "buyer_message", "chat", "agent"
NOTHING_ASKED = "none"  # the kind of the row that marks a message as read
BATCH = 2000
MAX_PICK_ORDERS = 1000


def _ordered_on(moment: datetime | None, tz: str) -> date | None:
    return moment.astimezone(ZoneInfo(tz)).date() if moment else None


def _row(shop_id: str, order_id: str, source: str, kind: str, value: str | None, text: str | None,
         now: datetime) -> dict[str, Any]:
    return {"id": stable_id("requirement", order_id, source, kind, value or ""), "shop_id": shop_id,
            "order_id": order_id, "kind": kind, "value": (value or None) and value[:120], "source": source,
            "source_text": text, "created_at": now}


def _nth(now: datetime, index: int) -> datetime:
    """The asks of one message recorded a microsecond apart, so they read back in the order the buyer wrote them."""
    return now + timedelta(microseconds=index)


def _write(conn: Connection, rows: list[dict[str, Any]]) -> None:
    if rows:
        conn.execute(insert_ignoring(conn, OrderRequirement.__table__, "id"), rows)


def _still_in_motion(shop: dict[str, Any], now: datetime):
    """Orders whose asks can still matter: not yet shipped (the pick list) or on their way (a parcel checked against
    the buyer's courier ask), or placed within the watch look-back. A year of history is not read at import; its orders' pages read
    the message when shown (requirements_of_order)."""
    since = now - timedelta(hours=rules.watch_policy(shop).lookback_hours)
    return or_(Order.status.in_(sorted(rules.UNSHIPPED_STATUSES | {WAIT_BUYER_PAY, WAIT_BUYER_CONFIRM_GOODS})), Order.created_at >= since,
               Order.paid_at >= since)


def extract_requirements(session_or_conn: Session | Connection, shop_id: str, *, now: datetime) -> int:
    """Read the buyer messages of the shop's orders in motion not read yet; store what they ask (phones redacted).
    Returns how many orders were read."""
    conn = connection_of(session_or_conn)
    shop = shop_rules(conn.scalar(select(Shop.settings).where(Shop.id == shop_id)))
    tz = shop["timezone"]
    already = exists().where(OrderRequirement.order_id == Order.id, OrderRequirement.source == BUYER_MESSAGE)
    query = (select(Order.id, Order.buyer_message, Order.created_at, Order.paid_at)
             .where(Order.shop_id == shop_id, Order.buyer_message.is_not(None), Order.buyer_message != "", ~already,
                    _still_in_motion(shop, now)))
    read = 0
    rows: list[dict[str, Any]] = []
    for order in conn.execute(query).all():
        read += 1
        text = redact_phones(order.buyer_message)
        asks = find_requirements(text, ordered_on=_ordered_on(order.created_at or order.paid_at, tz))
        if asks:
            rows.extend(_row(shop_id, order.id, BUYER_MESSAGE, a.kind, a.value, text, _nth(now, i)) for i, a in enumerate(asks))
        else:
            rows.append(_row(shop_id, order.id, BUYER_MESSAGE, NOTHING_ASKED, None, text, now))
        if len(rows) >= BATCH:
            _write(conn, rows)
            rows = []
    _write(conn, rows)
    return read


def record_requirements(session_or_conn: Session | Connection, order_id: str, text: str, *, source: str = CHAT,
                        now: datetime) -> list[Requirement]:
    """Read one chat line (or an agent's words) for an order and store what it asks; returns what was found."""
    conn = connection_of(session_or_conn)
    order = conn.execute(select(Order.shop_id, Order.created_at, Order.paid_at).where(Order.id == order_id)).first()
    if order is None:
        raise LookupError(f"no order with id {order_id!r}")
    tz = shop_rules(conn.scalar(select(Shop.settings).where(Shop.id == order.shop_id)))["timezone"]
    redacted = redact_phones(text) or ""
    asks = find_requirements(redacted, ordered_on=_ordered_on(order.created_at or order.paid_at, tz))
    _write(conn, [_row(order.shop_id, order_id, source, a.kind, a.value, redacted, _nth(now, i)) for i, a in enumerate(asks)])
    return asks


def requirements_for_orders(session: Session, order_ids: Iterable[str]) -> dict[str, list[OrderRequirement]]:
    """Each order's requirements (not the "nothing asked" marks), in the order they were recorded."""
    ids = sorted(set(order_ids))
    found: dict[str, list[OrderRequirement]] = {}
    for start in range(0, len(ids), 500):
        query = (select(OrderRequirement).where(OrderRequirement.order_id.in_(ids[start : start + 500]),
                                                OrderRequirement.kind != NOTHING_ASKED)
                 .order_by(OrderRequirement.order_id, OrderRequirement.created_at, OrderRequirement.id))
        for requirement in session.scalars(query):
            found.setdefault(requirement.order_id, []).append(requirement)
    return found


def requirements_of_order(session: Session, order: Order) -> list[OrderRequirement]:
    """One order's requirements for its page: as stored, or, for an order whose message was never read (history
    older than the import's look-back), read from the message now and shown without being stored."""
    stored = requirements_for_orders(session, [order.id]).get(order.id, [])
    if stored or not order.buyer_message:
        return stored
    if session.scalar(select(exists().where(OrderRequirement.order_id == order.id,
                                            OrderRequirement.source == BUYER_MESSAGE))):
        return []  # read, and nothing asked
    tz = shop_rules(session.scalar(select(Shop.settings).where(Shop.id == order.shop_id)))["timezone"]
    text = redact_phones(order.buyer_message) or ""
    asks = find_requirements(text, ordered_on=_ordered_on(order.created_at or order.paid_at, tz))
    return [OrderRequirement(**_row(order.shop_id, order.id, BUYER_MESSAGE, a.kind, a.value, text, order.created_at))
            for a in asks]  # the rows extract_requirements would store


# ---------------------------------------------------------------- courier conflicts


_COURIER_ASKS = (COURIER_WANTED, COURIER_EXCLUDED)


def _asks_of_parcels(conn: Connection, shop_id: str, since: datetime) -> list[tuple[str, str, str]]:
    """(parcel id, kind, courier) for every recent parcel of an order with a courier ask."""
    courier_asks = (OrderRequirement.shop_id == shop_id, OrderRequirement.kind.in_(_COURIER_ASKS),
                    OrderRequirement.value.is_not(None))
    recent = or_(Shipment.shipped_at.is_(None), Shipment.shipped_at >= since)
    if conn.dialect.name != "sqlite":
        query = (select(Shipment.id, OrderRequirement.kind, OrderRequirement.value)
                 .join(OrderRequirement, OrderRequirement.order_id == Shipment.order_id)
                 .where(Shipment.shop_id == shop_id, recent, *courier_asks))
        return [tuple(row) for row in conn.execute(query)]
    asks = select(OrderRequirement.order_id, OrderRequirement.kind, OrderRequirement.value).where(*courier_asks)
    # SQLite's planner may walk every parcel and look for asks; the orders with an ask are few, so read their
    # parcels through the shipments.order_id index instead.
    by_order: dict[str, list[tuple[str, str]]] = {}
    for order_id, kind, value in conn.execute(asks):
        by_order.setdefault(order_id, []).append((kind, value))
    found: list[tuple[str, str, str]] = []
    order_ids = sorted(by_order)
    for start in range(0, len(order_ids), 500):
        chunk = order_ids[start : start + 500]
        for parcel_id, order_id in conn.execute(select(Shipment.id, Shipment.order_id)
                                                .where(Shipment.order_id.in_(chunk), recent)
                                                .order_by(Shipment.order_id, Shipment.id)):
            found.extend((parcel_id, kind, value) for kind, value in by_order[order_id])
    return found


def courier_conflict_drafts(session_or_conn: Session | Connection, shop_id: str, shop: dict[str, Any], now: datetime,
                            *, shipment_ids: Iterable[str] | None = None) -> list[AlertDraft]:
    """Alerts for parcels that went with a courier the buyer refused, or not the one they asked for."""
    conn = connection_of(session_or_conn)
    base = rules.watch_policy(shop)
    if not base.enabled(rules.COURIER_CONFLICT):
        return []
    if shipment_ids is None:
        rows = _asks_of_parcels(conn, shop_id, now - timedelta(hours=base.lookback_hours))
    else:
        ids = sorted(set(shipment_ids))
        rows = []
        for start in range(0, len(ids), 500):
            rows.extend(conn.execute(
                select(Shipment.id, OrderRequirement.kind, OrderRequirement.value)
                .join(OrderRequirement, OrderRequirement.order_id == Shipment.order_id)
                .where(Shipment.id.in_(ids[start : start + 500]), OrderRequirement.kind.in_(_COURIER_ASKS),
                       OrderRequirement.value.is_not(None))
            ).all())
    wanted: dict[str, set[str]] = {}
    excluded: dict[str, set[str]] = {}
    for shipment_id, kind, value in rows:
        (wanted if kind == COURIER_WANTED else excluded).setdefault(shipment_id, set()).add(value)
        (excluded if kind == COURIER_WANTED else wanted).setdefault(shipment_id, set())
    drafts = []
    for facts in shipments_by_id(conn, wanted).values():
        policy = rules.watch_policy(shop, facts.carrier_code, facts.province)
        draft = rules.courier_conflict(facts, wanted[facts.shipment_id], excluded[facts.shipment_id], policy, now)
        if draft is not None:
            drafts.append(draft)
    return drafts


def shipped_with_excluded_courier(session_or_conn: Session | Connection, shop_id: str, *, now: datetime) -> int:
    """Raise a courier_conflict alert for every parcel that went against the buyer's courier ask; returns how many."""
    conn = connection_of(session_or_conn)
    shop = shop_rules(conn.scalar(select(Shop.settings).where(Shop.id == shop_id)))
    return len(raise_alerts(conn, shop_id, courier_conflict_drafts(conn, shop_id, shop, now), now))


def after_import(conn: Connection, shop_id: str, *, now: datetime | None = None) -> None:
    """Read new buyer messages and check couriers; a failure here is logged and never undoes the import."""
    now = now or datetime.now(UTC)
    try:
        with conn.begin_nested():
            extract_requirements(conn, shop_id, now=now)
            shipped_with_excluded_courier(conn, shop_id, now=now)
    except Exception:
        log.exception("buyer requirements not read for shop %s", shop_id)


# ---------------------------------------------------------------- the pick list


@dataclass(frozen=True)
class PickOrder:
    """One order to pack: its lines, the buyer's asks and message, the seller's memo and the shipping deadline."""

    order: Order
    lines: list[OrderLine]
    requirements: list[OrderRequirement]
    ship_by: datetime | None


def pick_list(session: Session, shop_id: str | None, *, limit: int = MAX_PICK_ORDERS) -> list[PickOrder]:
    """Paid, unshipped orders, longest waiting first, with what the packer needs."""
    query = select(Order).where(Order.status.in_(sorted(rules.UNSHIPPED_STATUSES)))
    if shop_id:
        query = query.where(Order.shop_id == shop_id)
    orders = list(session.scalars(query.order_by(Order.paid_at.asc().nulls_last(), Order.order_no).limit(limit)))
    ids = [o.id for o in orders]
    lines: dict[str, list[OrderLine]] = {}
    for start in range(0, len(ids), 500):
        for line in session.scalars(select(OrderLine).where(OrderLine.order_id.in_(ids[start : start + 500]))
                                    .order_by(OrderLine.order_id, OrderLine.line_no)):
            lines.setdefault(line.order_id, []).append(line)
    asks = requirements_for_orders(session, ids)
    settings = {s.id: s.settings for s in session.scalars(select(Shop).where(Shop.id.in_({o.shop_id for o in orders})))}
    picked = []
    for order in orders:
        promise = rules.watch_policy(shop_rules(settings.get(order.shop_id))).ship_promise_hours
        ship_by = order.paid_at + timedelta(hours=promise) if order.paid_at else None
        picked.append(PickOrder(order, lines.get(order.id, []), asks.get(order.id, []), ship_by))
    return picked
