"""Reading Shopify webhook payloads (orders, refunds, fulfillments) into plain dataclasses on the TOP status set."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

from kefu.domain import order_status

ORDER_TOPICS = frozenset(
    {
        "orders/create",
        "orders/updated",
        "orders/paid",
        "orders/cancelled",
        "orders/fulfilled",
        "orders/partially_fulfilled",
    }
)
REFUND_TOPICS = frozenset({"refunds/create"})
FULFILLMENT_TOPICS = frozenset({"fulfillments/create", "fulfillments/update"})
TOPICS = ORDER_TOPICS | REFUND_TOPICS | FULFILLMENT_TOPICS

# Financial states in which the buyer's money has arrived (some may have gone back since).
MONEY_RECEIVED = frozenset({"paid", "partially_paid", "partially_refunded", "refunded"})
AWAITING_PAYMENT = frozenset({"pending", "authorized"})
NEVER_PAID = frozenset({"voided", "expired"})
# Fulfillment states that mean a parcel really left (pending/open are still in the warehouse, the rest failed).
SHIPPED_FULFILLMENTS = frozenset({"success"})
ZERO = Decimal("0.00")
CENT = Decimal("0.01")


class ShopifyPayloadError(ValueError):
    """A payload that is not what its topic promises; the message names the field."""


class UnknownTopic(ValueError):
    """A webhook topic kefu does not take in."""


@dataclass(frozen=True)
class ShopifyCustomer:
    """The buyer of a Shopify order."""

    customer_id: str | None
    email: str | None
    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = None
    province: str | None = None
    city: str | None = None
    marketing_consent: bool | None = None

    @property
    def buyer_key(self) -> str | None:
        """The identity kefu keeps: the Shopify customer id, else the e-mail address (lower case)."""
        if self.customer_id:
            return self.customer_id
        return self.email.strip().lower() if self.email else None

    @property
    def full_name(self) -> str | None:
        """First and last name joined, None when neither is known."""
        name = " ".join(part for part in (self.first_name, self.last_name) if part)
        return name or None

    @property
    def display_nick(self) -> str | None:
        """What kefu shows as the buyer's nick: the e-mail, else the name, else the customer id."""
        return self.email or self.full_name or self.customer_id


@dataclass(frozen=True)
class ShopifyLine:
    """One line item."""

    line_id: str
    title: str
    quantity: int
    price: Decimal | None
    total_discount: Decimal = ZERO
    variant_title: str | None = None
    sku: str | None = None
    product_id: str | None = None
    variant_id: str | None = None

    @property
    def paid_amount(self) -> Decimal | None:
        """Price × quantity less the line's discount."""
        if self.price is None:
            return None
        return max(self.price * self.quantity - self.total_discount, ZERO).quantize(CENT)


@dataclass(frozen=True)
class ShopifyFulfillment:
    """A fulfillment: which items left, with which carrier and tracking numbers, and whether they arrived."""

    fulfillment_id: str
    order_no: str
    status: str | None
    shipment_status: str | None
    tracking_company: str | None
    tracking_numbers: tuple[str, ...]
    created_at: datetime | None
    updated_at: datetime | None
    line_quantities: Mapping[str, int] = field(default_factory=dict)

    @property
    def shipped(self) -> bool:
        """The parcel really left (a fulfillment with no status counts as shipped)."""
        return self.status is None or self.status in SHIPPED_FULFILLMENTS

    @property
    def delivered(self) -> bool:
        """The carrier reported delivery."""
        return self.shipment_status == "delivered"


@dataclass(frozen=True)
class ShopifyRefund:
    """A refund: the money sent back and the line items it covered."""

    refund_id: str
    order_no: str
    amount: Decimal
    created_at: datetime | None
    line_amounts: Mapping[str, Decimal] = field(default_factory=dict)
    line_quantities: Mapping[str, int] = field(default_factory=dict)
    note: str | None = None


