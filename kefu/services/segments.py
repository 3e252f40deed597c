"""Segments: RFM scores and purchase cycles kept per customer, saved segments counted live, and the segment report."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from uuid import uuid4

from sqlalchemy import Select, delete, func, insert, select
from sqlalchemy.orm import Session

from kefu.config import shop_rules
from kefu.domain.growth.purchase_cycle import CycleRules, gaps_in_days, purchase_cycle, shop_cycle_days
from kefu.domain.growth.rfm import BuyerFigures, RfmRules, score_customers
from kefu.domain.growth.segment_filter import SegmentDefinition, days_until_birthday, parse_definition
from kefu.domain.order_status import PAID
from kefu.store.growth_tables import CustomerScore, SavedSegment
from kefu.store.tables import Customer, CustomerTag, Order, OrderLine, Product, Shop

ZERO = Decimal("0")


def _rules(session: Session, shop_id: str) -> dict:
    shop = session.get(Shop, shop_id)
    return shop_rules(shop.settings if shop is not None else None)


def refresh_scores(session: Session, shop_id: str, now: datetime) -> int:
    """Recompute every customer's RFM scores and purchase cycle for one shop; returns customers scored."""
    rules = _rules(session, shop_id)
    rfm_rules = RfmRules.from_config(rules["segments"])
    cycle_rules = CycleRules.from_config(rules["segments"]["cycle"])
    paid_times: dict[str, list[datetime]] = defaultdict(list)
    rows = session.execute(
        select(Order.customer_id, func.coalesce(Order.paid_at, Order.created_at))
        .where(Order.shop_id == shop_id, Order.status.in_(sorted(PAID)), Order.customer_id.is_not(None))
    )
    for customer_id, at in rows:
        if at is not None:
            paid_times[customer_id].append(at)
    customers = session.execute(
        select(Customer.id, Customer.paid_orders_count, Customer.total_spent).where(Customer.shop_id == shop_id)
    ).all()
    figures = [
        BuyerFigures(cid, max(paid_times[cid]) if paid_times.get(cid) else None, count or 0, spent or ZERO)
        for cid, count, spent in customers
    ]
    scores = score_customers(figures, rfm_rules, now)
    shop_cycle = shop_cycle_days([g for times in paid_times.values() for g in gaps_in_days(times)], cycle_rules)
    records = []
    for score in scores:
        cycle = purchase_cycle(paid_times.get(score.customer_id, []), shop_cycle, cycle_rules, now)
        records.append({
            "customer_id": score.customer_id, "shop_id": shop_id, "recency": score.recency,
            "frequency": score.frequency, "money": score.money, "rfm_group": score.group,
            "cycle_days": cycle.cycle_days if cycle else None, "cycle_basis": cycle.basis if cycle else None,
            "next_purchase_at": cycle.next_purchase_at if cycle else None,
            "cycle_stage": cycle.stage if cycle else None, "computed_at": now,
        })
    session.execute(delete(CustomerScore).where(CustomerScore.shop_id == shop_id))
    for start in range(0, len(records), 2000):
        session.execute(insert(CustomerScore), records[start:start + 2000])
    return len(records)


def members_query(shop_id: str, definition: SegmentDefinition) -> Select:
    """Customer ids matching the definition (birthdays are filtered afterwards, see `segment_member_ids`)."""
    q = (select(Customer.id).select_from(Customer)
         .outerjoin(CustomerScore, CustomerScore.customer_id == Customer.id)
         .where(Customer.shop_id == shop_id))
    if definition.rfm_groups:
        q = q.where(CustomerScore.rfm_group.in_(definition.rfm_groups))
    if definition.cycle_stages:
        q = q.where(CustomerScore.cycle_stage.in_(definition.cycle_stages))
    if definition.value_tiers:
        q = q.where(Customer.value_tier.in_(definition.value_tiers))
    if definition.provinces:
        q = q.where(Customer.province.in_(definition.provinces))
    if definition.personality_types:
        q = q.where(Customer.personality_type.in_(definition.personality_types))
    if definition.min_spent is not None:
        q = q.where(Customer.total_spent >= definition.min_spent)
    if definition.max_spent is not None:
        q = q.where(Customer.total_spent <= definition.max_spent)
    if definition.min_orders is not None:
        q = q.where(Customer.paid_orders_count >= definition.min_orders)
    if definition.marketing_consent is not None:
        q = q.where(Customer.marketing_consent.is_(definition.marketing_consent))
    if definition.tags:
        q = q.where(Customer.id.in_(select(CustomerTag.customer_id).where(CustomerTag.tag.in_(definition.tags))))
    if definition.categories:
        bought = (select(Order.customer_id).join(OrderLine, OrderLine.order_id == Order.id)
                  .join(Product, Product.id == OrderLine.product_id)
                  .where(Order.shop_id == shop_id, Product.category.in_(definition.categories)))
        q = q.where(Customer.id.in_(bought))
    if definition.birthday_within_days is not None:
        q = q.where(Customer.birthday.is_not(None))
    return q


