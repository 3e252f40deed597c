"""Applying a parsed Shopify webhook to the store: shop, customer, order, lines, parcels and refunds, then customer figures."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kefu.domain import order_status
from kefu.domain.carriers import carrier_code
from kefu.domain.privacy import redact_phones
from kefu.ids import customer_id as make_customer_id
from kefu.ids import order_id as make_order_id
from kefu.ids import stable_id
from kefu.ingest.shopify import (
    ShopifyCustomer,
    ShopifyEvent,
    ShopifyFulfillment,
    ShopifyLine,
    ShopifyOrder,
    ShopifyPayloadError,
    ShopifyRefund,
    UnknownTopic,
    all_delivered,
    fulfillment_progress,
    parse_webhook,
    top_status,
)
from kefu.ingest.shopify_tracking import fulfillment_updates
from kefu.services.customer_stats import refresh_customer_stats
from kefu.services.lifecycle import lifecycle_for_orders
from kefu.services.shops import get_or_create_shop
from kefu.services.tracking import apply_tracking_update
from kefu.store.database import Store
from kefu.store.tables import Customer, Order, OrderLine, Product, Shipment, Shop, WebhookDelivery

PLATFORM = "shopify"
SOURCE = "shopify_webhook"
STATE_KEY = "shopify"  # where an order keeps its Shopify-side state inside orders.extra
PROGRESS = {None: 0, "partial": 1, "fulfilled": 2}
ZERO = Decimal("0.00")


@dataclass(frozen=True)
class AppliedEvent:
    """What one webhook did to the store."""

    shop_id: str
    order_id: str
    customer_id: str | None
    order_created: bool
    stale: bool  # an order payload older than the stored one: only its refunds and fulfillments were taken


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _from_iso(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


# ---- the Shopify-side state an order keeps in orders.extra ----


def _fulfillment_state(f: ShopifyFulfillment) -> dict[str, Any]:
    return {
        "status": f.status,
        "shipment_status": f.shipment_status,
        "tracking_company": f.tracking_company,
        "tracking_numbers": list(f.tracking_numbers),
        "created_at": _iso(f.created_at),
        "updated_at": _iso(f.updated_at),
        "line_quantities": dict(f.line_quantities),
    }


def _fulfillment_from_state(fulfillment_id: str, order_no: str, data: dict[str, Any]) -> ShopifyFulfillment:
    return ShopifyFulfillment(
        fulfillment_id=fulfillment_id,
        order_no=order_no,
        status=data.get("status"),
        shipment_status=data.get("shipment_status"),
        tracking_company=data.get("tracking_company"),
        tracking_numbers=tuple(data.get("tracking_numbers") or ()),
        created_at=_from_iso(data.get("created_at")),
        updated_at=_from_iso(data.get("updated_at")),
        line_quantities=dict(data.get("line_quantities") or {}),
    )


def _refund_state(r: ShopifyRefund) -> dict[str, Any]:
    return {
        "amount": str(r.amount),
        "created_at": _iso(r.created_at),
        "line_amounts": {k: str(v) for k, v in r.line_amounts.items()},
        "note": r.note,
    }


def _is_newer(incoming: datetime | None, stored: str | None) -> bool:
    """Whether a fulfillment version should replace the stored one (no timestamps: the newest delivery wins)."""
    if incoming is None or not stored:
        return True
    return incoming >= datetime.fromisoformat(stored)


def _merge(state: dict[str, Any], fulfillments: tuple[ShopifyFulfillment, ...] = (), refunds: tuple[ShopifyRefund, ...] = ()) -> None:
    known = state.setdefault("fulfillments", {})
    for f in fulfillments:
        current = known.get(f.fulfillment_id)
        if current is None or _is_newer(f.updated_at, current.get("updated_at")):
            known[f.fulfillment_id] = _fulfillment_state(f)
    known_refunds = state.setdefault("refunds", {})
    for r in refunds:
        known_refunds[r.refund_id] = _refund_state(r)  # refunds never change once made


# ---- rows ----


def upsert_customer(session: Session, shop: Shop, buyer: ShopifyCustomer) -> Customer:
    """The shop's customer for a Shopify buyer (by customer id, else e-mail), created or brought up to date."""
    key = buyer.buyer_key
    assert key, "a Shopify buyer needs a customer id or an e-mail"
    cid = make_customer_id(shop.id, PLATFORM, key)
    customer = session.get(Customer, cid)
    if customer is None:
        customer = Customer(
            id=cid, shop_id=shop.id, platform=PLATFORM, buyer_key=key, orders_count=0, paid_orders_count=0,
            total_spent=ZERO, marketing_consent=bool(buyer.marketing_consent), created_at=_now(),
        )
        session.add(customer)
    updates = {
        "buyer_nick": buyer.display_nick,
        "open_id": buyer.customer_id,
        "name": buyer.full_name,
        "email": buyer.email,
        "phone": buyer.phone,
        "province": buyer.province,
        "city": buyer.city,
    }
    for name, value in updates.items():
        if value is not None:
            setattr(customer, name, value[:200] if isinstance(value, str) and name != "email" else value)
    if buyer.marketing_consent is not None:
        customer.marketing_consent = buyer.marketing_consent
    return customer


