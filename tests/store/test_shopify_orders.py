import json
from datetime import datetime, timezone
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from kefu.domain import order_status as s
from kefu.ids import customer_id, order_id
from kefu.ingest.shopify import parse_webhook
from kefu.services.customer360 import customer_360
from kefu.services.shopify_orders import apply_shopify_event, receive_delivery
from kefu.store.tables import Customer, Order, OrderLine, Product, Shipment, Shop, WebhookDelivery

DOMAIN = "kefu-test.myshopify.com"


def load(fixtures_dir, name):
    return json.loads((fixtures_dir / "shopify" / name).read_text(encoding="utf-8"))


def apply(store, topic, payload, domain=DOMAIN):
    with store.session() as session:
        return apply_shopify_event(session, domain, parse_webhook(topic, payload))


def the_order(store, order_no="5829301847261"):
    with store.session() as session:
        shop = session.scalar(select(Shop).where(Shop.domain == DOMAIN))
        return session.get(Order, order_id(shop.id, order_no))


def test_a_paid_order_lands_with_its_shop_customer_and_lines(store, fixtures_dir):
    applied = apply(store, "orders/create", load(fixtures_dir, "order_paid.json"))
    assert applied.order_created
    with store.session() as session:
        shop = session.scalar(select(Shop).where(Shop.domain == DOMAIN))
        assert (shop.platform, shop.name) == ("shopify", DOMAIN)
        order = session.get(Order, order_id(shop.id, "5829301847261"))
        assert order.order_no == "5829301847261" and order.order_name == "#1001"
        assert order.status == s.WAIT_SELLER_SEND_GOODS
        assert (order.total_amount, order.paid_amount, order.post_fee) == (Decimal("168.00"), Decimal("168.00"), Decimal("10.00"))
        assert order.created_at == datetime(2025, 3, 10, 12, 41, 7, tzinfo=timezone.utc)
        assert order.source == "shopify_webhook" and order.platform == "shopify"
        assert order.receiver_province == "Zhejiang"
        customer = session.get(Customer, customer_id(shop.id, "shopify", "7301928374650"))
        assert order.customer_id == customer.id
        assert customer.email == "lin.test@example.com" and customer.name == "Lin Test"
        assert customer.marketing_consent is True
        # figures were refreshed after the upsert
        assert (customer.orders_count, customer.paid_orders_count, customer.total_spent) == (1, 1, Decimal("168.00"))
        assert customer.value_tier == "top"
        lines = session.scalars(select(OrderLine).where(OrderLine.order_id == order.id).order_by(OrderLine.line_no)).all()
        assert [(line.title, line.quantity, line.paid_amount, line.sub_order_no) for line in lines] == [
            ("Linen Shirt", 1, Decimal("99.00"), "14000000000001"),
            ("Cotton Socks", 2, Decimal("59.00"), "14000000000002"),
        ]
        assert session.get(Product, lines[0].product_id).platform_item_id == "8000000000001"


def test_the_same_order_twice_is_one_order(store, fixtures_dir):
    apply(store, "orders/create", load(fixtures_dir, "order_paid.json"))
    again = apply(store, "orders/paid", load(fixtures_dir, "order_paid.json"))
    assert not again.order_created
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(Order)) == 1
        assert session.scalar(select(func.count()).select_from(OrderLine)) == 2
        assert session.scalar(select(func.count()).select_from(Customer)) == 1


def test_fulfilment_then_delivery_then_refund(store, fixtures_dir):
    apply(store, "orders/create", load(fixtures_dir, "order_paid.json"))
    apply(store, "orders/fulfilled", load(fixtures_dir, "order_fulfilled.json"))
    order = the_order(store)
    assert order.status == s.WAIT_BUYER_CONFIRM_GOODS
    assert order.shipped_at == datetime(2025, 3, 11, 2, 0, tzinfo=timezone.utc)
    with store.session() as session:
        shipment = session.scalar(select(Shipment).where(Shipment.order_id == order.id))
        assert (shipment.waybill_no, shipment.carrier_code, shipment.carrier_name) == ("SF1400000000001", "shunfeng", "SF Express")
    apply(store, "fulfillments/update", load(fixtures_dir, "fulfillment_delivered.json"))
    order = the_order(store)
    assert order.status == s.TRADE_FINISHED
    assert order.finished_at == datetime(2025, 3, 14, 3, 30, tzinfo=timezone.utc)
    apply(store, "refunds/create", load(fixtures_dir, "refund.json"))
    apply(store, "refunds/create", load(fixtures_dir, "refund.json"))  # a repeat is not counted twice
    order = the_order(store)
    assert order.refunded_amount == Decimal("59.00")
    with store.session() as session:
        socks = session.get(OrderLine, f"{order.id}:14000000000002")
        assert socks.refunded_amount == Decimal("59.00") and socks.refund_status == "SUCCESS"
        assert session.scalar(select(func.count()).select_from(Shipment)) == 1
        buyer = session.get(Customer, order.customer_id)
        assert buyer.total_spent == Decimal("109.00")


def test_an_older_order_payload_does_not_undo_a_newer_one(store, fixtures_dir):
    apply(store, "orders/fulfilled", load(fixtures_dir, "order_fulfilled.json"))
    stale = apply(store, "orders/create", load(fixtures_dir, "order_paid.json"))  # arrives late
    assert stale.stale
    assert the_order(store).status == s.WAIT_BUYER_CONFIRM_GOODS


