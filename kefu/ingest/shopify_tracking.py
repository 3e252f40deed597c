"""Shopify fulfillments' `shipment_status` as carrier-independent TrackingUpdates, one per tracking number."""

from __future__ import annotations

from kefu.domain.carriers import carrier_code
from kefu.domain.tracking import ParcelState, TrackingEvent, TrackingUpdate
from kefu.ingest.shopify import ShopifyFulfillment

S = ParcelState
# Shopify's shipment_status values (the carrier's latest word, as Shopify's tracking partners report it).
_STATE: dict[str, ParcelState] = {
    "label_printed": S.AWAITING_PICKUP,
    "label_purchased": S.AWAITING_PICKUP,
    "confirmed": S.AWAITING_PICKUP,  # the carrier knows of the parcel but has not received it yet
    "carrier_picked_up": S.COLLECTED,
    "in_transit": S.IN_TRANSIT,
    "out_for_delivery": S.OUT_FOR_DELIVERY,
    "attempted_delivery": S.PROBLEM,  # delivery was tried and failed
    "ready_for_pickup": S.AT_PICKUP_POINT,
    "picked_up": S.SIGNED,  # the buyer collected it from the pickup point
    "delivered": S.SIGNED,
    "failure": S.PROBLEM,  # an invalid tracking number, or the carrier cancelled or lost the parcel
    "delayed": S.PROBLEM,
}
UNKNOWN_CARRIER = "other"


def state_for(shipment_status: str | None) -> ParcelState:
    """The parcel state of a Shopify shipment_status; anything unknown is UNKNOWN (and never moves a parcel)."""
    return _STATE.get((shipment_status or "").strip().lower(), S.UNKNOWN)


def carrier_for(tracking_company: str | None) -> str:
    """kefu's carrier code for Shopify's tracking company: the canonical code when known, else the name in lower case."""
    code = carrier_code(tracking_company)
    if code:
        return code
    name = " ".join((tracking_company or "").split()).lower()
    return name[:40] or UNKNOWN_CARRIER


def fulfillment_updates(fulfillment: ShopifyFulfillment) -> list[TrackingUpdate]:
    """One TrackingUpdate per tracking number of a fulfillment whose carrier status is known; none when cancelled."""
    if fulfillment.status == "cancelled" or not fulfillment.tracking_numbers:
        return []
    raw = (fulfillment.shipment_status or "").strip().lower()
    state = state_for(raw)
    if state is S.UNKNOWN:
        return []
    carrier = carrier_for(fulfillment.tracking_company)
    moment = fulfillment.updated_at or fulfillment.created_at
    updates = []
    for number in dict.fromkeys(n.strip()[:64] for n in fulfillment.tracking_numbers if n and n.strip()):
        events: tuple[TrackingEvent, ...] = ()
        if moment is not None and moment.tzinfo is not None:
            events = (
                TrackingEvent(
                    carrier_code=carrier,
                    waybill_no=number,
                    at=moment,
                    state=state,
                    raw_state=raw[:20],
                    description=f"Shopify: {raw}",
                ),
            )
        updates.append(
            TrackingUpdate(
                carrier_code=carrier,
                waybill_no=number,
                state=state,
                raw_state=raw,
                is_terminal=state.is_terminal,
                events=events,
            )
        )
    return updates
