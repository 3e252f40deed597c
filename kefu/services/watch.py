"""The parcel watch: a sweep that raises and clears alerts for one shop, and the alert queue people work from.

`sweep` picks candidates set-based (shop, status and time ranges on `ix_shipments_watch`, so a shop with a million
active parcels only reads the few that crossed a threshold), applies the pure rules of `kefu.domain.rules.watch`,
inserts new alerts (one live alert per dedupe key) and resolves, as "sweep", live alerts whose condition is gone.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    Connection,
    Table,
    and_,
    case,
    func,
    insert,
    literal,
    or_,
    select,
    type_coerce,
    update,
)
from sqlalchemy.orm import Session
from sqlalchemy.types import NullType

from kefu.config import shop_rules
from kefu.domain.carriers import carrier_code as carrier_code_of
from kefu.domain.rules import watch as rules
from kefu.domain.rules.watch import (
    AlertDraft,
    OrderFacts,
    ShipmentFacts,
    WatchPolicy,
    province_key,
)
from kefu.ids import stable_id
from kefu.store.database import Store
from kefu.store.tables import Alert, Customer, Order, Shipment, Shop

log = logging.getLogger(__name__)

SWEEPER = "sweep"
OPEN, ACKNOWLEDGED, RESOLVED = "open", "acknowledged", "resolved"
LIVE = (OPEN, ACKNOWLEDGED)
STATUS_FILTERS = ("live", OPEN, ACKNOWLEDGED, RESOLVED, "all")
CHUNK = 500  # ids per IN (...) list
MAX_PER_PAGE = 200

_S = rules.ParcelState
_STALL = sorted(s.value for s in rules.STALL_STATES)
_BEFORE_PICKUP = sorted(s.value for s in rules.BEFORE_PICKUP_STATES)
_STATE_ALERTS = sorted(s.value for s in rules.STATE_ALERTS)
_UNSHIPPED = sorted(rules.UNSHIPPED_STATUSES)


class AlertNotFound(LookupError):
    """No alert with that id."""


@dataclass
class SweepResult:
    """What one sweep of one shop did."""

    shop_id: str
    examined: int = 0  # parcels and orders the rules looked at
    raised: int = 0
    resolved: int = 0
    live: int = 0  # live alerts of the watch after the sweep
    raised_by_kind: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"shop_id": self.shop_id, "examined": self.examined, "raised": self.raised, "resolved": self.resolved,
                "live": self.live, "raised_by_kind": dict(sorted(self.raised_by_kind.items()))}


def connection_of(session_or_conn: Session | Connection) -> Connection:
    """The connection to run Core statements on, inside the caller's transaction."""
    return session_or_conn.connection() if isinstance(session_or_conn, Session) else session_or_conn


