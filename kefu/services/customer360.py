"""Reading and editing one customer: the 360 view, searching the customer list, notes, tags and profile fields."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kefu.domain import order_status
from kefu.domain.customer_profile import OrderFacts, summarise_orders
from kefu.domain.privacy import mask_address, mask_email, mask_name, mask_phone
from kefu.services.tracking import TimelineEvent, order_parcel_events
from kefu.store.tables import Alert
from kefu.store.tables import Customer, CustomerNote, CustomerTag, Order, OrderLine, Product, Shipment, Shop

CENT = Decimal("0.01")
GENDERS = {"female": "female", "male": "male", "女": "female", "男": "male", "f": "female", "m": "male"}
PROFILE_FIELDS = ("gender", "birthday", "hobbies", "personality_type", "marketing_consent")
ORDERINGS = ("total_spent", "last_order_at", "first_order_at", "orders_count", "buyer_nick")
MAX_TAG_LENGTH = 60
MAX_NOTE_LENGTH = 5000
MAX_HOBBIES_LENGTH = 1000
MAX_PERSONALITY_LENGTH = 20
CLOSED_STATUSES = (order_status.TRADE_CLOSED, order_status.TRADE_CLOSED_BY_TAOBAO)


class CustomerNotFound(LookupError):
    """No customer with that id."""


class AmbiguousCustomer(LookupError):
    """The nick names customers in several shops; the caller must say which shop."""

    def __init__(self, nick: str, shop_names: list[str]):
        self.nick = nick
        self.shop_names = shop_names
        super().__init__(f"buyer {nick!r} is a customer of several shops: {', '.join(shop_names)}")


@dataclass(frozen=True)
class LineView:
    """One item of an order as the 360 view shows it."""

    title: str
    sku_properties: str | None
    quantity: int
    price: Decimal | None
    paid_amount: Decimal | None
    refund_status: str | None
    refunded_amount: Decimal | None
    category: str | None
    outer_id: str | None


@dataclass(frozen=True)
class ShipmentView:
    """One parcel of an order."""

    carrier_name: str | None
    carrier_code: str | None
    waybill_no: str
    shipped_at: datetime | None
    status: str | None


@dataclass(frozen=True)
class OrderView:
    """One order with its items and parcels."""

    id: str
    order_no: str
    order_name: str | None
    platform: str
    status: str
    status_text: str | None
    close_reason: str | None
    created_at: datetime | None
    paid_at: datetime | None
    shipped_at: datetime | None
    finished_at: datetime | None
    total_amount: Decimal | None
    post_fee: Decimal | None
    paid_amount: Decimal | None
    refunded_amount: Decimal | None
    currency: str
    buyer_message: str | None
    seller_memo: str | None
    receiver_name: str | None
    receiver_phone: str | None
    receiver_province: str | None
    receiver_city: str | None
    receiver_district: str | None
    receiver_address: str | None
    lines: list[LineView] = field(default_factory=list)
    shipments: list[ShipmentView] = field(default_factory=list)

    @property
    def label(self) -> str:
        """How the order is named to a person: Shopify's "#1001", else the order number."""
        return self.order_name or self.order_no


@dataclass(frozen=True)
class NoteView:
    """An agent's note."""

    id: int
    body: str
    author: str | None
    created_at: datetime


@dataclass(frozen=True)
class TimelineEntry:
    """One thing that happened with a customer, for the newest-first timeline."""

    at: datetime
    kind: str  # order_created | order_paid | order_shipped | order_finished | order_closed | note | parcel
    text: str
    order_id: str | None = None


@dataclass(frozen=True)
class RefundSummary:
    """How many orders had money refunded, and how much in all."""

    count: int
    amount: Decimal


