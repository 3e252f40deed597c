"""A batch of carrier deliveries landed set-based: a few reads for the whole batch, then one bulk write per table."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from operator import attrgetter
from typing import Any

import orjson
from sqlalchemy import CompoundSelect, Connection, Engine, Select, bindparam, case, func, null, select, union_all, update
from sqlalchemy.orm import Session

from kefu.domain.tracking import ParcelState, PushRejected, TrackingUpdate
from kefu.services import tracking as tr
from kefu.services.parcel_moves import OrderRow, ParcelRow, advance_parcel, follow_order
from kefu.store.bulk import RowWrites, among
from kefu.store.database import Store
from kefu.store.driver_sql import as_utc, driver_rows, json_keys
from kefu.store.tables import Order, Shipment, TrackingEventRow, WebhookDelivery
from kefu.store.types import UTCDateTime

S = ParcelState
SHIPMENTS, ORDERS, EVENTS, DELIVERIES = Shipment.__table__, Order.__table__, TrackingEventRow.__table__, WebhookDelivery.__table__
PARCEL_COLUMNS = ("id", "shop_id", "order_id", "carrier_code", "carrier_name", "waybill_no", "shipped_at", "status",
                  "status_at", "last_event_at", "picked_up_at", "out_for_delivery_at", "signed_at", "destination_province",
                  "tracking_source", "subscription_status")
WRITTEN = ("carrier_code", "carrier_name", "status", "status_at", "last_event_at", "picked_up_at", "out_for_delivery_at",
           "signed_at", "destination_province", "tracking_source", "subscription_status")  # what a push may change
LIFECYCLE_STATES = (S.OUT_FOR_DELIVERY, S.SIGNED)


_written = attrgetter(*WRITTEN)  # a parcel's columns a push may change, to tell the moved parcels from the others


@dataclass
class Batch:
    """The batch's rows read up front, and what it is about to write."""

    conn: Connection
    recorded: dict[str, str]  # statuses of the deliveries and kept parcel updates already stored
    parcels: dict[str, list[ParcelRow]]  # by waybill, ordered by id
    orders: dict[str, OrderRow]
    known_events: set[str]
    event_keys: dict[int, list[str]]  # each update's event dedupe keys, by id(update)
    parcel_key_of: dict[int, str]  # each update's unmatched_key, by id(update)
    parcels_before: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    orders_before: dict[str, tuple[str | None, datetime | None]] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    replays: dict[str, bool] = field(default_factory=dict)  # kept unmatched parcel keys, True when matched now
    lifecycle: dict[str, ParcelRow] = field(default_factory=dict)  # parcels that reached out-for-delivery or signed
    session: Session | None = None

    def orm(self) -> Session:
        """A session in the batch's transaction, made when an update needs the ORM (most batches never do)."""
        if self.session is None:
            self.session = Session(bind=self.conn, autoflush=False)
        return self.session