def test_a_fulfillment_before_its_order_makes_a_stub_the_order_completes(store, fixtures_dir):
    applied = apply(store, "fulfillments/create", load(fixtures_dir, "fulfillment_early.json"))
    assert applied.order_created and applied.customer_id is None
    stub = the_order(store, "5829301999999")
    assert stub.status == s.UNKNOWN
    with store.session() as session:
        waybills = sorted(session.scalars(select(Shipment.waybill_no).where(Shipment.order_id == stub.id)))
        assert waybills == ["ZT7800000000001", "ZT7800000000002"]
        assert session.scalar(select(Shipment.carrier_code).where(Shipment.order_id == stub.id).limit(1)) == "zhongtong"
    order = {
        "id": 5829301999999, "name": "#1003", "email": "late@example.com", "financial_status": "paid",
        "fulfillment_status": "fulfilled", "total_price": "12.00", "created_at": "2025-03-31T10:00:00Z",
        "updated_at": "2025-04-01T10:00:00Z",
        "line_items": [{"id": 14000000000701, "title": "Mug", "quantity": 1, "price": "12.00"}],
    }
    apply(store, "orders/updated", order)
    done = the_order(store, "5829301999999")
    assert done.status == s.WAIT_BUYER_CONFIRM_GOODS
    assert done.order_name == "#1003" and done.paid_amount == Decimal("12.00")
    with store.session() as session:
        assert session.get(Customer, done.customer_id).buyer_key == "late@example.com"


def test_a_refund_before_its_order(store, fixtures_dir):
    apply(store, "refunds/create", load(fixtures_dir, "refund.json"))
    assert the_order(store).status == s.UNKNOWN
    assert the_order(store).refunded_amount == Decimal("59.00")
    apply(store, "orders/updated", load(fixtures_dir, "order_paid.json"))
    order = the_order(store)
    assert order.status == s.WAIT_SELLER_SEND_GOODS
    assert order.refunded_amount == Decimal("59.00")
    with store.session() as session:
        assert session.get(Customer, order.customer_id).total_spent == Decimal("109.00")


def test_guest_order_then_cancelled(store, fixtures_dir):
    apply(store, "orders/create", load(fixtures_dir, "order_guest_pending.json"))
    order = the_order(store, "5829301888888")
    assert order.customer_id is None and order.status == s.WAIT_BUYER_PAY
    apply(store, "orders/cancelled", load(fixtures_dir, "order_cancelled_unpaid.json"))
    order = the_order(store, "5829301888888")
    assert order.status == s.TRADE_CLOSED_BY_TAOBAO
    assert order.close_reason == "customer"
    assert order.finished_at == datetime(2025, 3, 16, 8, tzinfo=timezone.utc)


def test_a_paid_order_cancelled_is_closed_and_spends_nothing(store, fixtures_dir):
    apply(store, "orders/create", load(fixtures_dir, "order_paid.json"))
    payload = load(fixtures_dir, "order_paid.json")
    payload.update(financial_status="refunded", cancelled_at="2025-03-11T08:00:00+08:00", updated_at="2025-03-11T08:00:00+08:00",
                   refunds=[{"id": 9100000000009, "order_id": payload["id"], "transactions": [{"kind": "refund", "status": "success", "amount": "168.00"}]}])
    apply(store, "orders/cancelled", payload)
    order = the_order(store)
    assert order.status == s.TRADE_CLOSED
    assert order.refunded_amount == Decimal("168.00")
    with store.session() as session:
        view = customer_360(session, order.customer_id)
        assert view.total_spent == Decimal("0.00")
        assert session.get(Customer, order.customer_id).value_tier == "none"


def test_receive_delivery_deduplicates_and_records(store, fixtures_dir):
    body = (fixtures_dir / "shopify" / "order_paid.json").read_bytes()
    first = receive_delivery(store, delivery_id="d-1", topic="orders/create", shop_domain=DOMAIN, body=body)
    assert (first.http_status, first.status) == (200, "processed")
    with store.session() as session:
        session.execute(Order.__table__.update().values(seller_memo="agent touched it"))
    again = receive_delivery(store, delivery_id="d-1", topic="orders/create", shop_domain=DOMAIN, body=body)
    assert (again.http_status, again.status) == (200, "duplicate")
    assert the_order(store).seller_memo == "agent touched it"
    with store.session() as session:
        delivery = session.get(WebhookDelivery, "shopify:d-1")
        assert (delivery.status, delivery.topic, delivery.shop_domain) == ("processed", "orders/create", DOMAIN)


@pytest.mark.parametrize(
    "body, topic, status, words",
    [
        (b'{"id": 1,', "orders/create", 400, "malformed JSON"),
        (b'{"name": "#1"}', "orders/create", 400, "id: missing"),
        (b'{"id": 1}', "customers/create", 200, "customers/create"),
        (b'\xff\xfe', "orders/create", 400, "UTF-8"),
    ],
)
def test_receive_delivery_refusals(store, body, topic, status, words):
    outcome = receive_delivery(store, delivery_id="d-2", topic=topic, shop_domain=DOMAIN, body=body)
    assert outcome.http_status == status
    assert words in (outcome.detail or "")
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(Order)) == 0


def test_state_from_earlier_webhooks_is_kept(store, fixtures_dir):
    apply(store, "orders/paid", load(fixtures_dir, "order_paid.json"))
    apply(store, "fulfillments/create", load(fixtures_dir, "fulfillment_delivered.json"))
    assert the_order(store).status == s.TRADE_FINISHED  # every line shipped and delivered
    apply(store, "refunds/create", load(fixtures_dir, "refund.json"))
    order = the_order(store)
    assert order.status == s.TRADE_FINISHED  # the fulfilment stored earlier still counts
    assert set(order.extra["shopify"]["fulfillments"]) == {"4400000000001"}
    assert set(order.extra["shopify"]["refunds"]) == {"9100000000001"}
