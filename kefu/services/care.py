"""Care in the store: follow-up visits (回访) scheduled after signing, before birthdays, for win-backs and when a
regular comes online, each with talking points; done by an agent, with a message through the outbox when chosen."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import uuid4
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.config import shop_rules
from kefu.domain.growth.care import PURPOSE, CareRules, ProfileFacts, talking_points
from kefu.domain.growth.segment_filter import days_until_birthday
from kefu.store.case_tables import Case
from kefu.store.growth_tables import CareVisit, CustomerScore
from kefu.store.tables import Customer, CustomerNote, Order, OrderLine, Shipment, Shop


class CareError(ValueError):
    """A visit that cannot be done as asked, with the reason."""


def _rules(session: Session, shop_id: str) -> CareRules:
    shop = session.get(Shop, shop_id)
    return CareRules.from_config(shop_rules(shop.settings if shop else None)["care"])


def _local(session: Session, shop_id: str, now: datetime) -> datetime:
    """The shop's local time: birthdays fall on local calendar days."""
    shop = session.get(Shop, shop_id)
    return now.astimezone(ZoneInfo(shop_rules(shop.settings if shop else None)["timezone"]))


def profile_facts(session: Session, customer: Customer, now: datetime) -> ProfileFacts:
    """The talking-point facts of one customer, read from orders, notes, scores and open cases."""
    items = list(session.scalars(
        select(OrderLine.title).join(Order, Order.id == OrderLine.order_id)
        .where(Order.customer_id == customer.id).order_by(Order.created_at.desc()).limit(3)))
    note = session.scalar(select(CustomerNote.body).where(CustomerNote.customer_id == customer.id)
                          .order_by(CustomerNote.created_at.desc()).limit(1))
    score = session.get(CustomerScore, customer.id)
    case = session.scalar(select(Case.summary).where(Case.customer_id == customer.id, Case.status == "open").limit(1))
    born = customer.birthday
    local = _local(session, customer.shop_id, now)
    days = days_until_birthday(born.month, born.day, local.month, local.day, local.year) if born else None
    return ProfileFacts(nickname=customer.buyer_nick, last_items=tuple(items), hobbies=customer.hobbies,
                        latest_note=note, personality_type=customer.personality_type,
                        cycle_stage=score.cycle_stage if score else None,
                        next_purchase_at=score.next_purchase_at if score else None, days_to_birthday=days,
                        open_case=case, value_tier=customer.value_tier)


def _visit(session: Session, customer: Customer, *, kind: str, key: str, due_at: datetime, now: datetime,
           order_id: str | None = None) -> bool:
    if session.scalar(select(CareVisit.id).where(CareVisit.dedupe_key == key)):
        return False
    points = talking_points(profile_facts(session, customer, now))
    session.add(CareVisit(id=uuid4().hex, shop_id=customer.shop_id, customer_id=customer.id, order_id=order_id,
                          kind=kind, dedupe_key=key, due_at=due_at, status="due", talking_points=points))
    session.flush()
    return True


@dataclass(frozen=True)
class Scheduled:
    after_signing: int = 0
    birthday: int = 0
    winback: int = 0