def _product_for(session: Session, shop: Shop, line: ShopifyLine) -> str | None:
    if not line.product_id:
        return None
    product = session.scalar(select(Product).where(Product.shop_id == shop.id, Product.product_key == line.product_id))
    if product is None:
        product = Product(id=stable_id("product", shop.id, line.product_id), shop_id=shop.id, product_key=line.product_id,
                          platform_item_id=line.product_id, outer_id=line.sku, title=line.title[:300], price=line.price)
        session.add(product)
        session.flush()
    return product.id


def _sync_lines(session: Session, shop: Shop, order: Order, lines: tuple[ShopifyLine, ...]) -> None:
    existing = {line.id: line for line in session.scalars(select(OrderLine).where(OrderLine.order_id == order.id))}
    wanted: set[str] = set()
    for number, item in enumerate(lines, start=1):
        line_id = f"{order.id}:{item.line_id}"
        wanted.add(line_id)
        product_id = _product_for(session, shop, item)  # may flush, so before a new line is added half-filled
        row = existing.get(line_id)
        if row is None:
            row = OrderLine(id=line_id, shop_id=shop.id, order_id=order.id, sub_order_no=item.line_id, line_no=number,
                            title=item.title[:300], quantity=item.quantity)
            session.add(row)
        row.line_no = number
        row.product_id = product_id
        row.title = item.title[:300]
        row.sku_properties = item.variant_title
        row.outer_id = item.sku
        row.price = item.price
        row.quantity = item.quantity
        row.paid_amount = item.paid_amount
    for line_id, row in existing.items():
        if line_id not in wanted:
            session.delete(row)


def _order_row(session: Session, shop: Shop, order_no: str) -> tuple[Order, bool]:
    oid = make_order_id(shop.id, order_no)
    order = session.get(Order, oid)
    if order is not None:
        return order, False
    # A stub: a refund or fulfillment can arrive before its order; a later orders/* webhook completes it.
    order = Order(id=oid, shop_id=shop.id, platform=PLATFORM, order_no=order_no, status=order_status.UNKNOWN,
                  currency=(shop.settings or {}).get("currency") or "USD", source=SOURCE, extra={STATE_KEY: {}})
    session.add(order)
    return order, True


def _apply_order_fields(session: Session, shop: Shop, order: Order, data: ShopifyOrder, state: dict[str, Any]) -> None:
    customer = upsert_customer(session, shop, data.customer) if data.customer else None
    order.customer_id = customer.id if customer else None
    order.buyer_nick = customer.buyer_nick if customer else None
    order.order_name = data.order_name
    order.status_text = " / ".join(p for p in (data.financial_status, data.fulfillment_status or "unfulfilled") if p)[:80]
    order.close_reason = data.cancel_reason
    order.created_at = data.created_at
    paid = data.financial_status in ("paid", "partially_paid", "partially_refunded", "refunded")
    order.paid_at = (data.processed_at or data.created_at) if paid else None
    order.total_amount = data.total_amount
    order.goods_amount = data.goods_amount
    order.post_fee = data.post_fee
    order.paid_amount = data.paid_amount
    order.currency = data.currency
    order.item_count = sum(line.quantity for line in data.lines) if data.lines else None
    order.title_summary = ("; ".join(line.title for line in data.lines)[:500]) or None
    order.buyer_message = data.note
    order.receiver_name = data.receiver_name
    order.receiver_phone = data.receiver_phone
    order.receiver_province = data.receiver_province
    order.receiver_city = data.receiver_city
    order.receiver_address = (data.receiver_address or "")[:300] or None
    order.shipping_method = (data.shipping_method or "")[:40] or None
    order.updated_at = data.updated_at or _now()
    state["seen"] = True
    state["financial_status"] = data.financial_status
    state["fulfillment_status"] = data.fulfillment_status
    state["cancelled"] = data.cancelled
    state["cancelled_at"] = _iso(data.cancelled_at)
    state["closed_at"] = _iso(data.closed_at)
    state["line_quantities"] = {line.line_id: line.quantity for line in data.lines}
    _sync_lines(session, shop, order, data.lines)


