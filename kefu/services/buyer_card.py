"""The buyer's card beside a chat, the way 千牛 shows it: profile, value tier, open orders, parcels and open cases."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.domain import order_status
from kefu.domain.desk.drafts import OrderBrief
from kefu.domain.privacy import mask_name
from kefu.store.desk_tables import PersonalityReadingRow
from kefu.store.tables import Customer, CustomerTag, Order, Shipment

OPEN_STATUSES = (order_status.WAIT_BUYER_PAY, order_status.WAIT_SELLER_SEND_GOODS, order_status.SELLER_CONSIGNED_PART,
                 order_status.WAIT_BUYER_CONFIRM_GOODS, order_status.TRADE_BUYER_SIGNED)
RECENT_DAYS = 30  # finished orders this recent still show (their parcels are what buyers ask about)


@dataclass(frozen=True)
class CardParcel:
    order_no: str
    carrier: str | None
    waybill: str
    status: str | None
    last_event_at: datetime | None


@dataclass(frozen=True)
class CardOrder:
    id: str
    order_no: str
    status: str
    status_text: str | None
    created_at: datetime | None
    paid_amount: Decimal | None
    title: str | None
    province: str | None
    parcels: tuple[CardParcel, ...] = ()

    @property
    def shipped(self) -> bool:
        return bool(self.parcels) or self.status in (order_status.WAIT_BUYER_CONFIRM_GOODS, order_status.TRADE_BUYER_SIGNED,
                                                     order_status.TRADE_FINISHED)

    def brief(self) -> OrderBrief:
        parcel = self.parcels[0] if self.parcels else None
        return OrderBrief(self.order_no, self.status, self.shipped, parcel.carrier if parcel else None,
                          parcel.waybill if parcel else None, parcel.status if parcel else None, self.title)


@dataclass(frozen=True)
class CardCase:
    id: str
    summary: str
    status: str
    severity: str | None
    opened_at: datetime | None


@dataclass(frozen=True)
class BuyerCard:
    customer_id: str
    nick: str | None
    name_masked: str | None
    province: str | None
    city: str | None
    value_tier: str | None
    orders_count: int
    total_spent: Decimal
    last_order_at: datetime | None
    personality: str | None
    personality_computed: str | None
    personality_override: str | None
    personality_evidence: tuple[str, ...]
    tags: tuple[str, ...]
    orders: tuple[CardOrder, ...] = ()
    cases: tuple[CardCase, ...] = ()
    extra: dict = field(default_factory=dict)

    @property
    def parcels(self) -> list[CardParcel]:
        return [p for o in self.orders for p in o.parcels]

    def order_briefs(self) -> tuple[OrderBrief, ...]:
        return tuple(o.brief() for o in self.orders)


def _open_cases(session: Session, customer_id: str) -> tuple[CardCase, ...]:
    """Open complaint cases of the buyer (the cases capability's table, when installed)."""
    try:
        from kefu.store.case_tables import Case
    except ImportError:
        return ()
    rows = session.scalars(select(Case).where(Case.customer_id == customer_id, Case.status == "open")
                           .order_by(Case.opened_at.desc()).limit(5)).all()
    return tuple(CardCase(c.id, c.summary, c.status, c.severity, c.opened_at) for c in rows)


def buyer_card(session: Session, customer_id: str | None, *, now: datetime | None = None) -> BuyerCard | None:
    """The card of a customer, or None."""
    customer = session.get(Customer, customer_id) if customer_id else None
    if customer is None:
        return None
    now = now or datetime.now(UTC)
    since = now - timedelta(days=RECENT_DAYS)
    orders = session.scalars(
        select(Order).where(Order.customer_id == customer.id,
                            (Order.status.in_(OPEN_STATUSES)) | (Order.created_at >= since))
        .order_by(Order.created_at.desc()).limit(8)).all()
    parcels: dict[str, list[CardParcel]] = {}
    if orders:
        for shipment, order_no in session.execute(
                select(Shipment, Order.order_no).join(Order, Order.id == Shipment.order_id)
                .where(Shipment.order_id.in_([o.id for o in orders]))):
            parcels.setdefault(shipment.order_id, []).append(
                CardParcel(order_no, shipment.carrier_name or shipment.carrier_code, shipment.waybill_no, shipment.status,
                           shipment.last_event_at))
    card_orders = tuple(
        CardOrder(o.id, o.order_no, o.status, o.status_text, o.created_at, o.paid_amount, o.title_summary,
                  o.receiver_province, tuple(parcels.get(o.id, ())))
        for o in orders
    )
    reading = session.get(PersonalityReadingRow, customer.id)
    tags = tuple(session.scalars(select(CustomerTag.tag).where(CustomerTag.customer_id == customer.id).order_by(CustomerTag.tag)))
    return BuyerCard(
        customer_id=customer.id, nick=customer.buyer_nick, name_masked=mask_name(customer.name),
        province=customer.province, city=customer.city, value_tier=customer.value_tier,
        orders_count=customer.orders_count or 0, total_spent=customer.total_spent or Decimal("0"),
        last_order_at=customer.last_order_at, personality=customer.personality_type,
        personality_computed=reading.computed if reading else None,
        personality_override=reading.override if reading else None,
        personality_evidence=tuple((reading.evidence or [])[:3]) if reading else (),
        tags=tags, orders=card_orders, cases=_open_cases(session, customer.id),
        extra={"risk": _risk(session, customer.id)},
    )


def _risk(session: Session, customer_id: str) -> dict | None:
    """The buyer's latest 差评师 risk for the card (None before any assessment)."""
    from kefu.services.extortion_risk import latest_risk

    row = latest_risk(session, customer_id)
    if row is None:
        return None
    return {"level": row.level, "score": row.score, "signals": row.signals}
