"""Which lifecycle messages an order is due, from its moments (paid, shipped, out for delivery, signed) — pure."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Mapping

from kefu.domain.messaging.rules import MessagingRules

# The order's progress, latest first: only the latest stage reached inside the look-back is messaged, so an order seen
# for the first time already signed gets signed care, not paid + shipped + signed at once.
PROGRESS = ("parcel.signed", "parcel.out_for_delivery", "order.shipped", "order.paid")


@dataclass(frozen=True)
class OrderMoments:
    """What the lifecycle rule needs of one order and its first parcel."""

    order_id: str
    customer_id: str | None
    paid_at: datetime | None = None
    shipped_at: datetime | None = None
    out_for_delivery_at: datetime | None = None
    signed_at: datetime | None = None
    closed: bool = False  # closed or fully refunded: no more messages
    variables: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class DueMessage:
    event: str  # = the template key
    at: datetime  # the moment that made it due


def due_messages(order: OrderMoments, *, now: datetime, rules: MessagingRules) -> list[DueMessage]:
    """The lifecycle messages this order is due now: the latest progress stage newer than the look-back, and a review
    invitation `review_invite_days` after signing (also only while that moment is inside the look-back)."""
    if order.customer_id is None or order.closed:
        return []
    oldest = now - timedelta(hours=rules.lookback_hours)
    moments = {
        "order.paid": order.paid_at,
        "order.shipped": order.shipped_at,
        "parcel.out_for_delivery": order.out_for_delivery_at,
        "parcel.signed": order.signed_at,
    }
    due: list[DueMessage] = []
    for event in PROGRESS:
        at = moments[event]
        if at is None:
            continue
        if oldest <= at <= now and rules.event_enabled(event):
            due.append(DueMessage(event, at))
        break  # a later stage was reached: earlier stages are never messaged afterwards
    if order.signed_at is not None:
        invite_at = order.signed_at + timedelta(days=rules.review_invite_days)
        if oldest <= invite_at <= now and rules.event_enabled("review.invite"):
            due.append(DueMessage("review.invite", invite_at))
    return due