def land_batch(conn: Connection, source: str, pushes: Sequence[tr.IncomingPush], now: datetime) -> list[tr.PushOutcome]:
    """Take in deliveries like receive_push, one after another, but reading and writing each table once for all of them.

    An unknown waybill (kept for replay) and lifecycle messages go through the ORM, in the same transaction.
    """
    keys = [tr.delivery_key(source, p.body) for p in pushes]
    parsed: dict[int, list[TrackingUpdate] | PushRejected] = {}
    for index, (push, key) in enumerate(zip(pushes, keys)):
        if key not in keys[:index]:
            try:
                parsed[index] = list(push.parse())
            except PushRejected as exc:
                parsed[index] = exc
    updates = [u for result in parsed.values() if isinstance(result, list) for u in result]
    batch = _read(conn, _reads(conn), updates, source, keys)
    outcomes: list[tr.PushOutcome] = []
    deliveries: dict[str, dict[str, Any]] = {}
    for index, (push, key) in enumerate(zip(pushes, keys)):
        result = parsed.get(index)
        if result is None or batch.recorded.get(key) in (tr.PROCESSED, tr.UNMATCHED):
            outcomes.append(tr.PushOutcome("duplicate"))
            continue
        if isinstance(result, PushRejected):
            deliveries[key] = _delivery(key, source, tr.FAILED, str(result), now)
            outcomes.append(tr.PushOutcome("rejected", str(result)))
            continue
        results = tuple(_apply(batch, u, source=source, now=now, shop_id=push.shop_id) for u in result)
        status, detail = tr.delivery_status(results)
        deliveries[key] = _delivery(key, source, status, detail, now)
        outcomes.append(tr.PushOutcome(status, detail, results))
    _write(conn, batch, deliveries)
    if batch.lifecycle:  # lifecycle messages, as apply_tracking_update sends them (services.lifecycle)
        from kefu.services.lifecycle import lifecycle_for_parcels

        lifecycle_for_parcels(batch.orm(), batch.lifecycle.values(), now=now)
    if batch.session is not None:
        batch.session.flush()
        batch.session.close()  # the transaction is the caller's: it commits it
    return outcomes


@dataclass(frozen=True)
class Reads:
    """The batch's reads, built once per dialect (a statement built per batch cost more than running it): on PostgreSQL
    as text run on the driver's cursor with keys as JSON arrays (kefu.store.driver_sql: SQLAlchemy's walk of these
    selects cost more CPU than the lookups), elsewhere as SQLAlchemy selects."""

    known: CompoundSelect[Any] | str  # deliveries and kept updates with their status, events already stored (status NULL)
    parcels: Select[Any] | str


_PARCEL_TIMES = tuple(i for i, name in enumerate(PARCEL_COLUMNS) if isinstance(SHIPMENTS.c[name].type, UTCDateTime))


@lru_cache(maxsize=4)
def _reads_for(dialect: str) -> Reads:
    if dialect == "postgresql":
        columns = ", ".join(f's."{name}"' for name in PARCEL_COLUMNS)
        return Reads(
            known=(f"SELECT id, status FROM {DELIVERIES.name} WHERE id = ANY({json_keys('deliveries')}) "
                   f"UNION ALL SELECT id, NULL FROM {EVENTS.name} WHERE id = ANY({json_keys('events')})"),
            parcels=(f"SELECT {columns}, o.id, o.platform, o.status, o.shipped_at, o.receiver_province "
                     f"FROM {SHIPMENTS.name} AS s LEFT OUTER JOIN {ORDERS.name} AS o ON o.id = s.order_id "
                     f"WHERE s.waybill_no = ANY({json_keys('waybills')}) ORDER BY s.id FOR UPDATE OF s"),
        )
    return Reads(
        known=union_all(select(DELIVERIES.c.id, DELIVERIES.c.status).where(among(DELIVERIES.c.id, "deliveries")),
                        select(EVENTS.c.id, null()).where(among(EVENTS.c.id, "events"))),
        parcels=(select(*(SHIPMENTS.c[name] for name in PARCEL_COLUMNS), ORDERS.c.id.label("o_id"), ORDERS.c.platform,
                        ORDERS.c.status.label("o_status"), ORDERS.c.shipped_at.label("o_shipped_at"), ORDERS.c.receiver_province)
                 .join_from(SHIPMENTS, ORDERS, ORDERS.c.id == SHIPMENTS.c.order_id, isouter=True)
                 .where(among(SHIPMENTS.c.waybill_no, "waybills"))
                 .order_by(SHIPMENTS.c.id).with_for_update(of=SHIPMENTS)),
    )


# A batch only ever looks up a few dozen keys: planned once per connection (a custom plan per batch size cost more
# than the lookups), and as index probes joined by nested loops. A generic plan guesses a hundred keys per array; with
# a small orders table it then hashed the whole table for two parcels (3 ms a batch), and a plan made while a table
# was small would scan it whole and be kept as it grows.
BATCH_SETTINGS = {"plan_cache_mode": "force_generic_plan", "enable_seqscan": "off", "enable_hashjoin": "off",
                  "enable_mergejoin": "off"}
