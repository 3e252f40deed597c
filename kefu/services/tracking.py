"""Carrier pushes into the store: new track events only, parcel states that never move back, unmatched pushes kept."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Protocol, TypeVar

from sqlalchemy import Connection, func, or_, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from kefu.domain.privacy import redact_phones
from kefu.domain.tracking import (
    ParcelState,
    PushRejected,
    SubscriptionStatus,
    TrackingEvent,
    TrackingUpdate,
    merge_events,
)
from kefu.services.parcel_moves import ParcelFields, advance_parcel, follow_order, is_canonical_carrier, parcel_state
from kefu.store.database import Store
from kefu.store.tables import Order, Shipment, TrackingEventRow, WebhookDelivery

log = logging.getLogger(__name__)
ShipmentT = TypeVar("ShipmentT", bound=ParcelFields)

S = ParcelState
PROCESSED = "processed"
UNMATCHED = "unmatched"
REPLAYED = "replayed"
FAILED = "failed"
PARCEL_TOPIC = "parcel"  # webhook_deliveries.topic of a kept unmatched update (one row per carrier and waybill)
PUSH_TOPIC = "push"  # webhook_deliveries.topic of a whole delivery

# How the 360 timeline names a parcel state (Chinese first, like the workbench).
STATE_NAMES: dict[ParcelState, str] = {
    S.UNKNOWN: "物流动态",
    S.AWAITING_PICKUP: "待揽收",
    S.COLLECTED: "已揽收",
    S.IN_TRANSIT: "运输中",
    S.CUSTOMS: "清关",
    S.TRANSFERRED: "转投",
    S.OUT_FOR_DELIVERY: "派件中",
    S.AT_PICKUP_POINT: "待取件",
    S.PROBLEM: "异常",
    S.REJECTED: "拒收",
    S.RETURNING: "退回中",
    S.SIGNED: "已签收",
    S.RETURN_SIGNED: "退回签收",
}


@dataclass(frozen=True)
class TrackingResult:
    """What one update did: the parcels it moved (none when the waybill is unknown), their state and the new events."""

    carrier_code: str
    waybill_no: str
    shipment_ids: tuple[str, ...]
    state: ParcelState | None  # the (first) parcel's state afterwards; None when unmatched
    previous_state: ParcelState | None
    new_events: int
    carrier_corrected_to: str | None = None

    @property
    def matched(self) -> bool:
        return bool(self.shipment_ids)

    @property
    def changed(self) -> bool:
        return self.state is not None and self.state != self.previous_state


@dataclass(frozen=True)
class TimelineEvent:
    """One stored scan of a parcel, for the 360 and the order page."""

    shipment_id: str
    at: datetime
    state: ParcelState
    description: str
    location: str | None
    source: str

    @property
    def text(self) -> str:
        """The state's name and the (phone-redacted) description; a line whose state the carrier did not say is just its text."""
        if self.state is S.UNKNOWN:
            return self.description or STATE_NAMES[S.UNKNOWN]
        name = STATE_NAMES.get(self.state, self.state.value)
        return f"{name} · {self.description}" if self.description else name


# ---- finding the parcel ----


def find_shipments(session: Session, update: TrackingUpdate, *, shop_id: str | None = None) -> list[Shipment]:
    """The parcels an update is about: by carrier and waybill, else by the waybill alone; within `shop_id` when given.

    A waybill may carry several orders (合并发货), so more than one parcel row can match.
    """
    waybill = update.waybill_no.strip()
    if not waybill:
        return []
    query = select(Shipment).where(Shipment.waybill_no == waybill)
    if shop_id:
        query = query.where(Shipment.shop_id == shop_id)
    return pick_parcels(list(session.scalars(query.order_by(Shipment.id))), update)


