"""Gifts in the store: the gift catalogue, a fitting surprise proposed for a customer, and every gift recorded."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime, timedelta
from decimal import Decimal
from uuid import uuid4

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kefu.config import shop_rules
from kefu.domain.growth.gifts import GiftCheck, GiftChoice, GiftItem, GiftRecipient, GiftRules, check_item, choose_gift
from kefu.domain.growth.gifts import gift_budget, holds_on_customer
from kefu.domain.order_status import PAID
from kefu.store.case_tables import Case
from kefu.store.growth_tables import GiftItem as GiftItemRow
from kefu.store.growth_tables import GiftRecord
from kefu.store.tables import Customer, Order, OrderLine, Product, Shop

OFFICE_WORDS = ("公司", "大厦", "写字楼", "办公", "集团", "有限公司", "科技园", "产业园", "医院", "银行")
SCHOOL_WORDS = ("学校", "大学", "学院", "中学", "小学", "宿舍", "校区")


class GiftError(ValueError):
    """A gift request that cannot be carried out, with the reason."""


def _rules(session: Session, shop_id: str) -> GiftRules:
    shop = session.get(Shop, shop_id)
    return GiftRules.from_config(shop_rules(shop.settings if shop else None)["gifts"])


def add_gift_item(session: Session, shop_id: str, *, key: str, name: str, cost: Decimal, sensitivity: str = "none",
                  suits_gender: str = "any", categories: tuple[str, ...] = (), in_stock: bool = True) -> GiftItemRow:
    """Add or update a catalogue item by key."""
    if sensitivity not in ("none", "personal", "intimate"):
        raise GiftError(f"sensitivity '{sensitivity}' 只能是 none/personal/intimate / must be none, personal or intimate")
    if suits_gender not in ("any", "female", "male"):
        raise GiftError(f"suits_gender '{suits_gender}' 只能是 any/female/male / must be any, female or male")
    if cost < 0:
        raise GiftError("cost 不能为负 / cost cannot be negative")
    row = session.scalar(select(GiftItemRow).where(GiftItemRow.shop_id == shop_id, GiftItemRow.key == key))
    if row is None:
        row = GiftItemRow(id=uuid4().hex, shop_id=shop_id, key=key)
        session.add(row)
    row.name, row.cost, row.sensitivity, row.suits_gender = name, cost, sensitivity, suits_gender
    row.categories, row.in_stock, row.active = list(categories), in_stock, True
    session.flush()
    return row


def _item(row: GiftItemRow) -> GiftItem:
    return GiftItem(key=row.key, name=row.name, cost=Decimal(row.cost), sensitivity=row.sensitivity,
                    suits_gender=row.suits_gender, categories=tuple(row.categories or ()), in_stock=row.in_stock)


def catalogue(session: Session, shop_id: str) -> list[GiftItemRow]:
    return list(session.scalars(select(GiftItemRow).where(GiftItemRow.shop_id == shop_id, GiftItemRow.active.is_(True))
                                .order_by(GiftItemRow.cost.desc())))


def address_kind(address: str | None) -> str:
    """Where the parcel will be opened, read from the street address: office, school, home or unknown."""
    if not address or set(address) <= {"*"}:
        return "unknown"
    if any(w in address for w in SCHOOL_WORDS):
        return "school"
    if any(w in address for w in OFFICE_WORDS):
        return "office"
    return "home" if any(w in address for w in ("小区", "花园", "苑", "村", "号楼", "单元", "室", "家园")) else "unknown"


def recipient_of(session: Session, customer: Customer, now: datetime) -> GiftRecipient:
    """What the gift rules need, from the customer's orders, complaint cases and gifts already given."""
    year_ago = now - timedelta(days=365)
    paid = [Order.customer_id == customer.id, Order.status.in_(sorted(PAID))]
    spend = session.scalar(select(func.coalesce(func.sum(Order.paid_amount), 0)).where(
        *paid, Order.created_at >= year_ago)) or 0
    refunded = session.scalar(select(func.coalesce(func.sum(Order.refunded_amount), 0)).where(
        *paid, Order.created_at >= year_ago)) or 0
    last_address = session.scalar(select(Order.receiver_address).where(*paid).order_by(Order.created_at.desc()).limit(1))
    open_complaint = bool(session.scalar(select(func.count()).select_from(Case).where(
        Case.customer_id == customer.id, Case.status == "open")))
    categories = tuple(c for c in session.scalars(
        select(Product.category).distinct().join(OrderLine, OrderLine.product_id == Product.id)
        .join(Order, Order.id == OrderLine.order_id).where(*paid)) if c)
    gifts = session.scalar(select(func.count()).select_from(GiftRecord).where(
        GiftRecord.customer_id == customer.id, GiftRecord.status == "sent", GiftRecord.created_at >= year_ago)) or 0
    return GiftRecipient(value_tier=customer.value_tier, paid_orders=customer.paid_orders_count or 0,
                         spend_last_year=max(Decimal(spend) - Decimal(refunded), Decimal(0)), gender=customer.gender,
                         open_complaint=open_complaint, address_kind=address_kind(last_address),
                         categories_bought=categories, gifts_last_year=gifts)