@dataclass(frozen=True)
class ShopifyOrder:
    """An order as kefu keeps it: TOP status, money as Decimal, ids as text, lines, parcels and refunds."""

    order_no: str
    order_name: str | None
    status: str
    financial_status: str | None
    fulfillment_status: str | None
    cancelled_at: datetime | None
    cancel_reason: str | None
    created_at: datetime | None
    updated_at: datetime | None
    processed_at: datetime | None
    closed_at: datetime | None
    currency: str
    total_amount: Decimal | None
    goods_amount: Decimal | None
    post_fee: Decimal | None
    paid_amount: Decimal | None
    customer: ShopifyCustomer | None
    lines: tuple[ShopifyLine, ...] = ()
    fulfillments: tuple[ShopifyFulfillment, ...] = ()
    refunds: tuple[ShopifyRefund, ...] = ()
    note: str | None = None
    receiver_name: str | None = None
    receiver_phone: str | None = None
    receiver_province: str | None = None
    receiver_city: str | None = None
    receiver_address: str | None = None
    shipping_method: str | None = None
    cancelled: bool = False

    @property
    def refunded_amount(self) -> Decimal:
        """All refunds of the order added up."""
        return sum((r.amount for r in self.refunds), ZERO)


@dataclass(frozen=True)
class ShopifyEvent:
    """One webhook, parsed: exactly one of order, refund and fulfillment is set."""

    topic: str
    order: ShopifyOrder | None = None
    refund: ShopifyRefund | None = None
    fulfillment: ShopifyFulfillment | None = None

    @property
    def order_no(self) -> str:
        """The Shopify order id the event is about."""
        if self.order is not None:
            return self.order.order_no
        if self.refund is not None:
            return self.refund.order_no
        assert self.fulfillment is not None
        return self.fulfillment.order_no


# ---- field readers: each names the field it could not read ----


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _id(payload: Mapping[str, Any], key: str, where: str, *, required: bool = False) -> str | None:
    value = payload.get(key)
    if value is None or value == "":
        if required:
            raise ShopifyPayloadError(f"{where}{key}: missing")
        return None
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ShopifyPayloadError(f"{where}{key}: not an id: {value!r}")
    text = str(value).strip()
    if isinstance(value, str) and not text:
        if required:
            raise ShopifyPayloadError(f"{where}{key}: missing")
        return None
    return text


def _money(value: Any, field_name: str) -> Decimal | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ShopifyPayloadError(f"{field_name}: not an amount: {value!r}")
    try:  # Shopify sends decimal strings; a stray JSON number goes through its shortest text, never binary float maths
        amount = Decimal(str(value).strip())
    except InvalidOperation as exc:
        raise ShopifyPayloadError(f"{field_name}: not an amount: {value!r}") from exc
    if not amount.is_finite():
        raise ShopifyPayloadError(f"{field_name}: not an amount: {value!r}")
    return amount.quantize(CENT)


def _shop_money(payload: Mapping[str, Any], set_key: str, plain_key: str | None = None) -> Decimal | None:
    """An amount from a `*_set` object (shop currency), else from the plain field."""
    money_set = payload.get(set_key)
    if isinstance(money_set, Mapping):
        shop_money = money_set.get("shop_money")
        if isinstance(shop_money, Mapping) and shop_money.get("amount") is not None:
            return _money(shop_money.get("amount"), f"{set_key}.shop_money.amount")
    if plain_key is not None:
        return _money(payload.get(plain_key), plain_key)
    return None


def _time(value: Any, field_name: str) -> datetime | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ShopifyPayloadError(f"{field_name}: not a time: {value!r}")
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise ShopifyPayloadError(f"{field_name}: not an ISO-8601 time: {value!r}") from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def _int(value: Any, field_name: str, default: int = 0) -> int:
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        raise ShopifyPayloadError(f"{field_name}: not a whole number: {value!r}")
    try:
        number = int(str(value).strip())
    except ValueError as exc:
        raise ShopifyPayloadError(f"{field_name}: not a whole number: {value!r}") from exc
    return number