def _sync_shipments(session: Session, shop: Shop, order: Order, fulfillments: list[ShopifyFulfillment]) -> None:
    existing = {s.id: s for s in session.scalars(select(Shipment).where(Shipment.order_id == order.id))}
    for f in fulfillments:
        for number in f.tracking_numbers:
            waybill = number[:64]
            sid = f"{order.id}:{waybill}"
            row = existing.get(sid)
            if row is None:
                row = Shipment(id=sid, shop_id=shop.id, order_id=order.id, waybill_no=waybill)
                session.add(row)
                existing[sid] = row
            row.carrier_name = (f.tracking_company or "")[:60] or None
            row.carrier_code = carrier_code(f.tracking_company)
            row.shipped_at = f.created_at
            if f.status == "cancelled":
                row.status = "cancelled"  # otherwise the parcel's state moves forward only, through services.tracking


def _settle(session: Session, shop: Shop, order: Order, state: dict[str, Any]) -> None:
    """Derive what follows from the merged state: refunds, parcels, shipping time, status and finish time."""
    fulfillments = [_fulfillment_from_state(fid, order.order_no, data) for fid, data in sorted(state.get("fulfillments", {}).items())]
    refunds = state.get("refunds", {})
    refunded = sum((Decimal(r["amount"]) for r in refunds.values()), ZERO)
    order.refunded_amount = refunded if refunds else None
    line_refunds: dict[str, Decimal] = {}
    for r in refunds.values():
        for line_id, amount in (r.get("line_amounts") or {}).items():
            line_refunds[line_id] = line_refunds.get(line_id, ZERO) + Decimal(amount)
    if line_refunds:
        for line in session.scalars(select(OrderLine).where(OrderLine.order_id == order.id)):
            amount = line_refunds.get(line.sub_order_no or "")
            if amount is not None:
                line.refunded_amount = amount
                line.refund_status = "SUCCESS"
    _sync_shipments(session, shop, order, fulfillments)
    for f in fulfillments:  # the carrier's word (shipment_status) moves each parcel forward, never back
        for update in fulfillment_updates(f):
            apply_tracking_update(session, update, source=PLATFORM, now=_now(), shop_id=shop.id, record_unmatched=False)
    shipped = [f for f in fulfillments if f.shipped and f.created_at]
    order.shipped_at = min((f.created_at for f in shipped), default=order.shipped_at)  # type: ignore[type-var]
    if not state.get("seen"):
        order.status = order_status.UNKNOWN
        return
    progress = state.get("fulfillment_status")
    derived = fulfillment_progress(state.get("line_quantities") or {}, fulfillments)
    if PROGRESS.get(derived, 0) > PROGRESS.get(progress, 0):
        progress = derived
    delivered = all_delivered(fulfillments)
    order.status = top_status(state.get("financial_status"), progress, cancelled=bool(state.get("cancelled")), delivered=delivered)
    if order.status == order_status.TRADE_FINISHED:
        order.finished_at = max((f.updated_at or f.created_at for f in fulfillments if f.delivered and (f.updated_at or f.created_at)),
                                default=None) or order.updated_at
    elif order.status in (order_status.TRADE_CLOSED, order_status.TRADE_CLOSED_BY_TAOBAO):
        order.finished_at = _from_iso(state.get("cancelled_at")) or _from_iso(state.get("closed_at")) or order.updated_at
    else:
        order.finished_at = None


