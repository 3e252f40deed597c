import json
from datetime import datetime, timezone
from decimal import Decimal

import pytest

from kefu.domain import order_status as s
from kefu.ingest.shopify import (
    ShopifyPayloadError,
    UnknownTopic,
    fulfillment_progress,
    parse_fulfillment,
    parse_webhook,
    top_status,
)


def load(fixtures_dir, name):
    return json.loads((fixtures_dir / "shopify" / name).read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    "financial, fulfillment, cancelled, delivered, expected",
    [
        ("pending", None, False, False, s.WAIT_BUYER_PAY),
        ("authorized", None, False, False, s.WAIT_BUYER_PAY),
        ("paid", None, False, False, s.WAIT_SELLER_SEND_GOODS),
        ("partially_paid", "unfulfilled", False, False, s.WAIT_SELLER_SEND_GOODS),
        ("paid", "partial", False, False, s.SELLER_CONSIGNED_PART),
        ("paid", "fulfilled", False, False, s.WAIT_BUYER_CONFIRM_GOODS),
        ("paid", "fulfilled", False, True, s.TRADE_FINISHED),
        ("partially_refunded", "fulfilled", False, True, s.TRADE_FINISHED),
        ("refunded", "fulfilled", False, False, s.TRADE_CLOSED),
        ("paid", None, True, False, s.TRADE_CLOSED),
        ("voided", None, False, False, s.TRADE_CLOSED_BY_TAOBAO),
        ("pending", None, True, False, s.TRADE_CLOSED_BY_TAOBAO),
        ("authorized", None, True, False, s.TRADE_CLOSED_BY_TAOBAO),
        ("PAID", None, False, False, s.WAIT_SELLER_SEND_GOODS),
        (None, None, False, False, s.UNKNOWN),
        ("something_new", None, False, False, s.UNKNOWN),
    ],
)
def test_status_mapping(financial, fulfillment, cancelled, delivered, expected):
    assert top_status(financial, fulfillment, cancelled=cancelled, delivered=delivered) == expected


def test_the_documented_minimal_order():
    event = parse_webhook("orders/create", {"id": 820982911946154508, "name": "#1001", "financial_status": "paid"})
    assert event.order is not None
    assert event.order.order_no == "820982911946154508"  # exact, as text
    assert event.order.order_name == "#1001"
    assert event.order.status == s.WAIT_SELLER_SEND_GOODS
    assert event.order.customer is None


def test_a_full_order(fixtures_dir):
    order = parse_webhook("orders/paid", load(fixtures_dir, "order_paid.json")).order
    assert order.order_no == "5829301847261"
    assert order.total_amount == Decimal("168.00")
    assert order.goods_amount == Decimal("158.00")
    assert order.post_fee == Decimal("10.00")
    assert order.paid_amount == Decimal("168.00")
    assert isinstance(order.paid_amount, Decimal)
    assert order.currency == "CNY"
    assert order.created_at == datetime(2025, 3, 10, 12, 41, 7, tzinfo=timezone.utc)
    assert order.customer.customer_id == "7301928374650"
    assert order.customer.buyer_key == "7301928374650"
    assert order.customer.full_name == "Lin Test"
    assert order.customer.marketing_consent is True
    assert [line.line_id for line in order.lines] == ["14000000000001", "14000000000002"]
    socks = order.lines[1]
    assert (socks.quantity, socks.price, socks.paid_amount) == (2, Decimal("34.50"), Decimal("59.00"))
    assert socks.product_id == "8000000000002"
    assert order.receiver_address == "1 Example Road Room 101"
    assert order.shipping_method == "Standard"


def test_pending_orders_have_not_paid(fixtures_dir):
    order = parse_webhook("orders/create", load(fixtures_dir, "order_guest_pending.json")).order
    assert order.status == s.WAIT_BUYER_PAY
    assert order.paid_amount is None
    assert order.total_amount == Decimal("45.00")