@dataclass
class Customer360:
    """Everything about one customer on one page: identity, profile, tags, notes, orders, figures and timeline."""

    customer_id: str
    shop_id: str
    shop_name: str | None
    platform: str
    buyer_key: str
    buyer_nick: str | None
    name: str | None
    phone: str | None
    email: str | None
    province: str | None
    city: str | None
    district: str | None
    gender: str | None
    birthday: date | None
    hobbies: str | None
    personality_type: str | None
    marketing_consent: bool
    tags: list[str]
    notes: list[NoteView]
    orders: list[OrderView]
    orders_count: int
    paid_orders_count: int
    first_order_at: datetime | None
    last_order_at: datetime | None
    total_spent: Decimal
    average_order_value: Decimal | None
    items: dict[str, int]
    categories: dict[str, int]
    median_days_between_orders: float | None
    refunds: RefundSummary
    value_tier: str | None
    timeline: list[TimelineEntry]
    currency: str = "CNY"

    def to_json(self, *, mask: bool = False) -> dict[str, Any]:
        """A JSON-able dict: money as "168.00", times as ISO-8601; names, phones, e-mails and addresses masked when `mask` (display layers mask)."""
        keep = (lambda value, masker: masker(value)) if mask else (lambda value, _masker: value)
        return {
            "id": self.customer_id,
            "shop_id": self.shop_id,
            "shop_name": self.shop_name,
            "platform": self.platform,
            "buyer_nick": self.buyer_nick,
            "name": keep(self.name, mask_name),
            "phone": keep(self.phone, mask_phone),
            "email": keep(self.email, mask_email),
            "province": self.province,
            "city": self.city,
            "district": self.district,
            "gender": self.gender,
            "birthday": self.birthday.isoformat() if self.birthday else None,
            "hobbies": self.hobbies,
            "personality_type": self.personality_type,
            "marketing_consent": self.marketing_consent,
            "tags": list(self.tags),
            "notes": [
                {"id": n.id, "body": n.body, "author": n.author, "created_at": _iso(n.created_at)} for n in self.notes
            ],
            "orders": [_order_json(o, keep) for o in self.orders],
            "orders_count": self.orders_count,
            "paid_orders_count": self.paid_orders_count,
            "first_order_at": _iso(self.first_order_at),
            "last_order_at": _iso(self.last_order_at),
            "total_spent": money_text(self.total_spent),
            "average_order_value": money_text(self.average_order_value),
            "currency": self.currency,
            "items": dict(self.items),
            "categories": dict(self.categories),
            "median_days_between_orders": self.median_days_between_orders,
            "refunds": {"count": self.refunds.count, "amount": money_text(self.refunds.amount)},
            "value_tier": self.value_tier,
            "timeline": [
                {"at": _iso(e.at), "kind": e.kind, "text": e.text, "order_id": e.order_id} for e in self.timeline
            ],
        }


@dataclass(frozen=True)
class CustomerPage:
    """One page of a customer list."""

    items: list[Customer]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        """How many pages the whole list has (at least one)."""
        return max(1, math.ceil(self.total / self.per_page))


def money_text(amount: Decimal | None) -> str | None:
    """Money as text with two decimals ("168.00"), None stays None."""
    return None if amount is None else str(Decimal(amount).quantize(CENT))