def _list(payload: Mapping[str, Any], key: str, where: str = "") -> list[Mapping[str, Any]]:
    value = payload.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, Mapping) for item in value):
        raise ShopifyPayloadError(f"{where}{key}: must be a list of objects")
    return value


def _object(payload: Mapping[str, Any], key: str) -> Mapping[str, Any] | None:
    value = payload.get(key)
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise ShopifyPayloadError(f"{key}: must be an object")
    return value


# ---- status mapping ----


def fulfillment_progress(line_quantities: Mapping[str, int], fulfillments: Iterable[ShopifyFulfillment]) -> str | None:
    """Shopify's order fulfillment_status worked out from the shipped fulfillments: None, "partial" or "fulfilled"."""
    shipped = [f for f in fulfillments if f.shipped]
    if not shipped:
        return None
    if not line_quantities:
        return "partial"
    sent: dict[str, int] = {}
    for fulfillment in shipped:
        for line_id, quantity in fulfillment.line_quantities.items():
            sent[line_id] = sent.get(line_id, 0) + quantity
    if all(sent.get(line_id, 0) >= quantity for line_id, quantity in line_quantities.items()):
        return "fulfilled"
    return "partial"


def all_delivered(fulfillments: Iterable[ShopifyFulfillment]) -> bool:
    """Every shipped fulfillment (and at least one) was reported delivered."""
    shipped = [f for f in fulfillments if f.shipped]
    return bool(shipped) and all(f.delivered for f in shipped)


def top_status(financial_status: str | None, fulfillment_status: str | None, *, cancelled: bool, delivered: bool = False) -> str:
    """The TOP status for Shopify's financial and fulfillment status, cancellation and delivery."""
    money = (financial_status or "").strip().lower()
    goods = (fulfillment_status or "").strip().lower()
    if money == "refunded":
        return order_status.TRADE_CLOSED
    if money in NEVER_PAID:
        return order_status.TRADE_CLOSED_BY_TAOBAO
    if cancelled:
        return order_status.TRADE_CLOSED if money in MONEY_RECEIVED else order_status.TRADE_CLOSED_BY_TAOBAO
    if money in AWAITING_PAYMENT:
        return order_status.WAIT_BUYER_PAY
    if money in MONEY_RECEIVED:
        if goods == "fulfilled":
            return order_status.TRADE_FINISHED if delivered else order_status.WAIT_BUYER_CONFIRM_GOODS
        if goods == "partial":
            return order_status.SELLER_CONSIGNED_PART
        return order_status.WAIT_SELLER_SEND_GOODS
    return order_status.UNKNOWN


# ---- payload parsers ----


def parse_customer(payload: Mapping[str, Any] | None, *, email: str | None = None) -> ShopifyCustomer | None:
    """The order's customer object (with the order's e-mail as a fallback), None when neither says who bought."""
    payload = payload or {}
    address = payload.get("default_address") if isinstance(payload.get("default_address"), Mapping) else {}
    consent = payload.get("email_marketing_consent")
    marketing = None
    if isinstance(consent, Mapping) and consent.get("state"):
        marketing = consent.get("state") == "subscribed"
    elif isinstance(payload.get("accepts_marketing"), bool):
        marketing = payload["accepts_marketing"]
    customer = ShopifyCustomer(
        customer_id=_id(payload, "id", "customer."),
        email=_text(payload.get("email")) or _text(email),
        first_name=_text(payload.get("first_name")),
        last_name=_text(payload.get("last_name")),
        phone=_text(payload.get("phone")) or _text(address.get("phone")),
        province=_text(address.get("province")),
        city=_text(address.get("city")),
        marketing_consent=marketing,
    )
    return customer if customer.buyer_key else None