def _chunks(items: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# ---------------------------------------------------------------- facts from the store

def _raw(column):
    """A time column read as the driver gives it (text on SQLite, a naive datetime on PostgreSQL): `_utc` turns it
    into an aware time several times faster than the column type's own processing, which counts at 10^4+ rows."""
    return type_coerce(column, NullType()).label(column.key)


def _utc(value: datetime | str | None) -> datetime | None:
    if value is None:
        return None
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


_PARCEL_COLUMNS = (
    Shipment.id, Shipment.order_id, Shipment.waybill_no, Shipment.carrier_code, Shipment.carrier_name, Shipment.status,
    _raw(Shipment.shipped_at), _raw(Shipment.status_at), _raw(Shipment.last_event_at), _raw(Shipment.picked_up_at),
    _raw(Shipment.signed_at), Shipment.tracking_source, Shipment.subscription_status,
)
# The order's province only when the carrier gave none (COALESCE stops at the first value, so the lookup is rare).
_DESTINATION = func.coalesce(
    Shipment.destination_province,
    select(Order.receiver_province).where(Order.id == Shipment.order_id).scalar_subquery(),
).label("province")


def _candidate_select(*conditions):
    """Parcels without their order joined: the buyer is looked up only for alerts that are new (see raise_alerts)."""
    return select(*_PARCEL_COLUMNS, _DESTINATION, literal(None).label("customer_id")).where(*conditions)


def _shipment_select(*conditions):
    """Parcels with their order's buyer and province."""
    province = func.coalesce(Shipment.destination_province, Order.receiver_province).label("province")
    return (select(*_PARCEL_COLUMNS, province, Order.customer_id)
            .outerjoin(Order, Order.id == Shipment.order_id).where(*conditions))


def _shipment_facts(row) -> ShipmentFacts:
    (shipment_id, order_id, waybill_no, carrier_code, carrier_name, status, shipped_at, status_at, last_event_at,
     picked_up_at, signed_at, tracking_source, subscription_status, province, customer_id) = row
    return ShipmentFacts(
        shipment_id=shipment_id, order_id=order_id, waybill_no=waybill_no, carrier_code=carrier_code or carrier_name,
        province=province, customer_id=customer_id, status=status, shipped_at=_utc(shipped_at),
        status_at=_utc(status_at), last_event_at=_utc(last_event_at), picked_up_at=_utc(picked_up_at),
        signed_at=_utc(signed_at),
        tracked=status is not None or tracking_source is not None or subscription_status is not None,
    )


def shipment_candidates(conn: Connection, shop_id: str, shop: dict[str, Any], now: datetime) -> dict[str, ShipmentFacts]:
    """Parcels that may call for an alert now: each query is a status list and a time range on ix_shipments_watch
    (shop_id, status, last_event_at), so only parcels past the shortest configured threshold are read."""
    since = now - timedelta(hours=rules.earliest_hours(shop, "lookback_hours"))
    stall_cut = now - timedelta(hours=rules.earliest_hours(shop, "stall_hours"))
    pickup_cut = now - timedelta(hours=rules.earliest_hours(shop, "pickup_hours"))
    signed_from = now - timedelta(hours=rules.largest_hours(shop, "signed_hours"))
    mine = Shipment.shop_id == shop_id
    watched = or_(Shipment.tracking_source.is_not(None), Shipment.subscription_status.is_not(None))
    untracked = Shipment.status.is_(None) if rules.watch_policy(shop).judge_untracked else and_(
        Shipment.status.is_(None), watched)
    queries = [
        # in transit, silent for longer than the shortest stall limit
        _candidate_select(mine, Shipment.status.in_(_STALL), Shipment.last_event_at >= since,
                          Shipment.last_event_at <= stall_cut),
        _candidate_select(mine, Shipment.status.in_(_STALL), Shipment.last_event_at.is_(None),
                          func.coalesce(Shipment.status_at, Shipment.picked_up_at) <= stall_cut),
        # marked shipped, never picked up: tracked parcels, then (rare) subscribed ones without any push yet
        _candidate_select(mine, Shipment.status.in_(_BEFORE_PICKUP), Shipment.picked_up_at.is_(None),
                          Shipment.shipped_at >= since, Shipment.shipped_at <= pickup_cut),
        _candidate_select(mine, untracked, Shipment.picked_up_at.is_(None), Shipment.shipped_at >= since,
                          Shipment.shipped_at <= pickup_cut),
        # problem, rejected, on the way back or back
        _candidate_select(mine, Shipment.status.in_(_STATE_ALERTS),
                          or_(Shipment.last_event_at >= since,
                              and_(Shipment.last_event_at.is_(None),
                                   or_(Shipment.status_at.is_(None), Shipment.status_at >= since)))),
        # signed recently
        _candidate_select(mine, Shipment.status == _S.SIGNED.value,
                          or_(Shipment.last_event_at >= signed_from,
                              and_(Shipment.last_event_at.is_(None),
                                   func.coalesce(Shipment.signed_at, Shipment.status_at) >= signed_from))),
    ]
    found: dict[str, ShipmentFacts] = {}
    for query in queries:
        for row in conn.execute(query):
            if row[0] not in found:
                found[row[0]] = _shipment_facts(row)
    return found


def shipments_by_id(conn: Connection, ids: Iterable[str]) -> dict[str, ShipmentFacts]:
    """Facts of the named parcels."""
    found: dict[str, ShipmentFacts] = {}
    for chunk in _chunks(sorted(set(ids))):
        for row in conn.execute(_shipment_select(Shipment.id.in_(chunk))):
            found[row[0]] = _shipment_facts(row)
    return found


def _order_select(*conditions):
    return select(Order.id, Order.status, Order.paid_at, Order.customer_id).where(*conditions)


def _order_facts(row) -> OrderFacts:
    return OrderFacts(order_id=row.id, status=row.status, paid_at=row.paid_at, customer_id=row.customer_id)


def order_candidates(conn: Connection, shop_id: str, shop: dict[str, Any], now: datetime) -> dict[str, OrderFacts]:
    """Paid, unshipped orders whose shipping promise is about to break or broken."""
    base = rules.watch_policy(shop)
    since = now - timedelta(hours=base.lookback_hours)
    cut = now - timedelta(hours=max(0.0, base.ship_promise_hours - base.promise_warning_hours))
    query = _order_select(Order.shop_id == shop_id, Order.status.in_(_UNSHIPPED), Order.paid_at >= since,
                          Order.paid_at <= cut)
    return {row.id: _order_facts(row) for row in conn.execute(query)}


def orders_by_id(conn: Connection, ids: Iterable[str]) -> dict[str, OrderFacts]:
    found: dict[str, OrderFacts] = {}
    for chunk in _chunks(sorted(set(ids))):
        for row in conn.execute(_order_select(Order.id.in_(chunk))):
            found[row.id] = _order_facts(row)
    return found


# ---------------------------------------------------------------- rules applied


class _Policies:
    """watch_policy per (carrier, province), resolved once per sweep."""

    def __init__(self, shop: dict[str, Any]):
        self.shop = shop
        self._cache: dict[tuple[str | None, str | None], WatchPolicy] = {}

    def __call__(self, carrier: str | None, province: str | None) -> WatchPolicy:
        key = (carrier, province)
        policy = self._cache.get(key)
        if policy is None:
            policy = self._cache[key] = rules.watch_policy(self.shop, carrier, province)
        return policy


def drafts_for(conn: Connection, shop_id: str, shop: dict[str, Any], now: datetime, *,
               parcels: dict[str, ShipmentFacts], orders: dict[str, OrderFacts],
               conflict_ids: Iterable[str] | None = None) -> dict[str, AlertDraft]:
    """Every alert the rules call for on these parcels and orders (and courier conflicts), by dedupe key."""
    from kefu.services.requirements import courier_conflict_drafts

    policies = _Policies(shop)
    drafts: dict[str, AlertDraft] = {}
    for facts in parcels.values():
        for draft in rules.parcel_alerts(facts, policies(facts.carrier_code, facts.province), now):
            drafts[draft.dedupe_key] = draft
    base = policies(None, None)
    for facts in orders.values():
        for draft in rules.order_alerts(facts, base, now):
            drafts[draft.dedupe_key] = draft
    for draft in courier_conflict_drafts(conn, shop_id, shop, now, shipment_ids=conflict_ids):
        drafts[draft.dedupe_key] = draft
    return drafts


def _kind_of_subject(alert_kind: str) -> str:
    return "order" if alert_kind in rules.ORDER_KINDS else "shipment"


def raise_alerts(conn: Connection, shop_id: str, drafts: Iterable[AlertDraft], now: datetime) -> list[AlertDraft]:
    """Insert the drafts whose dedupe key is not taken yet (by a live or a resolved alert); returns those inserted."""
    pending = {d.dedupe_key: d for d in drafts}
    if not pending:
        return []
    taken: set[str] = set()
    for chunk in _chunks(sorted(pending)):
        taken.update(conn.scalars(select(Alert.dedupe_key).where(Alert.dedupe_key.in_(chunk))))
    fresh = [pending[key] for key in sorted(pending) if key not in taken]  # key order: index inserts stay local
    buyers = _buyers_of(conn, {d.order_id for d in fresh if d.order_id and d.customer_id is None})
    sqlite = conn.dialect.name == "sqlite"
    moment = _db_time(now, sqlite)
    rows = [
        (stable_id("alert", d.dedupe_key), shop_id, d.kind, d.severity, OPEN, d.dedupe_key, d.order_id, d.shipment_id,
         d.customer_id or buyers.get(d.order_id), moment, _db_time(d.due_at, sqlite), d.rule,
         json.dumps(dict(d.detail), ensure_ascii=False))
        for d in fresh
    ]
    marks = ", ".join(["?" if sqlite else "%s"] * len(_ALERT_COLUMNS))
    # Raw executemany: at 10^4 alerts per sweep SQLAlchemy's per-row parameter handling costs more than the insert.
    # ON CONFLICT (dedupe_key) DO NOTHING: a sweep running at the same time cannot make a second live alert.
    sql = f"INSERT INTO alerts ({', '.join(_ALERT_COLUMNS)}) VALUES ({marks}) ON CONFLICT (dedupe_key) DO NOTHING"
    for chunk in _chunks(rows, 5000):
        conn.exec_driver_sql(sql, list(chunk))
    return fresh


_ALERT_COLUMNS = ("id", "shop_id", "kind", "severity", "status", "dedupe_key", "order_id", "shipment_id", "customer_id",
                  "raised_at", "due_at", "rule", "detail")


def _db_time(moment: datetime | None, sqlite: bool) -> datetime | str | None:
    """A time as the raw driver stores it: naive UTC, as SQLAlchemy's text form on SQLite."""
    if moment is None:
        return None
    naive = moment.astimezone(UTC).replace(tzinfo=None)
    return naive.isoformat(" ", "microseconds") if sqlite else naive


def _buyers_of(conn: Connection, order_ids: set[str]) -> dict[str, str]:
    """The customer of each order that has one."""
    found: dict[str, str] = {}
    for chunk in _chunks(sorted(order_ids)):
        found.update(conn.execute(select(Order.id, Order.customer_id).where(Order.id.in_(chunk),
                                                                             Order.customer_id.is_not(None))).all())
    return found


def insert_ignoring(conn: Connection, table: Table, key: str):
    """INSERT … ON CONFLICT (key) DO NOTHING: a sweep or import running at the same time cannot add a second row."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    elif conn.dialect.name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    else:  # pragma: no cover - kefu runs on SQLite and PostgreSQL
        return insert(table)
    return dialect_insert(table).on_conflict_do_nothing(index_elements=[key])


def _live_watch_alerts(conn: Connection, shop_id: str) -> list[Any]:
    return list(conn.execute(
        select(Alert.id, Alert.kind, Alert.dedupe_key, Alert.shipment_id, Alert.order_id)
        .where(Alert.shop_id == shop_id, Alert.status.in_(LIVE), Alert.kind.in_(rules.KINDS))
    ))


def resolve_alerts(conn: Connection, alert_ids: Sequence[str], now: datetime, by: str = SWEEPER) -> int:
    """Resolve the named alerts that are still live."""
    done = 0
    for chunk in _chunks(list(alert_ids)):
        result = conn.execute(
            update(Alert).where(Alert.id.in_(chunk), Alert.status.in_(LIVE))
            .values(status=RESOLVED, resolved_at=now, resolved_by=by)
        )
        done += max(result.rowcount or 0, 0)
    return done


def sweep(session_or_conn: Session | Connection, shop_id: str, *, now: datetime) -> SweepResult:
    """Raise the alerts one shop's parcels and orders call for now, and resolve those whose condition has cleared."""
    conn = connection_of(session_or_conn)
    settings = conn.scalar(select(Shop.settings).where(Shop.id == shop_id))
    shop = shop_rules(settings)
    parcels = shipment_candidates(conn, shop_id, shop, now)
    orders = order_candidates(conn, shop_id, shop, now)
    drafts = drafts_for(conn, shop_id, shop, now, parcels=parcels, orders=orders)
    result = SweepResult(shop_id=shop_id, examined=len(parcels) + len(orders))

    live = _live_watch_alerts(conn, shop_id)
    # Live alerts the candidates did not produce again: look at their own subjects before clearing them, since a
    # subject can fall outside the candidate ranges (older than the look-back) and still hold its condition.
    unseen = [a for a in live if a.dedupe_key not in drafts]
    if unseen:
        shipment_ids = {a.shipment_id for a in unseen if a.shipment_id and _kind_of_subject(a.kind) == "shipment"}
        order_ids = {a.order_id for a in unseen if a.order_id and _kind_of_subject(a.kind) == "order"}
        again = drafts_for(conn, shop_id, shop, now, parcels=shipments_by_id(conn, shipment_ids),
                           orders=orders_by_id(conn, order_ids), conflict_ids=shipment_ids)
        cleared = [a.id for a in unseen if a.dedupe_key not in again]
        result.resolved = resolve_alerts(conn, cleared, now)
        result.examined += len(shipment_ids) + len(order_ids)

    live_keys = {a.dedupe_key for a in live}
    inserted = raise_alerts(conn, shop_id, [d for key, d in drafts.items() if key not in live_keys], now)
    result.raised = len(inserted)
    for draft in inserted:
        result.raised_by_kind[draft.kind] = result.raised_by_kind.get(draft.kind, 0) + 1
    result.live = len(live) - result.resolved + result.raised
    return result


def sweep_shops(store: Store, *, now: datetime | None = None, shop_ids: Sequence[str] | None = None,
                on_error: Callable[[str, Exception], None] | None = None) -> list[SweepResult]:
    """Sweep each shop (all of them by default) in its own transaction; `on_error` lets the others go on."""
    with store.session() as session:
        ids = list(shop_ids) if shop_ids is not None else list(session.scalars(select(Shop.id).order_by(Shop.name)))
    results: list[SweepResult] = []
    for shop_id in ids:
        moment = now or datetime.now(UTC)
        try:
            with store.session() as session:
                results.append(sweep(session, shop_id, now=moment))
        except Exception as exc:
            if on_error is None:
                raise
            on_error(shop_id, exc)
    return results


# ---------------------------------------------------------------- the queue


@dataclass(frozen=True)
class AlertRow:
    """An alert as the queue shows it, with its order, buyer and parcel."""

    alert: Alert
    order_no: str | None
    order_name: str | None
    buyer_nick: str | None
    carrier_name: str | None
    carrier_code: str | None
    waybill_no: str | None
    province: str | None

    @property
    def order_label(self) -> str | None:
        return self.order_name or self.order_no


@dataclass(frozen=True)
class AlertPage:
    """One page of the queue and how many alerts match in all."""

    items: list[AlertRow]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))


