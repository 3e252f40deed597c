"""Carrier pushes into the store: new track events only, parcel states that never move back, unmatched pushes kept."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from kefu.domain import order_status
from kefu.domain.carriers import carrier_for
from kefu.domain.privacy import redact_phones
from kefu.domain.tracking import (
    ParcelState,
    PushRejected,
    SubscriptionStatus,
    TrackingEvent,
    TrackingUpdate,
    advance,
    merge_events,
)
from kefu.ingest import shopify_tracking
from kefu.store.database import Store
from kefu.store.tables import Order, Shipment, TrackingEventRow, WebhookDelivery

log = logging.getLogger(__name__)

S = ParcelState
PROCESSED = "processed"
UNMATCHED = "unmatched"
REPLAYED = "replayed"
FAILED = "failed"
PARCEL_TOPIC = "parcel"  # webhook_deliveries.topic of a kept unmatched update (one row per carrier and waybill)
PUSH_TOPIC = "push"  # webhook_deliveries.topic of a whole delivery
SHOPIFY = "shopify"

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


# ---- finding the parcel ----


def find_shipments(session: Session, update: TrackingUpdate, *, shop_id: str | None = None,
                   lookups: "PushLookups | None" = None) -> list[Shipment]:
    """The parcels an update is about: by carrier and waybill, else by the waybill alone; within `shop_id` when given.

    A waybill may carry several orders (合并发货), so more than one parcel row can match.
    """
    waybill = update.waybill_no.strip()
    if not waybill:
        return []
    if lookups is not None:
        candidates = [s for s in lookups.shipments.get(waybill, ()) if not shop_id or s.shop_id == shop_id]
    else:
        query = select(Shipment).where(Shipment.waybill_no == waybill)
        if shop_id:
            query = query.where(Shipment.shop_id == shop_id)
        candidates = list(session.scalars(query.order_by(Shipment.id)))
    codes = {c.lower() for c in (update.carrier_code, update.old_carrier_code, update.new_carrier_code) if c}
    exact = [s for s in candidates if s.carrier_code and s.carrier_code.lower() in codes]
    return exact or candidates


# ---- applying one update ----


def _min(*moments: datetime | None) -> datetime | None:
    present = [m for m in moments if m is not None]
    return min(present) if present else None


def _max(*moments: datetime | None) -> datetime | None:
    present = [m for m in moments if m is not None]
    return max(present) if present else None


def _store_events(session: Session, owner: Shipment, events: Sequence[TrackingEvent], source: str, now: datetime,
                  known: set[str] | None = None) -> list[TrackingEvent]:
    """Add the events not stored yet (by dedupe key) under `owner`; returns them newest first.

    `known`, when given, is the set of stored keys read beforehand for a whole batch; the new keys are added to it.
    """
    if not events:
        return []
    if known is None:
        keys = [e.dedupe_key for e in events]
        known = set(session.scalars(select(TrackingEventRow.id).where(TrackingEventRow.id.in_(keys))))
    fresh = merge_events(known, events)
    known.update(e.dedupe_key for e in fresh)
    for event in fresh:
        session.add(
            TrackingEventRow(
                id=event.dedupe_key,
                shop_id=owner.shop_id,
                shipment_id=owner.id,
                carrier_code=event.carrier_code[:40] or None,
                waybill_no=event.waybill_no[:64],
                at=event.at,
                state=event.state.value,
                raw_state=event.raw_state[:20] or None,
                description=redact_phones(event.description),
                location=(event.location or "")[:120] or None,
                area_code=(event.area_code or "")[:20] or None,
                source=source[:20],
                received_at=now,
            )
        )
    return fresh


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


def _apply_to_shipment(session: Session, shipment: Shipment, update: TrackingUpdate, *, source: str, now: datetime) -> tuple[ParcelState, ParcelState, str | None]:
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

    order = session.get(Order, shipment.order_id)
    if order is not None:
        if shipment.destination_province is None and order.receiver_province:
            shipment.destination_province = order.receiver_province[:40]
        _move_order_forward(order, shipment, new)
    return current, new, corrected


def _move_order_forward(order: Order, shipment: Shipment, state: ParcelState) -> None:
    """A parcel the carrier has taken means the order was shipped; signing never invents TRADE_FINISHED."""
    if state.rank < S.COLLECTED.rank:
        return
    if order.shipped_at is None:
        order.shipped_at = shipment.shipped_at or shipment.picked_up_at
    # A Shopify order's status is derived from its own fulfilment state, which the Shopify service keeps.
    if order.platform != SHOPIFY and order.status == order_status.WAIT_SELLER_SEND_GOODS:
        order.status = order_status.WAIT_BUYER_CONFIRM_GOODS


def apply_tracking_update(
    session: Session,
    update: TrackingUpdate,
    *,
    source: str,
    now: datetime,
    shop_id: str | None = None,
    record_unmatched: bool = True,
    lookups: "PushLookups | None" = None,
) -> TrackingResult:
    """Land one carrier update: store its new events, move the parcel forward, keep it as unmatched when no parcel has its waybill.

    With `lookups` (a batch's rows read beforehand, see receive_pushes) nothing is read per update and the caller flushes.
    """
    shipments = find_shipments(session, update, shop_id=shop_id, lookups=lookups)
    if not shipments:
        log.info("tracking update from %s for unknown waybill %s (%s) kept as unmatched%s", source, update.waybill_no,
                 update.carrier_code, f" in shop {shop_id}" if shop_id else "")
        if record_unmatched:
            keep_unmatched(session, update, source=source, shop_id=shop_id, now=now)
        return TrackingResult(update.carrier_code, update.waybill_no, (), None, None, 0)
    fresh = _store_events(session, shipments[0], update.events, source, now, known=lookups.event_ids if lookups else None)
    outcomes = [_apply_to_shipment(session, s, update, source=source, now=now) for s in shipments]
    previous, state, corrected = outcomes[0]
    _mark_replayed(session, source, update, lookups)
    if state is not previous and state in (S.OUT_FOR_DELIVERY, S.SIGNED):  # lifecycle messages (services.lifecycle)
        from kefu.services.lifecycle import lifecycle_for_parcels

        lifecycle_for_parcels(session, shipments, now=now)
    if lookups is None:
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


def _mark_replayed(session: Session, source: str, update: TrackingUpdate, lookups: "PushLookups | None" = None) -> None:
    key = unmatched_key(source, update.carrier_code, update.waybill_no)
    row = lookups.unmatched.get(key) if lookups is not None else session.get(WebhookDelivery, key)
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


def _record_delivery(session: Session, key: str, source: str, status: str, error: str | None, now: datetime,
                     row: WebhookDelivery | None = None, looked_up: bool = False) -> None:
    """Write a delivery's status; `looked_up` says `row` is already what the store has (None: no row yet)."""
    if not looked_up:
        row = session.get(WebhookDelivery, key)
    if row is None:
        row = WebhookDelivery(id=key, source=source[:20], received_at=now, status=status)
        session.add(row)
    row.topic = PUSH_TOPIC
    row.status = status
    row.error = redact_phones(error)[:2000] if error else None


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
                unmatched = [r for r in results if not r.matched]
                status = UNMATCHED if results and len(unmatched) == len(results) else PROCESSED
                detail = "; ".join(f"no parcel for {r.carrier_code} {r.waybill_no}" for r in unmatched) or None
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


@dataclass
class PushLookups:
    """A batch's rows read up front in a few IN queries, so that applying each update reads nothing more."""

    shipments: dict[str, list[Shipment]]  # by waybill, ordered by id (every shop: find_shipments scopes them)
    event_ids: set[str]  # dedupe keys already stored (grows as the batch adds events)
    unmatched: dict[str, WebhookDelivery]  # kept unmatched updates by unmatched_key
    orders: dict[str, Order] = field(default_factory=dict)  # the parcels' orders, by id

    @classmethod
    def load(cls, session: Session, source: str, updates: Sequence[TrackingUpdate]) -> "PushLookups":
        waybills = sorted({u.waybill_no.strip() for u in updates if u.waybill_no.strip()})
        shipments: dict[str, list[Shipment]] = {}
        if waybills:
            for shipment in session.scalars(select(Shipment).where(Shipment.waybill_no.in_(waybills)).order_by(Shipment.id)):
                shipments.setdefault(shipment.waybill_no, []).append(shipment)
        order_ids = sorted({s.order_id for rows in shipments.values() for s in rows})
        # Held here so they stay in the session's (weak) identity map, where session.get finds them without a query.
        orders = {o.id: o for o in session.scalars(select(Order).where(Order.id.in_(order_ids)))} if order_ids else {}
        keys = sorted({e.dedupe_key for u in updates for e in u.events})
        event_ids = set(session.scalars(select(TrackingEventRow.id).where(TrackingEventRow.id.in_(keys)))) if keys else set()
        parcel_keys = sorted({unmatched_key(source, u.carrier_code, u.waybill_no) for u in updates})
        unmatched = {row.id: row for row in session.scalars(select(WebhookDelivery).where(WebhookDelivery.id.in_(parcel_keys)))} \
            if parcel_keys else {}
        return cls(shipments, event_ids, unmatched, orders)


@dataclass(frozen=True)
class IncomingPush:
    """One authenticated carrier delivery waiting to be taken in: its raw body, how to parse it, the shop it is scoped to."""

    body: bytes
    parse: Callable[[], Sequence[TrackingUpdate]]
    shop_id: str | None = None


def receive_pushes(store: Store, *, source: str, pushes: Sequence[IncomingPush], now: datetime) -> list[PushOutcome]:
    """Take in several deliveries in one transaction, each with receive_push's outcome; reads in a few IN queries.

    If the batch collides with a concurrent writer (the same delivery or event landing twice, a deadlock), it is rolled
    back and every delivery is taken in on its own through receive_push, which knows how to retry.
    """
    if not pushes:
        return []
    try:
        with store.session() as session, session.no_autoflush:
            outcomes = _receive_batch(session, source, pushes, now)
        return outcomes
    except (IntegrityError, OperationalError) as exc:
        log.info("a batch of %d %s pushes collided (%s): taking them in one by one", len(pushes), source, type(exc).__name__)
        return [receive_push(store, source=source, body=p.body, parse=p.parse, now=now, shop_id=p.shop_id) for p in pushes]


def _receive_batch(session: Session, source: str, pushes: Sequence[IncomingPush], now: datetime) -> list[PushOutcome]:
    keys = [delivery_key(source, p.body) for p in pushes]
    recorded = {row.id: row for row in session.scalars(select(WebhookDelivery).where(WebhookDelivery.id.in_(sorted(set(keys)))))}
    outcomes: list[PushOutcome | None] = [None] * len(pushes)
    parsed: list[tuple[int, list[TrackingUpdate]]] = []
    taken: set[str] = set()
    for index, (push, key) in enumerate(zip(pushes, keys)):
        seen = recorded.get(key)
        if key in taken or (seen is not None and seen.status in (PROCESSED, UNMATCHED)):
            outcomes[index] = PushOutcome("duplicate")
            continue
        taken.add(key)
        try:
            parsed.append((index, list(push.parse())))
        except PushRejected as exc:
            _record_delivery(session, key, source, FAILED, str(exc), now, row=seen, looked_up=True)
            outcomes[index] = PushOutcome("rejected", str(exc))
    lookups = PushLookups.load(session, source, [u for _, updates in parsed for u in updates])
    for index, updates in parsed:
        push = pushes[index]
        results = tuple(apply_tracking_update(session, u, source=source, now=now, shop_id=push.shop_id, lookups=lookups)
                        for u in updates)
        unmatched = [r for r in results if not r.matched]
        status = UNMATCHED if results and len(unmatched) == len(results) else PROCESSED
        detail = "; ".join(f"no parcel for {r.carrier_code} {r.waybill_no}" for r in unmatched) or None
        _record_delivery(session, keys[index], source, status, detail, now, row=recorded.get(keys[index]), looked_up=True)
        outcomes[index] = PushOutcome(status, detail, results)
    session.flush()
    return [o if o is not None else PushOutcome("duplicate") for o in outcomes]


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