def apply_shopify_event(session: Session, shop_domain: str, event: ShopifyEvent) -> AppliedEvent:
    """Store one parsed webhook for the shop at `shop_domain` (created on first use), then refresh its customer's figures."""
    shop = get_or_create_shop(session, None, platform=PLATFORM, domain=shop_domain.strip().lower())
    order, created = _order_row(session, shop, event.order_no)
    previous_customer = order.customer_id
    # A deep copy: the JSON column only notices a change when the new value differs from the loaded one.
    state: dict[str, Any] = copy.deepcopy((order.extra or {}).get(STATE_KEY) or {})
    stale = False
    if event.order is not None:
        incoming = event.order
        stale = bool(order.updated_at and incoming.updated_at and incoming.updated_at < order.updated_at and state.get("seen"))
        if not stale:
            _apply_order_fields(session, shop, order, incoming, state)
        _merge(state, incoming.fulfillments, incoming.refunds)
    elif event.refund is not None:
        _merge(state, refunds=(event.refund,))
    elif event.fulfillment is not None:
        _merge(state, fulfillments=(event.fulfillment,))
    session.flush()
    _settle(session, shop, order, state)
    order.extra = {**(order.extra or {}), STATE_KEY: state}  # a new dict, so the JSON column sees the change
    session.flush()
    lifecycle_for_orders(session, [order.id], now=_now())  # paid / shipped messages (services.lifecycle)
    touched = {cid for cid in (order.customer_id, previous_customer) if cid}
    if touched:
        refresh_customer_stats(session.connection(), shop.id, touched)
        for cid in touched:  # the figures were written by SQL behind the session's back
            loaded = session.get(Customer, cid)
            if loaded is not None:
                session.expire(loaded)
    return AppliedEvent(shop.id, order.id, order.customer_id, created, stale)


# ---- taking in one delivery: de-duplication, parsing, applying, recording ----


@dataclass(frozen=True)
class DeliveryOutcome:
    """How a webhook delivery ended: the HTTP status to answer and a short word (processed, duplicate, ignored, rejected)."""

    http_status: int
    status: str
    detail: str | None = None
    order_id: str | None = None


def _delivery_key(delivery_id: str | None) -> str | None:
    return f"shopify:{delivery_id.strip()}"[:120] if delivery_id and delivery_id.strip() else None


def _record(store: Store, key: str | None, topic: str | None, shop_domain: str | None, status: str, error: str | None = None) -> None:
    if key is None:
        return
    with store.session() as session:
        row = session.get(WebhookDelivery, key)
        if row is None:
            row = WebhookDelivery(id=key, source=PLATFORM, received_at=_now())
            session.add(row)
        row.topic = (topic or "")[:60] or None
        row.shop_domain = (shop_domain or "")[:255] or None
        row.status = status
        row.error = redact_phones(error)[:2000] if error else None


def receive_delivery(store: Store, *, delivery_id: str | None, topic: str | None, shop_domain: str | None, body: bytes) -> DeliveryOutcome:
    """Take in one (already authenticated) Shopify delivery: a repeat changes nothing, an unknown topic is recorded, bad JSON is refused naming the problem."""
    key = _delivery_key(delivery_id)
    topic = (topic or "").strip().lower()
    domain = (shop_domain or "").strip().lower() or None
    if key is not None:
        with store.session() as session:
            seen = session.get(WebhookDelivery, key)
            if seen is not None and seen.status in ("processed", "ignored"):
                return DeliveryOutcome(200, "duplicate")
    try:
        payload = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError as exc:
        return DeliveryOutcome(400, "rejected", f"body is not UTF-8 text (byte {exc.start})")
    except json.JSONDecodeError as exc:
        return DeliveryOutcome(400, "rejected", f"malformed JSON: {exc.msg} at line {exc.lineno} column {exc.colno}")
    try:
        event = parse_webhook(topic, payload)
    except UnknownTopic:
        _record(store, key, topic, domain, "ignored")
        return DeliveryOutcome(200, "ignored", f"topic not taken in: {topic or '(none)'}")
    except ShopifyPayloadError as exc:
        _record(store, key, topic, domain, "failed", str(exc))
        return DeliveryOutcome(400, "rejected", f"{topic} payload: {exc}")
    if domain is None:
        return DeliveryOutcome(400, "rejected", "missing X-Shopify-Shop-Domain header")
    try:
        with store.session() as session:
            applied = apply_shopify_event(session, domain, event)
            if key is not None:
                row = session.get(WebhookDelivery, key)
                if row is None:
                    row = WebhookDelivery(id=key, source=PLATFORM, received_at=_now())
                    session.add(row)
                row.topic, row.shop_domain, row.status, row.error = topic, domain, "processed", None
    except IntegrityError:
        # The same delivery arrived twice at once and the other copy won the race.
        with store.session() as session:
            if key is not None and session.get(WebhookDelivery, key) is not None:
                return DeliveryOutcome(200, "duplicate")
        raise
    except Exception as exc:
        _record(store, key, topic, domain, "failed", f"{type(exc).__name__}: {exc}")
        raise
    return DeliveryOutcome(200, "processed", order_id=applied.order_id)
