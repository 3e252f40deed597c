"""Courier scoreboard: gather per-parcel facts for a shop in one query, score them with the pure rules, recommend.

Exceptions come from the parcel's own state and from watch alerts of the kinds in EXCEPTION_ALERT_KINDS (any status:
a resolved stall was still a stall). Complaints are courier-conflict alerts on the parcel for now; complaint cases
(issue "Parcels and proactive messages") are to be counted by adding their count to `complaint_count` below — the one
hook, so the rules and pages need no change.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import Session

from kefu.config import shop_rules
from kefu.domain.carriers import carrier_for
from kefu.domain.rules.courier_score import (
    PRIORITIES,
    CourierScore,
    ParcelFact,
    Ranked,
    Recommendation,
    Scoreboard,
    courier_policy,
    recommend,
    score,
)
from kefu.store.tables import Alert, Order, Shipment, Shop

EXCEPTION_ALERT_KINDS = ("exception", "rejected", "returning", "returned", "stall")
COMPLAINT_ALERT_KINDS = ("courier_conflict",)


def complaint_count():
    """Complaints linked to the parcel, as a correlated scalar subquery. Hook: add complaint cases here when they
    exist (e.g. `+ select(func.count()).where(ComplaintCase.shipment_id == Shipment.id).scalar_subquery()`)."""
    return (select(func.count()).select_from(Alert)
            .where(Alert.shipment_id == Shipment.id, Alert.kind.in_(COMPLAINT_ALERT_KINDS))
            .scalar_subquery())


def parcel_facts(session: Session, shop_id: str, *, since: datetime | None = None) -> list[ParcelFact]:
    """One row per parcel of the shop (shipped since `since` when given), in one query."""
    had_exception = exists().where(Alert.shipment_id == Shipment.id, Alert.kind.in_(EXCEPTION_ALERT_KINDS))
    stmt = (
        select(Shipment.carrier_code, Shipment.carrier_name,
               func.coalesce(Shipment.destination_province, Order.receiver_province),
               Shipment.picked_up_at, Shipment.signed_at, Shipment.status, had_exception, complaint_count())
        .join(Order, Order.id == Shipment.order_id)
        .where(Shipment.shop_id == shop_id)
    )
    if since is not None:
        stmt = stmt.where(or_(Shipment.shipped_at >= since,
                              and_(Shipment.shipped_at.is_(None), Shipment.picked_up_at >= since),
                              and_(Shipment.shipped_at.is_(None), Shipment.picked_up_at.is_(None))))
    facts = []
    for code, name, province, picked, signed, status, exc, complaints in session.execute(stmt):
        facts.append(ParcelFact(carrier=code or name, province=province, picked_up_at=picked, signed_at=signed,
                                state=status, had_exception=bool(exc), complaints=int(complaints or 0)))
    return facts


def shop_scoreboard(session: Session, shop_id: str | None, *, now: datetime) -> Scoreboard:
    """The shop's scoreboard over its configured lookback (`courier_score.lookback_days`)."""
    settings = session.scalar(select(Shop.settings).where(Shop.id == shop_id)) if shop_id else None
    rules = shop_rules(settings)
    policy = courier_policy(rules)
    if shop_id is None:
        return score([], policy)
    days = (rules.get("courier_score") or {}).get("lookback_days")
    since = now - timedelta(days=float(days)) if days else None
    return score(parcel_facts(session, shop_id, since=since), policy)


def carrier_label(code: str) -> str:
    carrier = carrier_for(code)
    return carrier.name if carrier else code


@dataclass(frozen=True)
class ScoreboardView:
    board: Scoreboard
    recommendation: Recommendation


def scoreboard_view(session: Session, shop_id: str | None, *, province: str | None, priority: str,
                    now: datetime) -> ScoreboardView:
    board = shop_scoreboard(session, shop_id, now=now)
    priority = priority if priority in PRIORITIES else PRIORITIES[0]
    return ScoreboardView(board, recommend(board, province or None, priority))


def _hours(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def reason_text(item: Ranked, rec: Recommendation, t: Callable[..., str]) -> str:
    """Why the carrier stands where it does, in the interface language, saying when all-province figures were used."""
    s = item.score
    price = f"{item.price:.2f}" if item.price is not None else t("couriers.price_unknown")
    main = t(f"couriers.reason.{rec.priority}", price=price, median=_hours(s.median_hours), p90=_hours(s.p90_hours),
             rate=f"{s.exception_rate:.0%}", complaints=s.complaints)
    if item.basis == "province":
        basis = t("couriers.basis.province", n=s.parcels, province=rec.province)
    elif rec.province:
        basis = t("couriers.basis.fallback", n=item.province_parcels, province=rec.province, min=rec.min_sample,
                  total=s.parcels)
    else:
        basis = t("couriers.basis.all", n=s.parcels)
    return t("couriers.reason_with_basis", reason=main, basis=basis)


def score_json(s: CourierScore) -> dict[str, Any]:
    return {
        "carrier": s.carrier, "carrier_name": carrier_label(s.carrier), "province": s.province, "parcels": s.parcels,
        "delivered": s.delivered, "median_hours": s.median_hours, "p90_hours": s.p90_hours,
        "exceptions": s.exceptions, "exception_rate": round(s.exception_rate, 4), "complaints": s.complaints,
        "price": f"{s.price:.2f}" if s.price is not None else None,
    }


def recommendation_json(rec: Recommendation, t: Callable[..., str]) -> dict[str, Any]:
    return {
        "province": rec.province, "priority": rec.priority, "min_sample": rec.min_sample,
        "ranked": [{"rank": r.rank, "carrier": r.carrier, "carrier_name": carrier_label(r.carrier),
                    "price": f"{r.price:.2f}" if r.price is not None else None, "basis": r.basis,
                    "province_parcels": r.province_parcels, "figures": score_json(r.score),
                    "reason": reason_text(r, rec, t)} for r in rec.ranked],
        "too_few": [{"carrier": s.carrier, "carrier_name": carrier_label(s.carrier), "parcels": s.parcels}
                    for s in rec.too_few],
    }


def chart_data(board: Scoreboard) -> dict[str, Any]:
    """Median and p90 hours by carrier (all provinces) for the bar chart."""
    totals = [board.totals[c] for c in board.carriers]
    return {
        "labels": [carrier_label(s.carrier) for s in totals],
        "median": [None if s.median_hours is None else round(s.median_hours, 1) for s in totals],
        "p90": [None if s.p90_hours is None else round(s.p90_hours, 1) for s in totals],
    }