def test_cancelled_topic_closes_even_without_a_cancel_time():
    order = parse_webhook("orders/cancelled", {"id": 1, "financial_status": "paid"}).order
    assert order.status == s.TRADE_CLOSED
    order = parse_webhook("orders/cancelled", {"id": 2, "financial_status": "pending"}).order
    assert order.status == s.TRADE_CLOSED_BY_TAOBAO


def test_customer_without_id_is_known_by_email():
    order = parse_webhook("orders/create", {"id": 3, "email": "Guest.Buyer@Example.com", "financial_status": "paid"}).order
    assert order.customer.customer_id is None
    assert order.customer.buyer_key == "guest.buyer@example.com"


def test_delivered_fulfillment_finishes_a_fulfilled_order(fixtures_dir):
    payload = load(fixtures_dir, "order_fulfilled.json")
    assert parse_webhook("orders/fulfilled", payload).order.status == s.WAIT_BUYER_CONFIRM_GOODS
    payload["fulfillments"][0]["shipment_status"] = "delivered"
    assert parse_webhook("orders/fulfilled", payload).order.status == s.TRADE_FINISHED


def test_refund_counts_only_successful_refund_transactions(fixtures_dir):
    refund = parse_webhook("refunds/create", load(fixtures_dir, "refund.json")).refund
    assert refund.order_no == "5829301847261"
    assert refund.refund_id == "9100000000001"
    assert refund.amount == Decimal("59.00")
    assert refund.line_amounts == {"14000000000002": Decimal("59.00")}


def test_fulfillment(fixtures_dir):
    fulfillment = parse_webhook("fulfillments/create", load(fixtures_dir, "fulfillment_early.json")).fulfillment
    assert fulfillment.order_no == "5829301999999"
    assert fulfillment.tracking_numbers == ("ZT7800000000001", "ZT7800000000002")
    assert fulfillment.tracking_company == "中通快递"
    assert fulfillment.shipped and not fulfillment.delivered


def test_fulfillment_progress():
    lines = {"a": 1, "b": 2}
    first = parse_fulfillment({"id": 1, "order_id": 9, "status": "success", "line_items": [{"id": "a", "quantity": 1}]})
    second = parse_fulfillment({"id": 2, "order_id": 9, "status": "success", "line_items": [{"id": "b", "quantity": 2}]})
    cancelled = parse_fulfillment({"id": 3, "order_id": 9, "status": "cancelled", "line_items": [{"id": "b", "quantity": 2}]})
    assert fulfillment_progress(lines, []) is None
    assert fulfillment_progress(lines, [first]) == "partial"
    assert fulfillment_progress(lines, [first, cancelled]) == "partial"
    assert fulfillment_progress(lines, [first, second]) == "fulfilled"


def test_unknown_topic():
    with pytest.raises(UnknownTopic):
        parse_webhook("products/update", {"id": 1})


@pytest.mark.parametrize(
    "topic, payload, field",
    [
        ("orders/create", {"name": "#1"}, "id: missing"),
        ("orders/create", {"id": 1, "total_price": "twelve"}, "total_price"),
        ("orders/create", {"id": 1, "created_at": "yesterday"}, "created_at"),
        ("orders/create", {"id": 1, "line_items": [{"id": 5, "quantity": "many"}]}, r"line_items\[0\].quantity"),
        ("orders/create", {"id": 1, "line_items": "none"}, "line_items"),
        ("refunds/create", {"id": 1}, "refund.order_id"),
        ("refunds/create", {"id": 1, "order_id": 2, "transactions": [{"kind": "refund", "amount": "x"}]}, r"transactions\[0\].amount"),
        ("fulfillments/create", {"order_id": 2}, "fulfillment.id"),
        ("orders/create", [1, 2], "JSON object"),
    ],
)
def test_bad_payloads_name_the_field(topic, payload, field):
    with pytest.raises(ShopifyPayloadError, match=field):
        parse_webhook(topic, payload)