def pick_parcels(candidates: list[ShipmentT], update: TrackingUpdate) -> list[ShipmentT]:
    """Among a waybill's parcels, those of the update's carrier (old or new code); all of them when none is."""
    codes = {c.lower() for c in (update.carrier_code, update.old_carrier_code, update.new_carrier_code) if c}
    exact = [s for s in candidates if s.carrier_code and s.carrier_code.lower() in codes]
    return exact or candidates


# ---- applying one update ----


def event_row(event: TrackingEvent, key: str, owner: ParcelFields, source: str, now: datetime) -> dict[str, Any]:
    """The tracking_events row of one scan under its parcel (columns cut to size, courier phones redacted)."""
    return {
        "id": key,
        "shop_id": owner.shop_id,
        "shipment_id": owner.id,
        "carrier_code": event.carrier_code[:40] or None,
        "waybill_no": event.waybill_no[:64],
        "at": event.at,
        "state": event.state.value,
        "raw_state": event.raw_state[:20] or None,
        "description": redact_phones(event.description),
        "location": (event.location or "")[:120] or None,
        "area_code": (event.area_code or "")[:20] or None,
        "source": source[:20],
        "received_at": now,
    }


def _store_events(session: Session, owner: Shipment, events: Sequence[TrackingEvent], source: str,
                  now: datetime) -> list[TrackingEvent]:
    """Add the events not stored yet (by dedupe key) under `owner`; returns them newest first."""
    if not events:
        return []
    keys = [e.dedupe_key for e in events]
    known = set(session.scalars(select(TrackingEventRow.id).where(TrackingEventRow.id.in_(keys))))
    fresh = merge_events(known, events)
    for event in fresh:
        session.add(TrackingEventRow(**event_row(event, event.dedupe_key, owner, source, now)))
    return fresh


def _apply_to_shipment(session: Session, shipment: Shipment, update: TrackingUpdate, *, source: str,
                       now: datetime) -> tuple[ParcelState, ParcelState, str | None]:
    current, new, corrected = advance_parcel(shipment, update, source=source, now=now)
    order = session.get(Order, shipment.order_id)
    if order is not None:
        follow_order(shipment, order, new)
    return current, new, corrected


def apply_tracking_update(
    session: Session,
    update: TrackingUpdate,
    *,
    source: str,
    now: datetime,
    shop_id: str | None = None,
    record_unmatched: bool = True,
) -> TrackingResult:
    """Land one carrier update: store its new events, move the parcel forward, keep it as unmatched when no parcel has its waybill."""
    shipments = find_shipments(session, update, shop_id=shop_id)
    if not shipments:
        log.info("tracking update from %s for unknown waybill %s (%s) kept as unmatched%s", source, update.waybill_no,
                 update.carrier_code, f" in shop {shop_id}" if shop_id else "")
        if record_unmatched:
            keep_unmatched(session, update, source=source, shop_id=shop_id, now=now)
        return TrackingResult(update.carrier_code, update.waybill_no, (), None, None, 0)
    fresh = _store_events(session, shipments[0], update.events, source, now)
    outcomes = [_apply_to_shipment(session, s, update, source=source, now=now) for s in shipments]
    previous, state, corrected = outcomes[0]
    _mark_replayed(session, source, update)
    if state is not previous and state in (S.OUT_FOR_DELIVERY, S.SIGNED):  # lifecycle messages (services.lifecycle)
        from kefu.services.lifecycle import lifecycle_for_parcels

        lifecycle_for_parcels(session, shipments, now=now)
    session.flush()
    return TrackingResult(
        carrier_code=update.carrier_code,
        waybill_no=update.waybill_no,
        shipment_ids=tuple(s.id for s in shipments),
        state=state,
        previous_state=previous,
        new_events=len(fresh),
        carrier_corrected_to=corrected,
    )