_SET_BATCH_SETTINGS = "SELECT " + ", ".join(f"set_config('{name}', '{value}', true)" for name, value in BATCH_SETTINGS.items())


def batch_engine(store: Store) -> Engine:
    """An engine whose connections are set up for push batches (BATCH_SETTINGS from the start: no statement per batch)."""
    return store.tuned_engine(BATCH_SETTINGS)


def _reads(conn: Connection) -> Reads:
    """The reads for this connection's dialect. On PostgreSQL the batch runs with BATCH_SETTINGS: a connection of
    batch_engine has them already; on any other they are set for this transaction only."""
    if conn.dialect.name == "postgresql" and conn.info.get("settings") != BATCH_SETTINGS:
        conn.exec_driver_sql(_SET_BATCH_SETTINGS)
    return _reads_for(conn.dialect.name)


def _read(conn: Connection, reads: Reads, updates: Sequence[TrackingUpdate], source: str, keys: Sequence[str]) -> Batch:
    """The parcels of the batch's waybills (locked until the commit on PostgreSQL), their orders, the deliveries and
    kept updates already stored, and the events known."""
    waybills = sorted({u.waybill_no.strip() for u in updates} - {""})
    parcels: dict[str, list[ParcelRow]] = {}
    orders: dict[str, OrderRow] = {}
    if waybills:
        for parcel, order in _parcel_rows(conn, reads, waybills):
            parcels.setdefault(parcel.waybill_no, []).append(parcel)
            if order is not None and order.id not in orders:
                orders[order.id] = order
    event_keys = {id(u): [e.dedupe_key for e in u.events] for u in updates}
    parcel_key_of = {id(u): tr.unmatched_key(source, u.carrier_code, u.waybill_no) for u in updates}
    parcel_keys = set(parcel_key_of.values())
    deliveries, events = sorted(set(keys) | parcel_keys), sorted({k for ks in event_keys.values() for k in ks})
    if isinstance(reads.known, str):
        known = dict(driver_rows(conn, reads.known, {"deliveries": _json(deliveries), "events": _json(events)}))
    else:
        known = dict(conn.execute(reads.known, {"deliveries": deliveries, "events": events}).all())
    recorded = {key: status for key, status in known.items() if status is not None}
    batch = Batch(conn, recorded, parcels, orders, {key for key, status in known.items() if status is None}, event_keys,
                  parcel_key_of,
                  {p.id: _written(p) for rows in parcels.values() for p in rows},
                  {o.id: (o.status, o.shipped_at) for o in orders.values()})
    batch.replays = {k: False for k in parcel_keys if recorded.get(k) == tr.UNMATCHED}
    return batch


def _json(keys: list[str]) -> str:
    """Keys as the JSON array text driver_sql.json_keys binds (orjson: a tenth of json.dumps's time)."""
    return orjson.dumps(keys).decode()


def _parcel_rows(conn: Connection, reads: Reads, waybills: list[str]) -> Iterator[tuple[ParcelRow, OrderRow | None]]:
    """Each parcel with one of these waybills (by id), with its order when it has one."""
    width = len(PARCEL_COLUMNS)
    if not isinstance(reads.parcels, str):
        for row in conn.execute(reads.parcels, {"waybills": waybills}):
            order = OrderRow(row.o_id, row.platform, row.o_status, row.o_shipped_at, row.receiver_province) if row.o_id else None
            yield ParcelRow(*row[:width]), order
        return
    for row in driver_rows(conn, reads.parcels, {"waybills": _json(waybills)}):
        values = list(row[:width])
        for index in _PARCEL_TIMES:
            values[index] = as_utc(values[index])
        o_id, platform, status, shipped_at, province = row[width:]
        yield ParcelRow(*values), (OrderRow(o_id, platform, status, as_utc(shipped_at), province) if o_id else None)