def shop_categories(session: Session, shop_id: str) -> tuple[str, ...]:
    return tuple(c for c in session.scalars(select(Product.category).distinct().where(Product.shop_id == shop_id)) if c)


def _reasons(check_or_reasons) -> list[dict]:
    return [asdict(r) for r in check_or_reasons]


def propose_surprise(session: Session, customer_id: str, *, by: str | None, now: datetime) -> tuple[GiftRecord, GiftChoice]:
    """Pick the best fitting gift and record the proposal, or record why the customer is held (no gift)."""
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise GiftError(f"customer {customer_id} not found / 找不到客户")
    rows = {r.key: r for r in catalogue(session, customer.shop_id)}
    choice = choose_gift(recipient_of(session, customer, now), [_item(r) for r in rows.values()],
                         _rules(session, customer.shop_id), shop_categories(session, customer.shop_id))
    if choice.item is None:
        reasons = choice.held or tuple(r for c in choice.refused for r in c.reasons)[:5]
        record = GiftRecord(id=uuid4().hex, shop_id=customer.shop_id, customer_id=customer_id, occasion="surprise",
                            status="held", reasons=_reasons(reasons), created_by=by, created_at=now)
    else:
        chosen = rows[choice.item.key]
        record = GiftRecord(id=uuid4().hex, shop_id=customer.shop_id, customer_id=customer_id,
                            gift_item_id=chosen.id, occasion="surprise", status="proposed", reasons=[],
                            cost=chosen.cost, created_by=by, created_at=now)
    session.add(record)
    session.flush()
    return record, choice


def give_gift(session: Session, customer_id: str, gift_item_id: str, *, occasion: str, by: str | None, now: datetime,
              order_id: str | None = None) -> tuple[GiftRecord, GiftCheck]:
    """An agent's chosen gift: checked against every rule; refused ones are recorded with their reasons, never sent."""
    customer = session.get(Customer, customer_id)
    row = session.get(GiftItemRow, gift_item_id)
    if customer is None or row is None or row.shop_id != customer.shop_id:
        raise GiftError("customer or gift not found in this shop / 找不到客户或礼物")
    rules = _rules(session, customer.shop_id)
    recipient = recipient_of(session, customer, now)
    check = check_item(_item(row), recipient, rules, shop_categories(session, customer.shop_id),
                       gift_budget(recipient, rules))
    held = holds_on_customer(recipient, rules) if occasion == "surprise" else tuple(
        r for r in holds_on_customer(recipient, rules) if r.code == "open_complaint")
    reasons = tuple(held) + check.reasons
    status = "sent" if not reasons else "refused"
    record = GiftRecord(id=uuid4().hex, shop_id=customer.shop_id, customer_id=customer_id, gift_item_id=row.id,
                        occasion=occasion, status=status, reasons=_reasons(reasons), cost=row.cost, order_id=order_id,
                        created_by=by, created_at=now, sent_at=now if status == "sent" else None)
    session.add(record)
    session.flush()
    return record, GiftCheck(item=check.item, allowed=not reasons, reasons=reasons)


def confirm_sent(session: Session, record_id: str, *, now: datetime, order_id: str | None = None) -> GiftRecord:
    """A proposed gift went out (in an order's parcel or on its own)."""
    record = session.get(GiftRecord, record_id)
    if record is None or record.status != "proposed":
        raise GiftError("only a proposed gift can be marked sent / 只有“建议”状态的礼物能标记为已寄出")
    record.status, record.sent_at, record.order_id = "sent", now, order_id or record.order_id
    return record


def gift_history(session: Session, customer_id: str) -> list[tuple[GiftRecord, GiftItemRow | None]]:
    rows = session.execute(select(GiftRecord, GiftItemRow).outerjoin(GiftItemRow, GiftItemRow.id == GiftRecord.gift_item_id)
                           .where(GiftRecord.customer_id == customer_id).order_by(GiftRecord.created_at.desc())).all()
    return [(r, i) for r, i in rows]