def _iso(moment: datetime | date | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _order_json(order: OrderView, keep) -> dict[str, Any]:
    return {
        "id": order.id,
        "order_no": order.order_no,
        "order_name": order.order_name,
        "platform": order.platform,
        "status": order.status,
        "status_text": order.status_text,
        "close_reason": order.close_reason,
        "created_at": _iso(order.created_at),
        "paid_at": _iso(order.paid_at),
        "shipped_at": _iso(order.shipped_at),
        "finished_at": _iso(order.finished_at),
        "total_amount": money_text(order.total_amount),
        "post_fee": money_text(order.post_fee),
        "paid_amount": money_text(order.paid_amount),
        "refunded_amount": money_text(order.refunded_amount),
        "currency": order.currency,
        "buyer_message": order.buyer_message,
        "seller_memo": order.seller_memo,
        "receiver_name": keep(order.receiver_name, mask_name),
        "receiver_phone": keep(order.receiver_phone, mask_phone),
        "receiver_province": order.receiver_province,
        "receiver_city": order.receiver_city,
        "receiver_district": order.receiver_district,
        "receiver_address": keep(order.receiver_address, mask_address),
        "lines": [
            {
                "title": line.title,
                "sku_properties": line.sku_properties,
                "quantity": line.quantity,
                "price": money_text(line.price),
                "paid_amount": money_text(line.paid_amount),
                "refund_status": line.refund_status,
                "refunded_amount": money_text(line.refunded_amount),
                "category": line.category,
                "outer_id": line.outer_id,
            }
            for line in order.lines
        ],
        "shipments": [
            {
                "carrier_name": s.carrier_name,
                "carrier_code": s.carrier_code,
                "waybill_no": s.waybill_no,
                "shipped_at": _iso(s.shipped_at),
                "status": s.status,
            }
            for s in order.shipments
        ],
    }


def find_customer(session: Session, *, nick: str, shop_id: str | None = None) -> Customer | None:
    """The customer with this buyer nick (or platform buyer key) in the shop; AmbiguousCustomer when several shops have one and no shop is given."""
    nick = nick.strip()
    for column in (Customer.buyer_nick, Customer.buyer_key):
        query = select(Customer).where(column == nick)
        if shop_id is not None:
            query = query.where(Customer.shop_id == shop_id)
        found = list(session.scalars(query.order_by(Customer.shop_id, Customer.id).limit(10)))
        if len({c.shop_id for c in found}) > 1:
            names = session.scalars(select(Shop.name).where(Shop.id.in_({c.shop_id for c in found})).order_by(Shop.name))
            raise AmbiguousCustomer(nick, list(names))
        if found:
            return found[0]
    return None


def _orders_of(session: Session, customer_id: str) -> list[OrderView]:
    orders = list(
        session.scalars(
            select(Order).where(Order.customer_id == customer_id).order_by(Order.created_at.desc(), Order.id.desc())
        )
    )
    # Put undated orders (stubs waiting for their details) last, newest-first otherwise, on both databases.
    orders.sort(key=lambda o: (o.created_at is None, -(o.created_at.timestamp() if o.created_at else 0)))
    ids = [o.id for o in orders]
    lines_by_order: dict[str, list[LineView]] = {}
    shipments_by_order: dict[str, list[ShipmentView]] = {}
    if ids:
        rows = session.execute(
            select(OrderLine, Product.category)
            .outerjoin(Product, Product.id == OrderLine.product_id)
            .where(OrderLine.order_id.in_(ids))
            .order_by(OrderLine.order_id, OrderLine.line_no)
        )
        for line, category in rows:
            lines_by_order.setdefault(line.order_id, []).append(
                LineView(line.title, line.sku_properties, line.quantity, line.price, line.paid_amount,
                         line.refund_status, line.refunded_amount, category, line.outer_id)
            )
        for shipment in session.scalars(
            select(Shipment).where(Shipment.order_id.in_(ids)).order_by(Shipment.order_id, Shipment.shipped_at, Shipment.id)
        ):
            shipments_by_order.setdefault(shipment.order_id, []).append(
                ShipmentView(shipment.carrier_name, shipment.carrier_code, shipment.waybill_no, shipment.shipped_at,
                             shipment.status)
            )
    return [
        OrderView(
            id=o.id, order_no=o.order_no, order_name=o.order_name, platform=o.platform, status=o.status,
            status_text=o.status_text, close_reason=o.close_reason, created_at=o.created_at, paid_at=o.paid_at,
            shipped_at=o.shipped_at, finished_at=o.finished_at, total_amount=o.total_amount, post_fee=o.post_fee,
            paid_amount=o.paid_amount, refunded_amount=o.refunded_amount, currency=o.currency,
            buyer_message=o.buyer_message, seller_memo=o.seller_memo, receiver_name=o.receiver_name,
            receiver_phone=o.receiver_phone, receiver_province=o.receiver_province, receiver_city=o.receiver_city,
            receiver_district=o.receiver_district, receiver_address=o.receiver_address,
            lines=lines_by_order.get(o.id, []), shipments=shipments_by_order.get(o.id, []),
        )
        for o in orders
    ]


def _order_text(order: OrderView, amount: Decimal | None) -> str:
    first = order.lines[0].title if order.lines else None
    more = f" 等{len(order.lines)}件" if len(order.lines) > 1 else ""
    parts = [order.label]
    if first:
        parts.append(first + more)
    if amount is not None:
        parts.append(f"{money_text(amount)} {order.currency}")
    return " · ".join(parts)


def build_timeline(orders: list[OrderView], notes: list[NoteView], parcels: dict[str, list[TimelineEvent]] | None = None) -> list[TimelineEntry]:
    """Order events (created, paid, shipped, finished or closed), parcel scans (by order id) and notes, newest first."""
    entries: list[TimelineEntry] = []
    for order in orders:
        amount = order.paid_amount if order.paid_amount is not None else order.total_amount
        events = [
            (order.created_at, "order_created", order.total_amount if order.total_amount is not None else amount),
            (order.paid_at, "order_paid", order.paid_amount),
            (order.shipped_at, "order_shipped", None),
        ]
        if order.status in CLOSED_STATUSES:
            events.append((order.finished_at, "order_closed", order.refunded_amount))
        else:
            events.append((order.finished_at, "order_finished", None))
        for at, kind, money in events:
            if at is None:
                continue
            text = _order_text(order, money)
            if kind == "order_shipped" and order.shipments:
                text += " · " + " ".join(f"{s.carrier_name or s.carrier_code or ''} {s.waybill_no}".strip() for s in order.shipments)
            if kind == "order_closed" and order.close_reason:
                text += " · " + order.close_reason
            entries.append(TimelineEntry(at=at, kind=kind, text=text, order_id=order.id))
    for order_id, scans in (parcels or {}).items():
        entries.extend(TimelineEntry(at=e.at, kind="parcel", text=e.text, order_id=order_id) for e in scans)
    entries.extend(TimelineEntry(at=n.created_at, kind="note", text=n.body) for n in notes)
    order_of_kind = {"order_created": 0, "order_paid": 1, "order_shipped": 2, "parcel": 2, "order_finished": 3, "order_closed": 3, "note": 4}
    entries.sort(key=lambda e: (e.at, order_of_kind.get(e.kind, 5)), reverse=True)
    return entries


def customer_360(session: Session, customer_id: str) -> Customer360 | None:
    """The 360 view of a customer, or None when there is no such customer."""
    customer = session.get(Customer, customer_id)
    if customer is None:
        return None
    shop = session.get(Shop, customer.shop_id)
    tags = list(session.scalars(select(CustomerTag.tag).where(CustomerTag.customer_id == customer_id).order_by(CustomerTag.tag)))
    notes = [
        NoteView(n.id, n.body, n.author, n.created_at)
        for n in session.scalars(
            select(CustomerNote)
            .where(CustomerNote.customer_id == customer_id)
            .order_by(CustomerNote.created_at.desc(), CustomerNote.id.desc())
        )
    ]
    orders = _orders_of(session, customer_id)
    summary = summarise_orders(OrderFacts(o.status, o.created_at, o.paid_amount, o.refunded_amount) for o in orders)
    items: Counter[str] = Counter()
    categories: Counter[str] = Counter()
    for order in orders:
        if order.status not in order_status.PAID:
            continue
        for line in order.lines:
            items[line.title] += line.quantity
            if line.category:
                categories[line.category] += line.quantity
    currencies = {o.currency for o in orders}
    view = Customer360(
        customer_id=customer.id,
        shop_id=customer.shop_id,
        shop_name=shop.name if shop else None,
        platform=customer.platform,
        buyer_key=customer.buyer_key,
        buyer_nick=customer.buyer_nick,
        name=customer.name,
        phone=customer.phone,
        email=customer.email,
        province=customer.province,
        city=customer.city,
        district=customer.district,
        gender=customer.gender,
        birthday=customer.birthday,
        hobbies=customer.hobbies,
        personality_type=customer.personality_type,
        marketing_consent=bool(customer.marketing_consent),
        tags=tags,
        notes=notes,
        orders=orders,
        orders_count=summary.orders_count,
        paid_orders_count=summary.paid_orders_count,
        first_order_at=summary.first_order_at,
        last_order_at=summary.last_order_at,
        total_spent=summary.total_spent,
        average_order_value=summary.average_order_value,
        items=dict(items.most_common()),
        categories=dict(categories.most_common()),
        median_days_between_orders=summary.median_days_between_orders,
        refunds=RefundSummary(summary.refunds_count, summary.refunds_amount),
        value_tier=customer.value_tier,
        timeline=build_timeline(orders, notes, order_parcel_events(session, [o.id for o in orders])),
        currency=currencies.pop() if len(currencies) == 1 else ((shop.settings or {}).get("currency") if shop else None) or "CNY",
    )
    view.timeline = with_alerts(view.timeline, alert_entries(session, customer_id))
    return view


ALERTS_ON_TIMELINE = 50


def alert_entries(session: Session, customer_id: str) -> list[TimelineEntry]:
    """The customer's parcel-watch alerts (newest first) as timeline entries of kind `alert`."""
    rows = session.execute(
        select(Alert.raised_at, Alert.rule, Alert.kind, Alert.order_id)
        .where(Alert.customer_id == customer_id)
        .order_by(Alert.raised_at.desc(), Alert.id)
        .limit(ALERTS_ON_TIMELINE)
    )
    return [TimelineEntry(at=at, kind="alert", text=rule or kind, order_id=order_id) for at, rule, kind, order_id in rows]


def with_alerts(timeline: list[TimelineEntry], alerts: list[TimelineEntry]) -> list[TimelineEntry]:
    """The timeline with alert entries merged in, still newest first (an alert first among entries of its moment)."""
    if not alerts:
        return timeline
    return sorted([*alerts, *timeline], key=lambda e: e.at, reverse=True)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search_customers(
    session: Session,
    *,
    shop_id: str | None = None,
    q: str | None = None,
    tier: str | None = None,
    province: str | None = None,
    tag: str | None = None,
    page: int = 1,
    per_page: int = 50,
    order_by: str = "total_spent",
) -> CustomerPage:
    """A page of customers filtered by shop, nick substring, tier, province and tag; biggest spenders first by default."""
    if order_by not in ORDERINGS:
        raise ValueError(f"order_by: must be one of {', '.join(ORDERINGS)}, got {order_by!r}")
    page = max(1, int(page))
    per_page = max(1, min(int(per_page), 500))
    query = select(Customer)
    if shop_id:
        query = query.where(Customer.shop_id == shop_id)
    if q and q.strip():
        query = query.where(Customer.buyer_nick.ilike(f"%{_escape_like(q.strip())}%", escape="\\"))
    if tier:
        query = query.where(Customer.value_tier == tier)
    if province:
        query = query.where(Customer.province == province)
    if tag:
        query = query.where(
            select(CustomerTag.customer_id)
            .where(CustomerTag.customer_id == Customer.id, CustomerTag.tag == tag)
            .exists()
        )
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    column = getattr(Customer, order_by)
    ordering = column.asc().nulls_last() if order_by == "buyer_nick" else column.desc().nulls_last()
    items = list(
        session.scalars(query.order_by(ordering, Customer.id).limit(per_page).offset((page - 1) * per_page))
    )
    return CustomerPage(items=items, total=total, page=page, per_page=per_page)


def _customer_or_raise(session: Session, customer_id: str) -> Customer:
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise CustomerNotFound(f"no customer with id {customer_id!r}")
    return customer


def add_note(session: Session, customer_id: str, body: str, author: str | None) -> CustomerNote:
    """Write an agent's note on a customer (ValueError naming `body` when it is empty or too long)."""
    _customer_or_raise(session, customer_id)
    body = (body or "").strip()
    if not body:
        raise ValueError("body: a note cannot be empty")
    if len(body) > MAX_NOTE_LENGTH:
        raise ValueError(f"body: a note can be at most {MAX_NOTE_LENGTH} characters")
    note = CustomerNote(customer_id=customer_id, body=body, author=(author or None), created_at=datetime.now(timezone.utc))
    session.add(note)
    session.flush()
    return note


def set_tags(session: Session, customer_id: str, tags: list[str]) -> list[str]:
    """Make the customer's tags exactly these (trimmed, de-duplicated); returns them sorted."""
    _customer_or_raise(session, customer_id)
    wanted: list[str] = []
    for raw in tags:
        tag = (raw or "").strip()
        if not tag:
            continue
        if len(tag) > MAX_TAG_LENGTH:
            raise ValueError(f"tags: {tag[:20]!r}… is longer than {MAX_TAG_LENGTH} characters")
        if tag not in wanted:
            wanted.append(tag)
    existing = {t.tag: t for t in session.scalars(select(CustomerTag).where(CustomerTag.customer_id == customer_id))}
    for tag, row in existing.items():
        if tag not in wanted:
            session.delete(row)
    for tag in wanted:
        if tag not in existing:
            session.add(CustomerTag(customer_id=customer_id, tag=tag))
    session.flush()
    return sorted(wanted)


def _profile_value(name: str, value: Any) -> Any:
    if name == "gender":
        if value is None or value == "":
            return None
        gender = GENDERS.get(str(value).strip().lower())
        if gender is None:
            raise ValueError(f"gender: must be female or male (女/男), got {value!r}")
        return gender
    if name == "birthday":
        if value is None or value == "":
            return None
        if isinstance(value, datetime):
            value = value.date()
        if isinstance(value, str):
            try:
                value = date.fromisoformat(value.strip())
            except ValueError as exc:
                raise ValueError(f"birthday: not a date in YYYY-MM-DD form: {value!r}") from exc
        if not isinstance(value, date):
            raise ValueError(f"birthday: not a date: {value!r}")
        if value > date.today() or value.year < 1900:
            raise ValueError(f"birthday: {value.isoformat()} is not a plausible birthday")
        return value
    if name in ("hobbies", "personality_type"):
        if value is None:
            return None
        if not isinstance(value, str):
            raise ValueError(f"{name}: must be text, got {type(value).__name__}")
        value = value.strip()
        limit = MAX_HOBBIES_LENGTH if name == "hobbies" else MAX_PERSONALITY_LENGTH
        if len(value) > limit:
            raise ValueError(f"{name}: at most {limit} characters")
        return value or None
    if name == "marketing_consent":
        if isinstance(value, bool):
            return value
        raise ValueError(f"marketing_consent: must be true or false, got {value!r}")
    raise ValueError(f"{name}: not a profile field (allowed: {', '.join(PROFILE_FIELDS)})")


def update_profile(session: Session, customer_id: str, **fields: Any) -> Customer:
    """Change profile fields (gender, birthday, hobbies, personality_type, marketing_consent); ValueError naming a bad field, nothing changed then."""
    customer = _customer_or_raise(session, customer_id)
    cleaned = {name: _profile_value(name, value) for name, value in fields.items()}
    for name, value in cleaned.items():
        setattr(customer, name, value)
    session.flush()
    return customer