def segment_member_ids(session: Session, shop_id: str, definition: SegmentDefinition, today: datetime) -> list[str]:
    """Every matching customer id, birthdays checked in Python (portable across both stores)."""
    if definition.birthday_within_days is None:
        return list(session.scalars(members_query(shop_id, definition)))
    q = members_query(shop_id, definition).add_columns(Customer.birthday)
    return [cid for cid, born in session.execute(q)
            if days_until_birthday(born.month, born.day, today.month, today.day, today.year)
            <= definition.birthday_within_days]


def count_segment(session: Session, shop_id: str, definition: SegmentDefinition, today: datetime) -> int:
    if definition.birthday_within_days is not None:
        return len(segment_member_ids(session, shop_id, definition, today))
    return session.scalar(select(func.count()).select_from(members_query(shop_id, definition).subquery())) or 0


@dataclass(frozen=True)
class SegmentCount:
    """A saved segment with its live count and what its members spent."""

    id: str
    name: str
    definition: dict
    customers: int
    spend: Decimal


def save_segment(session: Session, shop_id: str, name: str, raw: dict, *, by: str | None, now: datetime) -> str:
    """Store (or replace, by name) a checked definition; returns its id."""
    name = name.strip()
    if not name:
        raise ValueError("name: a segment needs a name / 分组需要名称")
    definition = parse_definition(raw).as_json()
    existing = session.scalar(select(SavedSegment).where(SavedSegment.shop_id == shop_id, SavedSegment.name == name))
    if existing is not None:
        existing.definition, existing.updated_at = definition, now
        return existing.id
    segment = SavedSegment(id=uuid4().hex, shop_id=shop_id, name=name, definition=definition, created_by=by,
                           created_at=now, updated_at=now)
    session.add(segment)
    session.flush()
    return segment.id


def saved_segments(session: Session, shop_id: str, today: datetime) -> list[SegmentCount]:
    """Every saved segment with its live count and members' spend."""
    out = []
    for segment in session.scalars(select(SavedSegment).where(SavedSegment.shop_id == shop_id)
                                   .order_by(SavedSegment.name)):
        ids = segment_member_ids(session, shop_id, parse_definition(segment.definition), today)
        spend = ZERO
        for start in range(0, len(ids), 900):
            spend += session.scalar(select(func.coalesce(func.sum(Customer.total_spent), 0))
                                    .where(Customer.id.in_(ids[start:start + 900]))) or ZERO
        out.append(SegmentCount(segment.id, segment.name, segment.definition, len(ids), Decimal(spend)))
    return out


@dataclass(frozen=True)
class GroupFigures:
    """One RFM group's size and value for the segment report."""

    group: str
    customers: int
    spend: Decimal
    share_of_spend: float


def group_report(session: Session, shop_id: str) -> list[GroupFigures]:
    """Customers and spend per RFM group, biggest spend first."""
    rows = session.execute(
        select(CustomerScore.rfm_group, func.count(), func.coalesce(func.sum(Customer.total_spent), 0))
        .join(Customer, Customer.id == CustomerScore.customer_id)
        .where(CustomerScore.shop_id == shop_id).group_by(CustomerScore.rfm_group)
    ).all()
    total = sum((Decimal(spend) for _g, _n, spend in rows), ZERO)
    figures = [GroupFigures(group, count, Decimal(spend), float(Decimal(spend) / total) if total else 0.0)
               for group, count, spend in rows]
    return sorted(figures, key=lambda g: g.spend, reverse=True)


def score_of(session: Session, customer_id: str) -> CustomerScore | None:
    """The customer's scores and cycle for the 360 (None before the first refresh)."""
    return session.get(CustomerScore, customer_id)