_SEVERITY_ORDER = case({rules.CRITICAL: 0, rules.WARNING: 1, rules.INFO: 2}, value=Alert.severity, else_=3)
_PROVINCE = func.coalesce(Shipment.destination_province, Order.receiver_province)


def _queue_conditions(shop_id: str | None, kind: str | None, status: str | None, carrier: str | None,
                      province: str | None) -> list[Any]:
    conditions: list[Any] = []
    if shop_id:
        conditions.append(Alert.shop_id == shop_id)
    if kind:
        conditions.append(Alert.kind == kind)
    status = status or "live"
    if status == "live":
        conditions.append(Alert.status.in_(LIVE))
    elif status in (OPEN, ACKNOWLEDGED, RESOLVED):
        conditions.append(Alert.status == status)
    if carrier:
        code = carrier_code_of(carrier) or carrier.strip().lower()
        conditions.append(or_(Shipment.carrier_code == code, Shipment.carrier_name == carrier.strip()))
    if province:
        key = province_key(province) or province
        conditions.append(_PROVINCE.like(key.replace("%", "").replace("_", "") + "%"))
    return conditions


def list_alerts(session: Session, *, shop_id: str | None = None, kind: str | None = None, status: str | None = "live",
                carrier: str | None = None, province: str | None = None, customer_id: str | None = None,
                order_id: str | None = None, page: int = 1, per_page: int = 50) -> AlertPage:
    """The queue: live alerts by default, most severe and soonest due first, filtered by kind, carrier, province."""
    page = max(1, int(page))
    per_page = max(1, min(int(per_page), MAX_PER_PAGE))
    conditions = _queue_conditions(shop_id, kind, status, carrier, province)
    if customer_id:
        conditions.append(Alert.customer_id == customer_id)
    if order_id:
        conditions.append(Alert.order_id == order_id)
    joined = (
        select(Alert, Order.order_no, Order.order_name, Customer.buyer_nick, Shipment.carrier_name,
               Shipment.carrier_code, Shipment.waybill_no, _PROVINCE.label("province"))
        .outerjoin(Shipment, Shipment.id == Alert.shipment_id)
        .outerjoin(Order, Order.id == Alert.order_id)
        .outerjoin(Customer, Customer.id == Alert.customer_id)
        .where(*conditions)
    )
    counted = (select(func.count()).select_from(Alert).outerjoin(Shipment, Shipment.id == Alert.shipment_id)
               .outerjoin(Order, Order.id == Alert.order_id).where(*conditions))
    total = session.scalar(counted) or 0
    rows = session.execute(
        joined.order_by(_SEVERITY_ORDER, Alert.due_at.asc().nulls_last(), Alert.raised_at.desc(), Alert.id)
        .limit(per_page).offset((page - 1) * per_page)
    )
    items = [AlertRow(r.Alert, r.order_no, r.order_name, r.buyer_nick, r.carrier_name, r.carrier_code, r.waybill_no,
                      r.province) for r in rows]
    return AlertPage(items=items, total=total, page=page, per_page=per_page)