def shipment_timeline(session: Session, shipment_id: str) -> list[TimelineEvent]:
    """A parcel's stored track, newest first (events of a waybill shared by several orders included)."""
    shipment = session.get(Shipment, shipment_id)
    if shipment is None:
        return []
    rows = session.scalars(
        select(TrackingEventRow)
        .where(TrackingEventRow.shop_id == shipment.shop_id, TrackingEventRow.waybill_no == shipment.waybill_no)
        .order_by(TrackingEventRow.at.desc(), TrackingEventRow.id)
    )
    return [_timeline_event(shipment.id, row) for row in rows]


def order_parcel_events(session: Session, order_ids: Iterable[str]) -> dict[str, list[TimelineEvent]]:
    """The stored track of every parcel of these orders, by order id, newest first."""
    ids = list(dict.fromkeys(order_ids))
    if not ids:
        return {}
    shipments = list(session.scalars(select(Shipment).where(Shipment.order_id.in_(ids)).order_by(Shipment.id)))
    if not shipments:
        return {}
    waybills = {s.waybill_no for s in shipments}
    shops = {s.shop_id for s in shipments}
    rows = list(
        session.scalars(
            select(TrackingEventRow)
            .where(TrackingEventRow.waybill_no.in_(waybills), TrackingEventRow.shop_id.in_(shops))
            .order_by(TrackingEventRow.at.desc(), TrackingEventRow.id)
        )
    )
    by_order: dict[str, list[TimelineEvent]] = {}
    for shipment in shipments:
        events = [_timeline_event(shipment.id, r) for r in rows if r.waybill_no == shipment.waybill_no and r.shop_id == shipment.shop_id]
        if events:
            by_order.setdefault(shipment.order_id, []).extend(events)
    for events in by_order.values():
        events.sort(key=lambda e: e.at, reverse=True)
    return by_order


def _timeline_event(shipment_id: str, row: TrackingEventRow) -> TimelineEvent:
    return TimelineEvent(
        shipment_id=shipment_id,
        at=row.at,
        state=parcel_state(row.state),
        description=redact_phones(row.description) or "",
        location=row.location,
        source=row.source,
    )


# ---- unmatched updates, kept for a replay once the order is imported ----


def unmatched_key(source: str, carrier_code: str, waybill_no: str) -> str:
    """The webhook_deliveries id under which an unmatched parcel's latest update waits."""
    digest = hashlib.sha256(f"{carrier_code.strip().lower()}\x1f{waybill_no.strip()}".encode()).hexdigest()[:40]
    return f"{source}:parcel:{digest}"


def update_to_json(update: TrackingUpdate) -> dict[str, Any]:
    """A TrackingUpdate as JSON-able data (descriptions are already phone-redacted)."""
    return {
        "carrier_code": update.carrier_code,
        "waybill_no": update.waybill_no,
        "state": update.state.value,
        "raw_state": update.raw_state,
        "is_terminal": update.is_terminal,
        "subscription": update.subscription.value if update.subscription else None,
        "message": update.message,
        "carrier_corrected": update.carrier_corrected,
        "old_carrier_code": update.old_carrier_code,
        "new_carrier_code": update.new_carrier_code,
        "events": [
            {
                "carrier_code": e.carrier_code,
                "waybill_no": e.waybill_no,
                "at": e.at.isoformat(),
                "state": e.state.value,
                "raw_state": e.raw_state,
                "description": e.description,
                "location": e.location,
                "area_code": e.area_code,
            }
            for e in update.events
        ],
    }


def update_from_json(data: dict[str, Any]) -> TrackingUpdate:
    """The TrackingUpdate written by update_to_json."""
    events = tuple(
        TrackingEvent(
            carrier_code=e["carrier_code"],
            waybill_no=e["waybill_no"],
            at=datetime.fromisoformat(e["at"]),
            state=parcel_state(e.get("state")),
            raw_state=e.get("raw_state") or "",
            description=e.get("description") or "",
            location=e.get("location"),
            area_code=e.get("area_code"),
        )
        for e in data.get("events") or ()
    )
    subscription = data.get("subscription")
    return TrackingUpdate(
        carrier_code=data["carrier_code"],
        waybill_no=data["waybill_no"],
        state=parcel_state(data.get("state")),
        raw_state=data.get("raw_state") or "",
        is_terminal=bool(data.get("is_terminal")),
        events=events,
        subscription=SubscriptionStatus(subscription) if subscription else None,
        message=data.get("message"),
        carrier_corrected=bool(data.get("carrier_corrected")),
        old_carrier_code=data.get("old_carrier_code"),
        new_carrier_code=data.get("new_carrier_code"),
    )


