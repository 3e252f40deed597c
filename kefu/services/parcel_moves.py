"""How one carrier update moves a parcel row and its order: pure, on any object with the columns (ORM row or plain)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from kefu.domain import order_status
from kefu.domain.carriers import carrier_for
from kefu.domain.tracking import ParcelState, TrackingUpdate, advance
from kefu.ingest import shopify_tracking
from kefu.store.tables import Order, Shipment

log = logging.getLogger(__name__)

S = ParcelState
SHOPIFY = "shopify"


@dataclass(slots=True)
class ParcelRow:
    """A shipments row as a push batch reads it (tracking_batch); moved here exactly as an ORM Shipment is."""

    id: str
    shop_id: str
    order_id: str
    carrier_code: str | None
    carrier_name: str | None
    waybill_no: str
    shipped_at: datetime | None
    status: str | None
    status_at: datetime | None
    last_event_at: datetime | None
    picked_up_at: datetime | None
    out_for_delivery_at: datetime | None
    signed_at: datetime | None
    destination_province: str | None
    tracking_source: str | None
    subscription_status: str | None


@dataclass(slots=True)
class OrderRow:
    """The order columns a parcel's move reads and may change, as a push batch reads them."""

    id: str
    platform: str
    status: str | None
    shipped_at: datetime | None
    receiver_province: str | None


ParcelFields = ParcelRow | Shipment  # what parcel_moves moves: a batch's plain row or an ORM row
OrderFields = OrderRow | Order


def parcel_state(value: str | None) -> ParcelState:
    """A stored shipments.status as a ParcelState; older raw Shopify words are read through their mapping."""
    if not value:
        return S.UNKNOWN
    try:
        return ParcelState(value)
    except ValueError:
        return shopify_tracking.state_for(value)


def is_canonical_carrier(code: str | None) -> bool:
    """Whether a carrier code is one of kefu's known (Kuaidi100) codes."""
    carrier = carrier_for(code) if code else None
    return carrier is not None and carrier.code == code


def _min(*moments: datetime | None) -> datetime | None:
    present = [m for m in moments if m is not None]
    return min(present) if present else None


def _max(*moments: datetime | None) -> datetime | None:
    present = [m for m in moments if m is not None]
    return max(present) if present else None


def next_state(current: ParcelState, update: TrackingUpdate, last_event_at: datetime | None) -> ParcelState:
    """The parcel's state after `update`: never lower; a push older than the stored track cannot swap peer states."""
    incoming = update.state
    if incoming is S.UNKNOWN:
        return current
    latest = update.latest_event
    stale = latest is not None and last_event_at is not None and latest.at < last_event_at
    if stale and incoming.rank <= current.rank:
        return current
    return advance(current, incoming)


def _status_moment(update: TrackingUpdate, state: ParcelState, now: datetime) -> datetime:
    """When the parcel reached `state`: the first line of the track in that state, else the newest line, else now."""
    reached = [e.at for e in update.events if e.state is state]
    if reached:
        return min(reached)
    latest = update.latest_event
    return latest.at if latest else now


def advance_parcel(shipment: ParcelFields, update: TrackingUpdate, *, source: str,
                   now: datetime) -> tuple[ParcelState, ParcelState, str | None]:
    """Move the parcel's columns for `update`; returns (state before, state after, corrected carrier code or None)."""
    current = parcel_state(shipment.status)
    new = next_state(current, update, shipment.last_event_at)
    if new != current or shipment.status is None:
        shipment.status = new.value
        shipment.status_at = _status_moment(update, new, now)
    events = update.events
    times = [e.at for e in events]
    shipment.last_event_at = _max(shipment.last_event_at, *times)
    collected = [e.at for e in events if e.state is S.COLLECTED]
    if collected:
        shipment.picked_up_at = _min(shipment.picked_up_at, *collected)
    elif new.rank >= S.COLLECTED.rank and shipment.picked_up_at is None:
        moving = [e.at for e in events if e.state is not S.AWAITING_PICKUP]
        shipment.picked_up_at = min(moving) if moving else None  # the first scan is the carrier taking the parcel
    delivering = [e.at for e in events if e.state is S.OUT_FOR_DELIVERY]
    if delivering:
        shipment.out_for_delivery_at = _min(shipment.out_for_delivery_at, *delivering)
    elif new is S.OUT_FOR_DELIVERY and shipment.out_for_delivery_at is None:
        shipment.out_for_delivery_at = shipment.status_at
    if new is S.SIGNED and shipment.signed_at is None:
        signed = [e.at for e in events if e.state is S.SIGNED]
        shipment.signed_at = max(signed) if signed else _status_moment(update, new, now)
    if update.subscription is not None:
        shipment.subscription_status = update.subscription.value
    shipment.tracking_source = source[:20]

    corrected = None
    if update.carrier_changed and update.new_carrier_code and shipment.carrier_code != update.new_carrier_code:
        corrected = update.new_carrier_code[:40]
        log.info("carrier corrected for waybill %s: %s -> %s", shipment.waybill_no, shipment.carrier_code, corrected)
        shipment.carrier_code = corrected
        carrier = carrier_for(corrected)
        if carrier is not None:
            shipment.carrier_name = carrier.name
    elif shipment.carrier_code is None and is_canonical_carrier(update.carrier_code):
        shipment.carrier_code = update.carrier_code
    return current, new, corrected


def follow_order(shipment: ParcelFields, order: OrderFields, state: ParcelState) -> None:
    """The parcel takes the order's province; a parcel the carrier has taken means the order was shipped.

    Signing never invents TRADE_FINISHED, and a Shopify order's status is derived from its own fulfilment state, which
    the Shopify service keeps.
    """
    if shipment.destination_province is None and order.receiver_province:
        shipment.destination_province = order.receiver_province[:40]
    if state.rank < S.COLLECTED.rank:
        return
    if order.shipped_at is None:
        order.shipped_at = shipment.shipped_at or shipment.picked_up_at
    if order.platform != SHOPIFY and order.status == order_status.WAIT_SELLER_SEND_GOODS:
        order.status = order_status.WAIT_BUYER_CONFIRM_GOODS