def alert_row(session: Session, alert_id: str) -> AlertRow:
    """One alert with its order, buyer and parcel (AlertNotFound when there is none)."""
    alert = session.get(Alert, alert_id)
    if alert is None:
        raise AlertNotFound(f"no alert with id {alert_id!r}")
    order = session.get(Order, alert.order_id) if alert.order_id else None
    shipment = session.get(Shipment, alert.shipment_id) if alert.shipment_id else None
    customer = session.get(Customer, alert.customer_id) if alert.customer_id else None
    province = (shipment.destination_province if shipment else None) or (order.receiver_province if order else None)
    return AlertRow(alert, order.order_no if order else None, order.order_name if order else None,
                    customer.buyer_nick if customer else None, shipment.carrier_name if shipment else None,
                    shipment.carrier_code if shipment else None, shipment.waybill_no if shipment else None, province)


def queue_options(session: Session, shop_id: str | None) -> dict[str, list[str]]:
    """The kinds, carriers and provinces the shop's live alerts have, for the filter menus."""
    base = (select(Alert.kind, Shipment.carrier_code, Shipment.carrier_name, _PROVINCE.label("province"))
            .outerjoin(Shipment, Shipment.id == Alert.shipment_id).outerjoin(Order, Order.id == Alert.order_id)
            .where(Alert.status.in_(LIVE)).distinct())
    if shop_id:
        base = base.where(Alert.shop_id == shop_id)
    kinds, carriers, provinces = set(), {}, set()
    for row in session.execute(base):
        kinds.add(row.kind)
        if row.carrier_code or row.carrier_name:
            carriers[row.carrier_code or row.carrier_name] = row.carrier_name or row.carrier_code
        if row.province:
            provinces.add(province_key(row.province))
    return {"kinds": [k for k in rules.KINDS if k in kinds] + sorted(kinds - set(rules.KINDS)),
            "carriers": sorted(carriers), "carrier_names": [carriers[c] for c in sorted(carriers)],
            "provinces": sorted(p for p in provinces if p)}