def schedule_visits(session: Session, shop_id: str, now: datetime) -> Scheduled:
    """Add the visits that have become due (each once: a dedupe key per order, birthday year or cycle)."""
    rules = _rules(session, shop_id)
    counts = {"after_signing": 0, "birthday": 0, "winback": 0}
    signed_before = now - timedelta(days=rules.after_signing_days)
    signed_after = signed_before - timedelta(days=rules.lookback_days)
    for order_id, customer_id, signed_at in session.execute(
        select(Shipment.order_id, Order.customer_id, Shipment.signed_at).join(Order, Order.id == Shipment.order_id)
        .where(Shipment.shop_id == shop_id, Shipment.signed_at.is_not(None), Shipment.signed_at <= signed_before,
               Shipment.signed_at > signed_after, Order.customer_id.is_not(None))
    ).all():
        customer = session.get(Customer, customer_id)
        due = signed_at + timedelta(days=rules.after_signing_days)
        counts["after_signing"] += _visit(session, customer, kind="after_signing", key=f"after_signing:{order_id}",
                                          due_at=due, now=now, order_id=order_id)
    local = _local(session, shop_id, now)
    for customer in session.scalars(select(Customer).where(Customer.shop_id == shop_id, Customer.birthday.is_not(None),
                                                           Customer.marketing_consent.is_(True))):
        days = days_until_birthday(customer.birthday.month, customer.birthday.day, local.month, local.day, local.year)
        if days <= rules.birthday_days_before:
            year = (local + timedelta(days=days)).year
            counts["birthday"] += _visit(session, customer, kind="birthday", key=f"birthday:{customer.id}:{year}",
                                         due_at=now, now=now)
    for score, customer in session.execute(
        select(CustomerScore, Customer).join(Customer, Customer.id == CustomerScore.customer_id)
        .where(CustomerScore.shop_id == shop_id, CustomerScore.cycle_stage == "winback",
               Customer.paid_orders_count >= rules.winback_min_paid_orders,
               Customer.value_tier.in_(rules.winback_tiers))
    ).all():
        stamp = score.next_purchase_at.date().isoformat() if score.next_purchase_at else "?"
        counts["winback"] += _visit(session, customer, kind="winback", key=f"winback:{customer.id}:{stamp}",
                                    due_at=now, now=now)
    return Scheduled(**counts)


def came_online(session: Session, customer_id: str, now: datetime) -> CareVisit | None:
    """A regular customer came online (chat presence or the API): a visit due now, at most once per cooldown."""
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise CareError(f"customer {customer_id} not found / 找不到客户")
    rules = _rules(session, customer.shop_id)
    if (customer.paid_orders_count or 0) < rules.online_min_paid_orders:
        return None
    recent = session.scalar(select(CareVisit.id).where(
        CareVisit.customer_id == customer_id, CareVisit.kind == "came_online",
        CareVisit.due_at > now - timedelta(days=rules.online_cooldown_days)))
    if recent:
        return None
    key = f"came_online:{customer_id}:{now.date().isoformat()}"
    _visit(session, customer, kind="came_online", key=key, due_at=now, now=now)
    return session.scalar(select(CareVisit).where(CareVisit.dedupe_key == key))


def complete_visit(session: Session, visit_id: str, *, by: str, now: datetime, send: bool = False,
                   note: str | None = None, skip: bool = False):
    """Mark a visit done (or skipped). With send, its message goes through the outbox (consent, opt-out, quiet hours
    and caps apply there); returns the outbox result or None."""
    visit = session.get(CareVisit, visit_id)
    if visit is None:
        raise CareError(f"visit {visit_id} not found / 找不到回访")
    if visit.status != "due":
        raise CareError(f"visit already {visit.status} / 回访已处理")
    result = None
    if send and not skip:
        from kefu.services.outbox import OutgoingMessage, queue_message

        result = queue_message(session, OutgoingMessage(
            shop_id=visit.shop_id, customer_id=visit.customer_id, order_id=visit.order_id, event=f"care.{visit.kind}",
            purpose=PURPOSE[visit.kind], template=f"care.{visit.kind}", variables={"item": _item_of(session, visit)},
            idempotency_key=f"care:{visit.dedupe_key}",
        ), now=now, actor=by)
        visit.message_id = result.message_id
    visit.status = "skipped" if skip else "done"
    visit.done_by, visit.done_at, visit.note = by, now, note
    session.flush()
    return result


def _item_of(session: Session, visit: CareVisit) -> str | None:
    if visit.order_id is None:
        return None
    return session.scalar(select(OrderLine.title).where(OrderLine.order_id == visit.order_id).limit(1))


def visit_queue(session: Session, shop_id: str, *, status: str = "due", limit: int = 200) -> list[tuple[CareVisit, Customer]]:
    rows = session.execute(select(CareVisit, Customer).join(Customer, Customer.id == CareVisit.customer_id)
                           .where(CareVisit.shop_id == shop_id, CareVisit.status == status)
                           .order_by(CareVisit.due_at).limit(limit)).all()
    return [(v, c) for v, c in rows]
