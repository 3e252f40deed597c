"""Promises made to buyers, tracked to fulfilment: recorded when a reply is sent, swept when they fall due.

`record_promises` takes the promise guard's verdict (`GuardVerdict.promises`, each a `PromiseFound(kind, text, due_at)`)
for a reply that was sent and writes one row per promise (recording the same reply twice adds nothing). A promise made
while the buyer has an open complaint case is attached to it and kept as case evidence. `sweep_promises` settles
promises to ship from the order's shipping time (kept if it left by the due time, else broken), marks other open
promises past their due time as overdue and raises one `promise.due` alert for each in the shared alert queue; a person
marks those kept or broken.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from kefu.domain.privacy import redact_phones
from kefu.ids import new_id, stable_id
from kefu.services import evidence
from kefu.services.watch import LIVE, RESOLVED, connection_of, insert_ignoring
from kefu.store.case_tables import Case, Promise
from kefu.store.database import Store
from kefu.store.tables import Alert, Order, Shop

log = logging.getLogger(__name__)

OPEN, OVERDUE, KEPT, BROKEN = "open", "overdue", "kept", "broken"
STATUSES = (OPEN, OVERDUE, KEPT, BROKEN)
ALERT_KIND = "promise.due"
SWEEPER = "promise-sweep"


class PromiseLike(Protocol):
    """What the promise guard finds in a reply (`kefu.domain.promise_guard.PromiseFound`)."""

    kind: str
    text: str
    due_at: datetime | None


class PromiseNotFound(LookupError):
    """No promise with that id."""


def _promises_of(verdict: Any) -> Sequence[PromiseLike]:
    """The promises of a guard verdict, or the promises themselves when a sequence is given."""
    if verdict is None:
        return ()
    found = getattr(verdict, "promises", verdict)
    return tuple(found or ())


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def record_promises(session: Session, shop_id: str, customer_id: str | None, verdict: Any, *,
                    order_id: str | None = None, case_id: str | None = None, message_id: str | None = None,
                    source_text: str | None = None, made_by: str | None = None,
                    now: datetime | None = None) -> list[Promise]:
    """Record every promise of a sent reply; returns the rows (existing ones when recorded before).

    Without `case_id`, a promise to a buyer with an open case (on the same order when one is named) joins that case.
    """
    now = _utc(now) or datetime.now(UTC)
    found = _promises_of(verdict)
    if not found:
        return []
    if case_id is None and customer_id is not None:
        query = select(Case.id).where(Case.shop_id == shop_id, Case.customer_id == customer_id, Case.status == "open")
        if order_id:
            query = query.where((Case.order_id == order_id) | Case.order_id.is_(None))
        case_id = session.scalar(query.order_by(Case.opened_at.desc()).limit(1))
    case = session.get(Case, case_id) if case_id else None
    rows = []
    for promise in found:
        what = redact_phones((promise.text or "").strip()) or promise.kind
        due = _utc(promise.due_at)
        key = stable_id("promise", shop_id, customer_id or "", order_id or "", message_id or "", promise.kind, what,
                        due.isoformat() if due else "")
        existing = session.scalar(select(Promise).where(Promise.dedupe_key == key))
        if existing is not None:
            rows.append(existing)
            continue
        row = Promise(id=new_id(), shop_id=shop_id, customer_id=customer_id, order_id=order_id,
                      case_id=case.id if case else None, dedupe_key=key, kind=promise.kind[:40], what=what,
                      source_text=redact_phones(source_text), message_id=message_id, due_at=due, status=OPEN,
                      made_by=(made_by or "")[:80] or None, made_at=now)
        session.add(row)
        if case is not None:
            evidence.capture(session, case, "promise", f"承诺 / promise: {what}"[:200],
                             {"kind": row.kind, "what": what, "due_at": due.isoformat() if due else None,
                              "source_text": row.source_text, "message_id": message_id, "made_by": row.made_by},
                             actor=made_by, now=now)
        rows.append(row)
    session.flush()
    return rows


def close_promise(session: Session, promise_id: str, status: str, *, by: str | None,
                  now: datetime | None = None) -> Promise:
    """Mark a promise kept or broken; its live `promise.due` alert is resolved."""
    if status not in (KEPT, BROKEN):
        raise ValueError(f"status must be kept or broken, not {status!r}")
    now = _utc(now) or datetime.now(UTC)
    promise = session.get(Promise, promise_id)
    if promise is None:
        raise PromiseNotFound(f"no promise with id {promise_id!r}")
    promise.status = status
    promise.closed_at = now
    promise.closed_by = (by or "")[:80] or None
    session.execute(update(Alert).where(Alert.dedupe_key == _alert_key(promise.id), Alert.status.in_(LIVE))
                    .values(status=RESOLVED, resolved_at=now, resolved_by=(by or SWEEPER)[:80]))
    session.flush()
    return promise


def _alert_key(promise_id: str) -> str:
    return f"{ALERT_KIND}:{promise_id}"


@dataclass
class PromiseSweep:
    shop_id: str
    overdue: int = 0  # promises newly marked overdue
    raised: int = 0  # alerts raised
    kept: int = 0  # shipping promises the order's shipping time kept
    broken: int = 0  # … or broke

    def to_json(self) -> dict[str, Any]:
        return {"shop_id": self.shop_id, "overdue": self.overdue, "raised": self.raised, "kept": self.kept,
                "broken": self.broken}


SHIP_KINDS = ("ship", "ship_by")  # PromiseFound kinds the order's own shipping time settles


def settle_shipping_promises(session: Session, shop_id: str, *, now: datetime) -> tuple[int, int]:
    """A promise to ship an order settles itself once the order ships: kept when it left by the due time, broken when
    it left later. Returns (kept, broken)."""
    rows = session.execute(
        select(Promise, Order.shipped_at).join(Order, Order.id == Promise.order_id)
        .where(Promise.shop_id == shop_id, Promise.status.in_((OPEN, OVERDUE)), Promise.kind.in_(SHIP_KINDS),
               Order.shipped_at.is_not(None))).all()
    kept = broken = 0
    for promise, shipped_at in rows:
        on_time = promise.due_at is None or _utc(shipped_at) <= promise.due_at
        close_promise(session, promise.id, KEPT if on_time else BROKEN, by=SWEEPER, now=now)
        kept, broken = (kept + 1, broken) if on_time else (kept, broken + 1)
    return kept, broken


def sweep_promises(session: Session, shop_id: str, *, now: datetime) -> PromiseSweep:
    """Shipping promises settle from the order's shipping time; other open promises past their due time become
    overdue, each with one `promise.due` alert (never raised twice)."""
    now = _utc(now)
    result = PromiseSweep(shop_id)
    result.kept, result.broken = settle_shipping_promises(session, shop_id, now=now)
    due = list(session.scalars(select(Promise).where(Promise.shop_id == shop_id, Promise.status == OPEN,
                                                     Promise.due_at.is_not(None), Promise.due_at <= now)))
    conn = connection_of(session)
    keys = [_alert_key(p.id) for p in due]
    raised_before = set(session.scalars(select(Alert.dedupe_key).where(Alert.dedupe_key.in_(keys)))) if keys else set()
    for promise in due:
        promise.status = OVERDUE
        result.overdue += 1
        if _alert_key(promise.id) in raised_before:
            continue
        conn.execute(insert_ignoring(conn, Alert.__table__, "dedupe_key").values(
            id=new_id(), shop_id=shop_id, kind=ALERT_KIND, severity="warning", status="open",
            dedupe_key=_alert_key(promise.id), order_id=promise.order_id, shipment_id=None,
            customer_id=promise.customer_id, raised_at=now, due_at=now,
            rule=f"承诺到期未兑现: {promise.what}"[:200],
            detail={"promise_id": promise.id, "kind": promise.kind, "what": promise.what,
                    "promise_due_at": promise.due_at.isoformat(), "case_id": promise.case_id},
        ))
        result.raised += 1
    session.flush()
    return result


def sweep_all(store: Store, *, now: datetime | None = None, shop_ids: Iterable[str] | None = None) -> list[PromiseSweep]:
    """Sweep every shop (or the named ones), one transaction per shop."""
    now = _utc(now) or datetime.now(UTC)
    with store.session() as session:
        ids = list(shop_ids) if shop_ids else list(session.scalars(select(Shop.id).order_by(Shop.id)))
    results = []
    for shop_id in ids:
        try:
            with store.session() as session:
                results.append(sweep_promises(session, shop_id, now=now))
        except Exception:  # one shop's failure must not stop the others' sweep
            log.exception("promise sweep of shop %s failed", shop_id)
    return results


def list_promises(session: Session, *, shop_id: str | None, status: str | None = None,
                  customer_id: str | None = None, case_id: str | None = None, limit: int = 200) -> list[Promise]:
    """Promises, soonest due first (no due time last)."""
    query = select(Promise)
    if shop_id:
        query = query.where(Promise.shop_id == shop_id)
    if status in STATUSES:
        query = query.where(Promise.status == status)
    if customer_id:
        query = query.where(Promise.customer_id == customer_id)
    if case_id:
        query = query.where(Promise.case_id == case_id)
    return list(session.scalars(query.order_by(Promise.due_at.asc().nulls_last(), Promise.made_at).limit(limit)))


def promise_json(p: Promise) -> dict[str, Any]:
    iso = lambda moment: moment.isoformat() if moment else None  # noqa: E731
    return {"id": p.id, "shop_id": p.shop_id, "customer_id": p.customer_id, "order_id": p.order_id,
            "case_id": p.case_id, "kind": p.kind, "what": p.what, "source_text": p.source_text,
            "message_id": p.message_id, "due_at": iso(p.due_at), "status": p.status, "made_by": p.made_by,
            "made_at": iso(p.made_at), "closed_at": iso(p.closed_at), "closed_by": p.closed_by}