def open_alert_count(session: Session, shop_id: str | None) -> int:
    """How many alerts nobody has looked at yet."""
    query = select(func.count()).select_from(Alert).where(Alert.status == OPEN)
    if shop_id:
        query = query.where(Alert.shop_id == shop_id)
    return session.scalar(query) or 0


def acknowledge_alert(session: Session, alert_id: str, by: str | None, *, now: datetime | None = None) -> Alert:
    """Mark an open alert as seen (someone is on it); a resolved alert stays resolved."""
    alert = session.get(Alert, alert_id)
    if alert is None:
        raise AlertNotFound(f"no alert with id {alert_id!r}")
    if alert.status == OPEN:
        alert.status = ACKNOWLEDGED
        alert.detail = {**(alert.detail or {}), "acknowledged_by": by,
                        "acknowledged_at": (now or datetime.now(UTC)).isoformat()}
        session.flush()
    return alert


def resolve_alert(session: Session, alert_id: str, by: str | None, *, now: datetime | None = None) -> Alert:
    """Close an alert by hand; the sweep does not raise the same one (same dedupe key) again."""
    alert = session.get(Alert, alert_id)
    if alert is None:
        raise AlertNotFound(f"no alert with id {alert_id!r}")
    if alert.status != RESOLVED:
        alert.status = RESOLVED
        alert.resolved_at = now or datetime.now(UTC)
        alert.resolved_by = (by or "")[:80] or None
        session.flush()
    return alert


def alert_json(row: AlertRow) -> dict[str, Any]:
    """An alert for the REST API: times in ISO-8601, its order, buyer and parcel."""
    a = row.alert
    iso = lambda moment: moment.isoformat() if moment else None
    return {
        "id": a.id, "shop_id": a.shop_id, "kind": a.kind, "severity": a.severity, "status": a.status,
        "dedupe_key": a.dedupe_key, "rule": a.rule, "detail": a.detail or {},
        "raised_at": iso(a.raised_at), "due_at": iso(a.due_at), "resolved_at": iso(a.resolved_at),
        "resolved_by": a.resolved_by,
        "order_id": a.order_id, "order_no": row.order_no, "order_name": row.order_name,
        "customer_id": a.customer_id, "buyer_nick": row.buyer_nick,
        "shipment_id": a.shipment_id, "carrier_code": row.carrier_code, "carrier_name": row.carrier_name,
        "waybill_no": row.waybill_no, "province": province_key(row.province),
    }