def parse_line(payload: Mapping[str, Any], index: int) -> ShopifyLine:
    """One entry of `line_items`."""
    where = f"line_items[{index}]."
    discount = _money(payload.get("total_discount"), where + "total_discount") or ZERO
    allocations = payload.get("discount_allocations")
    if not discount and isinstance(allocations, list):
        discount = sum(
            (_money(a.get("amount"), where + "discount_allocations.amount") or ZERO for a in allocations if isinstance(a, Mapping)),
            ZERO,
        )
    return ShopifyLine(
        line_id=_id(payload, "id", where, required=True) or "",
        title=_text(payload.get("title")) or _text(payload.get("name")) or "(untitled)",
        quantity=_int(payload.get("quantity"), where + "quantity", default=1),
        price=_money(payload.get("price"), where + "price"),
        total_discount=discount,
        variant_title=_text(payload.get("variant_title")),
        sku=_text(payload.get("sku")),
        product_id=_id(payload, "product_id", where),
        variant_id=_id(payload, "variant_id", where),
    )


def _tracking_numbers(payload: Mapping[str, Any]) -> tuple[str, ...]:
    numbers: list[str] = []
    many = payload.get("tracking_numbers")
    if isinstance(many, list):
        numbers.extend(str(n).strip() for n in many if n is not None and str(n).strip())
    one = _text(payload.get("tracking_number"))
    if one and one not in numbers:
        numbers.insert(0, one)
    return tuple(dict.fromkeys(numbers))


def parse_fulfillment(payload: Mapping[str, Any], *, order_no: str | None = None) -> ShopifyFulfillment:
    """A fulfillment object (the fulfillments/* payload, or one entry of an order's `fulfillments`)."""
    quantities: dict[str, int] = {}
    for index, item in enumerate(_list(payload, "line_items", "fulfillment.")):
        line_id = _id(item, "id", f"fulfillment.line_items[{index}].")
        if line_id:
            quantities[line_id] = quantities.get(line_id, 0) + _int(item.get("quantity"), "fulfillment.line_items.quantity", 1)
    return ShopifyFulfillment(
        fulfillment_id=_id(payload, "id", "fulfillment.", required=True) or "",
        order_no=order_no or _id(payload, "order_id", "fulfillment.", required=True) or "",
        status=(_text(payload.get("status")) or "").lower() or None,
        shipment_status=(_text(payload.get("shipment_status")) or "").lower() or None,
        tracking_company=_text(payload.get("tracking_company")),
        tracking_numbers=_tracking_numbers(payload),
        created_at=_time(payload.get("created_at"), "fulfillment.created_at"),
        updated_at=_time(payload.get("updated_at"), "fulfillment.updated_at"),
        line_quantities=quantities,
    )


def parse_refund(payload: Mapping[str, Any], *, order_no: str | None = None) -> ShopifyRefund:
    """A refund object: the money is what its successful "refund" transactions sent back."""
    amount = ZERO
    for index, transaction in enumerate(_list(payload, "transactions", "refund.")):
        kind = (_text(transaction.get("kind")) or "").lower()
        status = (_text(transaction.get("status")) or "success").lower()
        if kind == "refund" and status == "success":
            amount += _money(transaction.get("amount"), f"refund.transactions[{index}].amount") or ZERO
    line_amounts: dict[str, Decimal] = {}
    line_quantities: dict[str, int] = {}
    for index, item in enumerate(_list(payload, "refund_line_items", "refund.")):
        where = f"refund.refund_line_items[{index}]."
        line_id = _id(item, "line_item_id", where)
        if not line_id:
            continue
        subtotal = _shop_money(item, "subtotal_set", "subtotal") or ZERO
        line_amounts[line_id] = line_amounts.get(line_id, ZERO) + subtotal
        line_quantities[line_id] = line_quantities.get(line_id, 0) + _int(item.get("quantity"), where + "quantity", 0)
    return ShopifyRefund(
        refund_id=_id(payload, "id", "refund.", required=True) or "",
        order_no=order_no or _id(payload, "order_id", "refund.", required=True) or "",
        amount=amount,
        created_at=_time(payload.get("created_at") or payload.get("processed_at"), "refund.created_at"),
        line_amounts=line_amounts,
        line_quantities=line_quantities,
        note=_text(payload.get("note")),
    )


