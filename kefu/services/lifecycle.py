"""Lifecycle events into the outbox: paid, shipped, out for delivery, signed care and the review invitation for recent
orders (imports, Shopify webhooks, carrier pushes, the periodic sweep), and the delay apology from a stall alert."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, or_, select
from sqlalchemy.orm import Session

from kefu.domain import order_status
from kefu.domain.messaging.lifecycle import DueMessage, OrderMoments, due_messages
from kefu.domain.messaging.rules import MessagingRules
from kefu.domain.messaging.templates import spec
from kefu.services.message_templates import render_for_shop, rules_of
from kefu.services.outbox import OutgoingMessage, QueuedMessage, default_idempotency_key, queue_message
from kefu.store.messaging_tables import OutboxMessage
from kefu.store.tables import Alert, Customer, Order, OrderLine, Shipment, Shop

log = logging.getLogger(__name__)

PARCEL_EVENTS = frozenset({"parcel.out_for_delivery", "parcel.signed"})
CLOSED = (order_status.TRADE_CLOSED, order_status.TRADE_CLOSED_BY_TAOBAO)
CHUNK = 500
ITEM_CHARS = 16  # an item title is cut to this many characters in a message


@dataclass(frozen=True)
class LifecycleResult:
    examined: int
    queued: int
    suppressed: int
    duplicates: int

    def to_json(self) -> dict[str, int]:
        return {"examined": self.examined, "queued": self.queued, "suppressed": self.suppressed,
                "duplicates": self.duplicates}


def _session_of(session_or_conn: Session | Connection) -> Session:
    return session_or_conn if isinstance(session_or_conn, Session) else Session(bind=session_or_conn)


def _short(title: str | None) -> str | None:
    if not title:
        return None
    title = title.strip()
    return title if len(title) <= ITEM_CHARS else title[:ITEM_CHARS] + "…"


def order_variables(session: Session, order: Order, shipment: Shipment | None) -> dict[str, str]:
    """The template variables of an order and its parcel (empty ones fall back when rendered)."""
    customer = session.get(Customer, order.customer_id) if order.customer_id else None
    shop = session.get(Shop, order.shop_id)
    first_title = session.scalar(select(OrderLine.title).where(OrderLine.order_id == order.id)
                                 .order_by(OrderLine.line_no).limit(1))
    return {k: v for k, v in {
        "nickname": (customer.buyer_nick if customer else None) or order.buyer_nick,
        "shop_name": shop.name if shop else None,
        "order_no": order.order_name or order.order_no,
        "item": _short(first_title or order.title_summary),
        "courier": shipment.carrier_name or shipment.carrier_code if shipment else None,
        "waybill": shipment.waybill_no if shipment else None,
    }.items() if v}


def _first_parcels(session: Session, order_ids: Sequence[str]) -> dict[str, Shipment]:
    parcels: dict[str, Shipment] = {}
    for shipment in session.scalars(select(Shipment).where(Shipment.order_id.in_(order_ids))
                                     .order_by(Shipment.shipped_at, Shipment.id)):
        parcels.setdefault(shipment.order_id, shipment)
    return parcels


def _moments(order: Order, parcel: Shipment | None) -> OrderMoments:
    return OrderMoments(
        order_id=order.id, customer_id=order.customer_id, paid_at=order.paid_at,
        shipped_at=order.shipped_at or (parcel.shipped_at if parcel else None),
        out_for_delivery_at=parcel.out_for_delivery_at if parcel else None,
        signed_at=parcel.signed_at if parcel else None,
        closed=order.status in CLOSED,
    )


def _message_for(order: Order, event: str, variables: dict[str, str]) -> OutgoingMessage:
    return OutgoingMessage(shop_id=order.shop_id, customer_id=order.customer_id, order_id=order.id, event=event,
                           purpose=spec(event).purpose, template=event, variables=variables)


def _queue_due(session: Session, order: Order, parcel: Shipment | None, due: Iterable[DueMessage], now: datetime,
               rules: MessagingRules, counts: dict[str, int], known: set[str]) -> None:
    for item in due:
        if default_idempotency_key(_message_for(order, item.event, {})) in known:  # queued before: nothing to do
            counts["duplicate"] = counts.get("duplicate", 0) + 1
            continue
        result = queue_message(session, _message_for(order, item.event, order_variables(session, order, parcel)),
                               now=now, actor="lifecycle", rules=rules)
        counts[result.status] = counts.get(result.status, 0) + 1


def lifecycle_for_orders(session_or_conn: Session | Connection, order_ids: Iterable[str], *,
                         now: datetime, only: frozenset[str] | None = None) -> LifecycleResult:
    """Queue the lifecycle messages these orders are due now (each at most once: the outbox's idempotency key);
    with `only`, just those events."""
    session = _session_of(session_or_conn)
    ids = sorted(set(order_ids))
    counts: dict[str, int] = {}
    rules_by_shop: dict[str, MessagingRules] = {}
    examined = 0
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start:start + CHUNK]
        orders = list(session.scalars(select(Order).where(Order.id.in_(chunk))))
        parcels = _first_parcels(session, chunk)
        known = set(session.scalars(select(OutboxMessage.idempotency_key).where(OutboxMessage.order_id.in_(chunk))))
        for order in orders:
            examined += 1
            if order.shop_id not in rules_by_shop:
                rules_by_shop[order.shop_id] = rules_of(session.get(Shop, order.shop_id))
            rules = rules_by_shop[order.shop_id]
            parcel = parcels.get(order.id)
            due = [d for d in due_messages(_moments(order, parcel), now=now, rules=rules) if not only or d.event in only]
            _queue_due(session, order, parcel, due, now, rules, counts, known)
    session.flush()
    return LifecycleResult(examined, counts.get("queued", 0), counts.get("suppressed", 0) + counts.get("blocked", 0),
                           counts.get("duplicate", 0))


def recent_order_ids(session: Session, shop_id: str, *, now: datetime, rules: MessagingRules) -> list[str]:
    """Orders with a lifecycle moment inside the look-back (or a signing whose review invitation falls inside it)."""
    oldest = now - timedelta(hours=rules.lookback_hours)
    signed_since = oldest - timedelta(days=rules.review_invite_days)
    by_order = select(Order.id).where(Order.shop_id == shop_id, or_(Order.paid_at >= oldest, Order.shipped_at >= oldest))
    by_parcel = select(Shipment.order_id).where(
        Shipment.shop_id == shop_id,
        or_(Shipment.shipped_at >= oldest, Shipment.out_for_delivery_at >= oldest, Shipment.signed_at >= signed_since))
    return sorted(set(session.scalars(by_order)) | set(session.scalars(by_parcel)))


def lifecycle_sweep(session_or_conn: Session | Connection, shop_id: str, *, now: datetime) -> LifecycleResult:
    """Every lifecycle message the shop's recent orders are due (after an import, and on a timer for invitations).
    An import of history queues nothing for orders older than the look-back."""
    session = _session_of(session_or_conn)
    rules = rules_of(session.get(Shop, shop_id))
    return lifecycle_for_orders(session, recent_order_ids(session, shop_id, now=now, rules=rules), now=now)


def lifecycle_for_parcels(session: Session, parcels: Iterable[Shipment], *, now: datetime) -> LifecycleResult:
    """After a carrier push moved parcels to out-for-delivery or signed: those messages for their orders. Never
    flushes the caller's pending rows early (a batch of pushes flushes once)."""
    with session.no_autoflush:
        return lifecycle_for_orders(session, {p.order_id for p in parcels}, now=now, only=PARCEL_EVENTS)


def after_import(conn: Connection, shop_id: str, *, now: datetime | None = None) -> LifecycleResult | None:
    """After an import, in its transaction: lifecycle messages for the orders whose moments fall inside the look-back
    (an import of history messages nobody). A failure here is logged and never undoes the import."""
    session = Session(bind=conn, join_transaction_mode="create_savepoint")
    try:
        result = lifecycle_sweep(session, shop_id, now=now or datetime.now(UTC))
        session.commit()  # releases the savepoint; the import's own commit makes it last
        return result
    except Exception:
        session.rollback()
        log.exception("lifecycle messages after the import of shop %s failed", shop_id)
        return None
    finally:
        session.close()


# ---- the delay apology, one click from a stall alert ----


class AlertNotMessageable(LookupError):
    """The alert has no buyer or order to write to."""


def _alert_subject(session: Session, alert_id: str) -> tuple[Alert, Order, Shipment | None]:
    alert = session.get(Alert, alert_id)
    if alert is None:
        raise AlertNotMessageable(f"no such alert: {alert_id}")
    order = session.get(Order, alert.order_id) if alert.order_id else None
    if order is None or not (alert.customer_id or order.customer_id):
        raise AlertNotMessageable(f"alert {alert_id} names no buyer or order")
    parcel = session.get(Shipment, alert.shipment_id) if alert.shipment_id else _first_parcels(session, [order.id]).get(order.id)
    return alert, order, parcel


def delay_apology_preview(session: Session, alert_id: str) -> str:
    """The delay apology for the alert's buyer, rendered in the shop's voice, as it would be sent."""
    alert, order, parcel = _alert_subject(session, alert_id)
    return render_for_shop(session, alert.shop_id, "parcel.delayed", order_variables(session, order, parcel))[1]


def send_delay_apology(session: Session, alert_id: str, *, actor: str | None, now: datetime) -> QueuedMessage:
    """Queue the delay apology for a stalled parcel (once per order: a second click is a duplicate)."""
    alert, order, parcel = _alert_subject(session, alert_id)
    return queue_message(session, OutgoingMessage(
        shop_id=alert.shop_id, customer_id=alert.customer_id or order.customer_id, order_id=order.id,
        event="parcel.delayed", purpose="transactional", template="parcel.delayed",
        variables=order_variables(session, order, parcel),
    ), now=now, actor=actor)