def keep_unmatched(session: Session, update: TrackingUpdate, *, source: str, shop_id: str | None, now: datetime) -> WebhookDelivery:
    """Keep an update no parcel matched in webhook_deliveries (status unmatched), its track merged with earlier ones."""
    key = unmatched_key(source, update.carrier_code, update.waybill_no)
    row = session.get(WebhookDelivery, key)
    if row is None:
        row = WebhookDelivery(id=key, source=source[:20], topic=PARCEL_TOPIC, received_at=now, status=UNMATCHED)
        session.add(row)
    else:
        earlier = _kept_update(row)
        if earlier is not None:
            older = merge_events(update.events, earlier.events)  # lines only the earlier push had
            update = replace(update, events=tuple(sorted((*update.events, *older), key=lambda e: e.at, reverse=True)))
            shop_id = shop_id or _kept_shop(row)
    row.topic = PARCEL_TOPIC
    row.status = UNMATCHED
    row.received_at = now
    row.error = json.dumps({"source": source, "shop_id": shop_id, "update": update_to_json(update)}, ensure_ascii=False)
    session.flush()
    return row


def _kept(row: WebhookDelivery) -> dict[str, Any] | None:
    try:
        data = json.loads(row.error or "")
    except ValueError:
        return None
    return data if isinstance(data, dict) and isinstance(data.get("update"), dict) else None


def _kept_update(row: WebhookDelivery) -> TrackingUpdate | None:
    data = _kept(row)
    try:
        return update_from_json(data["update"]) if data else None
    except (KeyError, TypeError, ValueError):
        return None


def _kept_shop(row: WebhookDelivery) -> str | None:
    data = _kept(row)
    return data.get("shop_id") if data else None


def _mark_replayed(session: Session, source: str, update: TrackingUpdate) -> None:
    key = unmatched_key(source, update.carrier_code, update.waybill_no)
    row = session.get(WebhookDelivery, key)
    if row is not None and row.status == UNMATCHED:
        row.status = REPLAYED
        row.error = None  # the track now lives with its parcel


def replay_unmatched(session: Session, *, now: datetime, shop_id: str | None = None) -> list[TrackingResult]:
    """Apply every kept unmatched update again (after an import brought its order); returns the ones that matched now."""
    rows = list(
        session.scalars(
            select(WebhookDelivery)
            .where(WebhookDelivery.status == UNMATCHED, WebhookDelivery.topic == PARCEL_TOPIC)
            .order_by(WebhookDelivery.received_at, WebhookDelivery.id)
        )
    )
    matched: list[TrackingResult] = []
    for row in rows:
        update, kept_shop = _kept_update(row), _kept_shop(row)
        if update is None or (shop_id and kept_shop and kept_shop != shop_id):
            continue
        result = apply_tracking_update(session, update, source=row.source, now=now, shop_id=kept_shop or shop_id,
                                       record_unmatched=False)
        if result.matched:
            row.status = REPLAYED
            row.error = None
            matched.append(result)
    session.flush()
    return matched


# ---- taking in one carrier delivery: de-duplication, parsing, applying, recording ----


@dataclass(frozen=True)
class PushOutcome:
    """How a carrier delivery ended: processed, unmatched (kept for replay), duplicate or rejected (with why)."""

    status: str
    detail: str | None = None
    results: tuple[TrackingResult, ...] = ()

    @property
    def accepted(self) -> bool:
        return self.status != "rejected"