def _apply(batch: Batch, update: TrackingUpdate, *, source: str, now: datetime,
           shop_id: str | None) -> tr.TrackingResult:
    """One update, as apply_tracking_update lands it, on the batch's rows; an unknown waybill is kept through the ORM."""
    candidates = batch.parcels.get(update.waybill_no.strip(), [])
    targets = tr.pick_parcels([p for p in candidates if not shop_id or p.shop_id == shop_id], update)
    parcel_key = batch.parcel_key_of[id(update)]
    if not targets:
        batch.replays.pop(parcel_key, None)  # kept again, after any earlier match in this batch
        return tr.apply_tracking_update(batch.orm(), update, source=source, now=now, shop_id=shop_id)
    if parcel_key in batch.replays:
        batch.replays[parcel_key] = True
    owner, fresh = targets[0], 0
    for event, key in zip(update.events, batch.event_keys[id(update)]):
        if key not in batch.known_events:
            batch.known_events.add(key)
            batch.events.append(tr.event_row(event, key, owner, source, now))
            fresh += 1
    moves = []
    for parcel in targets:
        previous, state, corrected = advance_parcel(parcel, update, source=source, now=now)
        order = batch.orders.get(parcel.order_id)
        if order is not None:
            follow_order(parcel, order, state)
        moves.append((previous, state, corrected))
    previous, state, corrected = moves[0]
    if state is not previous and state in LIFECYCLE_STATES:
        batch.lifecycle.update((p.id, p) for p in targets)
    return tr.TrackingResult(update.carrier_code, update.waybill_no, tuple(p.id for p in targets), state, previous,
                             fresh, corrected)


def _delivery(key: str, source: str, status: str, error: str | None, now: datetime) -> dict[str, Any]:
    return {"id": key, "source": source[:20], "topic": tr.PUSH_TOPIC, "received_at": now, "status": status,
            "error": tr.delivery_error(error)}


def _write(conn: Connection, batch: Batch, deliveries: dict[str, dict[str, Any]]) -> None:
    """New events, moved parcels and the deliveries in one statement; shipped orders and replayed kept updates (rare)."""
    writes = RowWrites().insert(EVENTS, batch.events, skip_existing=True)  # another worker's copy is the same event
    writes.update(SHIPMENTS, [{"id": p.id, **{name: getattr(p, name) for name in WRITTEN}}
                              for rows in batch.parcels.values() for p in rows if _written(p) != batch.parcels_before[p.id]])
    writes.insert(DELIVERIES, [row for key, row in deliveries.items() if key not in batch.recorded])
    writes.update(DELIVERIES, [{n: row[n] for n in ("id", "topic", "status", "error")}  # failed before, came again
                               for key, row in deliveries.items() if key in batch.recorded])
    writes.run(conn)
    shipped = [(o, batch.orders_before[o.id]) for o in batch.orders.values() if (o.status, o.shipped_at) != batch.orders_before[o.id]]
    if shipped:  # conditional, so that a status another writer set meanwhile stands
        conn.execute(update(ORDERS).where(ORDERS.c.id == bindparam("b_id")).values(
            shipped_at=func.coalesce(ORDERS.c.shipped_at, bindparam("b_shipped_at", type_=ORDERS.c.shipped_at.type)),
            status=case((ORDERS.c.status == bindparam("b_from", type_=ORDERS.c.status.type), bindparam("b_to", type_=ORDERS.c.status.type)),
                        else_=ORDERS.c.status),
        ), [{"b_id": o.id, "b_shipped_at": o.shipped_at, "b_from": before[0] if o.status != before[0] else None,
             "b_to": o.status} for o, before in shipped])
    replayed = sorted(k for k, matched in batch.replays.items() if matched)
    if replayed:
        conn.execute(update(DELIVERIES).where(DELIVERIES.c.id.in_(replayed), DELIVERIES.c.status == tr.UNMATCHED)
                     .values(status=tr.REPLAYED, error=None))
