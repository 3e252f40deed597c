"""One customer timeline: orders, parcels and their scans, alerts, notes and every message sent or suppressed (and why),
newest first in one list of typed entries. A new source is one function decorated with `@timeline_source`."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.store.messaging_tables import OutboxMessage

MESSAGES_ON_TIMELINE = 200


@dataclass(frozen=True)
class TimelineItem:
    """One thing that happened with a customer."""

    at: datetime
    kind: str  # order_created | order_paid | … | parcel | alert | note | message
    text: str
    order_id: str | None = None
    status: str | None = None  # a message's status: queued | sent | suppressed | blocked | dead …
    reason: str | None = None  # why a message was suppressed, blocked, deferred or dead
    ref: str | None = None  # the message id (links to its decisions)


TimelineSource = Callable[[Session, str], Iterable[TimelineItem]]
SOURCES: list[TimelineSource] = []


def timeline_source(source: TimelineSource) -> TimelineSource:
    """Add a source of timeline entries (a capability's one function)."""
    SOURCES.append(source)
    return source


@timeline_source
def order_and_parcel_entries(session: Session, customer_id: str) -> Iterable[TimelineItem]:
    """Orders (created, paid, shipped, finished/closed), parcel scans, alerts and notes, as the 360 builds them."""
    from kefu.services.customer360 import customer_360

    view = customer_360(session, customer_id)
    if view is None:
        return []
    return [TimelineItem(at=e.at, kind=e.kind, text=e.text, order_id=e.order_id) for e in view.timeline]


@timeline_source
def message_entries(session: Session, customer_id: str) -> Iterable[TimelineItem]:
    """Every message to the buyer: sent, queued, deferred, suppressed, blocked or dead, with the reason."""
    rows = session.execute(
        select(OutboxMessage.id, OutboxMessage.created_at, OutboxMessage.sent_at, OutboxMessage.text,
               OutboxMessage.order_id, OutboxMessage.status, OutboxMessage.reason)
        .where(OutboxMessage.customer_id == customer_id)
        .order_by(OutboxMessage.created_at.desc()).limit(MESSAGES_ON_TIMELINE))
    return [TimelineItem(at=sent_at or created_at, kind="message", text=text, order_id=order_id, status=status,
                         reason=reason, ref=message_id)
            for message_id, created_at, sent_at, text, order_id, status, reason in rows]


@timeline_source
def review_entries(session: Session, customer_id: str) -> Iterable[TimelineItem]:
    """The buyer's reviews and 追评, with the platform's rating as the status."""
    from kefu.store.review_tables import Review

    rows = session.execute(select(Review.id, Review.created_at, Review.result, Review.kind, Review.item_title,
                                  Review.content, Review.order_id)
                           .where(Review.customer_id == customer_id).order_by(Review.created_at.desc()).limit(50))
    return [TimelineItem(at=at, kind="review" if kind != "follow_up" else "follow_up_review",
                         text=f"{title or ''}：{content or '（无文字）'}".lstrip("："), order_id=order_id, status=result,
                         ref=review_id)
            for review_id, at, result, kind, title, content, order_id in rows]


@timeline_source
def return_entries(session: Session, customer_id: str) -> Iterable[TimelineItem]:
    """The buyer's return and refund requests, with kefu's decision as the status."""
    from kefu.store.returns_tables import ReturnRequest

    rows = session.execute(select(ReturnRequest.id, ReturnRequest.requested_at, ReturnRequest.title,
                                  ReturnRequest.reason_text, ReturnRequest.status, ReturnRequest.order_id)
                           .where(ReturnRequest.customer_id == customer_id)
                           .order_by(ReturnRequest.requested_at.desc()).limit(50))
    return [TimelineItem(at=at, kind="return", text=f"{title or ''}：{reason or ''}".strip("："), order_id=order_id,
                         status=status, ref=request_id)
            for request_id, at, title, reason, status, order_id in rows]


def customer_timeline(session: Session, customer_id: str, *, limit: int | None = None) -> list[TimelineItem]:
    """All sources merged, newest first (entries of the same moment keep their source's order)."""
    items: list[TimelineItem] = []
    for source in SOURCES:
        items.extend(source(session, customer_id))
    items.sort(key=lambda e: e.at, reverse=True)
    return items[:limit] if limit else items


# Sources kept in other capabilities' modules register themselves when imported.
from kefu.services import cases as _cases  # noqa: E402,F401  (complaint-case events)