def delivery_key(source: str, body: bytes) -> str:
    """The webhook_deliveries id of a delivery: its source and the SHA-256 of its raw body."""
    return f"{source}:{hashlib.sha256(body).hexdigest()}"


def delivery_status(results: Sequence[TrackingResult]) -> tuple[str, str | None]:
    """A delivery's status (unmatched when none of its updates found a parcel) and the waybills nothing matched."""
    unmatched = [r for r in results if not r.matched]
    status = UNMATCHED if results and len(unmatched) == len(results) else PROCESSED
    return status, "; ".join(f"no parcel for {r.carrier_code} {r.waybill_no}" for r in unmatched) or None


def delivery_error(error: str | None) -> str | None:
    """What a delivery row keeps of why it failed or matched nothing: phones redacted, at most 2,000 characters."""
    return redact_phones(error)[:2000] if error else None


def _record_delivery(session: Session, key: str, source: str, status: str, error: str | None, now: datetime) -> None:
    """Write a delivery's status (a new row, or the row of an earlier attempt that failed)."""
    row = session.get(WebhookDelivery, key)
    if row is None:
        row = WebhookDelivery(id=key, source=source[:20], received_at=now, status=status)
        session.add(row)
    row.topic = PUSH_TOPIC
    row.status = status
    row.error = delivery_error(error)


def receive_push(
    store: Store,
    *,
    source: str,
    body: bytes,
    parse: Callable[[], Sequence[TrackingUpdate]],
    now: datetime,
    shop_id: str | None = None,
) -> PushOutcome:
    """Take in one (already authenticated) carrier delivery: a repeat changes nothing, an unknown waybill is kept, bad data is refused."""
    key = delivery_key(source, body)
    with store.session() as session:
        seen = session.get(WebhookDelivery, key)
        if seen is not None and seen.status in (PROCESSED, UNMATCHED):
            return PushOutcome("duplicate")
    try:
        updates = list(parse())
    except PushRejected as exc:
        with store.session() as session:
            _record_delivery(session, key, source, FAILED, str(exc), now)
        return PushOutcome("rejected", str(exc))
    for attempt in (1, 2):
        try:
            with store.session() as session:
                results = tuple(apply_tracking_update(session, u, source=source, now=now, shop_id=shop_id) for u in updates)
                status, detail = delivery_status(results)
                _record_delivery(session, key, source, status, detail, now)
            return PushOutcome(status, detail, results)
        except IntegrityError:
            # Another copy of this delivery, or another push of the same track, landed first: look again.
            with store.session() as session:
                seen = session.get(WebhookDelivery, key)
                if seen is not None and seen.status in (PROCESSED, UNMATCHED):
                    return PushOutcome("duplicate")
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


# ---- taking in many deliveries at once (the webhook batches what arrives while a batch is being written) ----


@dataclass(frozen=True)
class IncomingPush:
    """One authenticated carrier delivery waiting to be taken in: its raw body, how to parse it, the shop it is scoped to."""

    body: bytes
    parse: Callable[[], Sequence[TrackingUpdate]]
    shop_id: str | None = None


def receive_pushes(store: Store, *, source: str, pushes: Sequence[IncomingPush], now: datetime,
                   connection: Connection | None = None) -> list[PushOutcome]:
    """Take in several deliveries in one transaction, each with receive_push's outcome (tracking_batch: set-based).

    `connection`, when given, is a connection the caller keeps between batches (no pool check-out per batch).
    If the batch collides with a concurrent writer (the same delivery or event landing twice, a deadlock), it is rolled
    back and every delivery is taken in on its own through receive_push, which knows how to retry.
    """
    if not pushes:
        return []
    try:
        with _transaction(store, connection) as conn:
            return _receive_batch(conn, source, pushes, now)
    except (IntegrityError, OperationalError) as exc:
        log.info("a batch of %d %s pushes collided (%s): taking them in one by one", len(pushes), source, type(exc).__name__)
        return [receive_push(store, source=source, body=p.body, parse=p.parse, now=now, shop_id=p.shop_id) for p in pushes]