def parse_order(payload: Mapping[str, Any], *, cancelled: bool = False) -> ShopifyOrder:
    """An order object (orders/* payloads): status on the TOP set, money as Decimal, ids as text (`cancelled` for orders/cancelled)."""
    order_no = _id(payload, "id", "", required=True) or ""
    financial = (_text(payload.get("financial_status")) or "").lower() or None
    fulfillment = (_text(payload.get("fulfillment_status")) or "").lower() or None
    cancelled_at = _time(payload.get("cancelled_at"), "cancelled_at")
    cancelled = cancelled or cancelled_at is not None
    lines = tuple(parse_line(item, i) for i, item in enumerate(_list(payload, "line_items")))
    fulfillments = tuple(parse_fulfillment(f, order_no=order_no) for f in _list(payload, "fulfillments"))
    refunds = tuple(parse_refund(r, order_no=order_no) for r in _list(payload, "refunds"))
    total = _shop_money(payload, "total_price_set", "total_price")
    outstanding = _money(payload.get("total_outstanding"), "total_outstanding")
    paid: Decimal | None = None
    if financial in MONEY_RECEIVED and total is not None:
        paid = max(total - (outstanding or ZERO), ZERO) if financial == "partially_paid" else total
    shipping = _object(payload, "shipping_address") or {}
    street = " ".join(p for p in (_text(shipping.get("address1")), _text(shipping.get("address2"))) if p) or None
    shipping_lines = _list(payload, "shipping_lines")
    return ShopifyOrder(
        order_no=order_no,
        order_name=_text(payload.get("name")),
        status=top_status(financial, fulfillment, cancelled=cancelled, delivered=all_delivered(fulfillments)),
        financial_status=financial,
        fulfillment_status=fulfillment,
        cancelled_at=cancelled_at,
        cancel_reason=_text(payload.get("cancel_reason")),
        created_at=_time(payload.get("created_at"), "created_at"),
        updated_at=_time(payload.get("updated_at"), "updated_at"),
        processed_at=_time(payload.get("processed_at"), "processed_at"),
        closed_at=_time(payload.get("closed_at"), "closed_at"),
        currency=(_text(payload.get("currency")) or "USD").upper()[:3],
        total_amount=total,
        goods_amount=_shop_money(payload, "subtotal_price_set", "subtotal_price"),
        post_fee=_shop_money(payload, "total_shipping_price_set"),
        paid_amount=paid,
        customer=parse_customer(_object(payload, "customer"), email=_text(payload.get("email")) or _text(payload.get("contact_email"))),
        lines=lines,
        fulfillments=fulfillments,
        refunds=refunds,
        note=_text(payload.get("note")),
        receiver_name=_text(shipping.get("name")),
        receiver_phone=_text(shipping.get("phone")),
        receiver_province=_text(shipping.get("province")),
        receiver_city=_text(shipping.get("city")),
        receiver_address=street,
        shipping_method=_text(shipping_lines[0].get("title")) if shipping_lines else None,
        cancelled=cancelled,
    )


def parse_webhook(topic: str, payload: Any) -> ShopifyEvent:
    """A webhook's topic and decoded JSON body as an event; UnknownTopic or ShopifyPayloadError (naming the field) otherwise."""
    topic = (topic or "").strip().lower()
    if topic not in TOPICS:
        raise UnknownTopic(f"topic not taken in: {topic or '(none)'}")
    if not isinstance(payload, Mapping):
        raise ShopifyPayloadError(f"body: a {topic} payload must be a JSON object")
    if topic in ORDER_TOPICS:
        return ShopifyEvent(topic, order=parse_order(payload, cancelled=topic == "orders/cancelled"))
    if topic in REFUND_TOPICS:
        return ShopifyEvent(topic, refund=parse_refund(payload))
    return ShopifyEvent(topic, fulfillment=parse_fulfillment(payload))