@contextmanager
def _transaction(store: Store, connection: Connection | None) -> Iterator[Connection]:
    if connection is None:
        with store.engine.begin() as conn:
            yield conn
    else:
        with connection.begin():
            yield connection


def _receive_batch(conn: Connection, source: str, pushes: Sequence[IncomingPush], now: datetime) -> list[PushOutcome]:
    from kefu.services.tracking_batch import land_batch  # set-based; it builds on this module

    return land_batch(conn, source, pushes, now)


# ---- subscribing parcels to a tracking service ----


class ParcelSubscriber(Protocol):
    """A tracking service that can be asked to push a parcel's track (kefu.adapters.kuaidi100_client.Kuaidi100Client)."""

    @property
    def off_reason(self) -> str | None: ...

    def subscribe(self, shipment: Shipment, *, phone: str | None = None, to: str | None = None) -> Any: ...


WATCHED = frozenset({SubscriptionStatus.POLLING.value, SubscriptionStatus.UPDATEALL.value, SubscriptionStatus.SHUTDOWN.value})
NOT_MOVING = frozenset({s.value for s in (S.SIGNED, S.REJECTED, S.RETURN_SIGNED)} | {"cancelled"})


@dataclass
class SubscribeReport:
    """What a subscribe run did: how many parcels ended in each status, the ones that did not go through, and why it stopped."""

    counts: dict[str, int]
    problems: list[tuple[str, str, str]]  # (waybill, status, message)
    stopped: str | None = None

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def parcels_to_subscribe(session: Session, *, since: datetime, shop_id: str | None = None) -> list[tuple[Shipment, Order]]:
    """Shipped parcels not yet signed for and not watched (never subscribed, or the watch was aborted), oldest first."""
    shipped_at = func.coalesce(Shipment.shipped_at, Order.shipped_at)
    query = (
        select(Shipment, Order)
        .join(Order, Order.id == Shipment.order_id)
        .where(shipped_at.is_not(None), shipped_at >= since)
        .where(or_(Shipment.status.is_(None), Shipment.status.not_in(NOT_MOVING)))
        .where(or_(Shipment.subscription_status.is_(None), Shipment.subscription_status.not_in(WATCHED)))
        .where(or_(Shipment.tracking_source.is_(None), Shipment.tracking_source != "kdniao"))
        .order_by(shipped_at, Shipment.id)
    )
    if shop_id:
        query = query.where(Shipment.shop_id == shop_id)
    return [(shipment, order) for shipment, order in session.execute(query)]


def subscribe_parcels(session: Session, client: ParcelSubscriber, *, since: datetime, shop_id: str | None = None) -> SubscribeReport:
    """Ask the tracking service to watch every parcel that needs it; stops at the first sign the account itself is wrong."""
    report = SubscribeReport(counts={}, problems=[])
    off = client.off_reason
    if off:
        report.stopped = off
        return report
    for shipment, order in parcels_to_subscribe(session, since=since, shop_id=shop_id):
        destination = "".join(p for p in (order.receiver_province, order.receiver_city) if p) or None
        result = client.subscribe(shipment, phone=order.receiver_phone, to=destination)
        report.counts[result.status] = report.counts.get(result.status, 0) + 1
        if result.ok:
            shipment.subscription_status = SubscriptionStatus.POLLING.value
            if shipment.destination_province is None and order.receiver_province:
                shipment.destination_province = order.receiver_province[:40]
            continue
        report.problems.append((shipment.waybill_no, result.status, result.message))
        if result.status in ("bad_key", "off"):
            report.stopped = result.message
            break
    session.flush()
    return report
