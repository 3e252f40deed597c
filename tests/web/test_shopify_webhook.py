import logging

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from kefu.config import Settings
from kefu.domain import order_status as s
from kefu.store.tables import Order, Shop, WebhookDelivery
from kefu.web.webhooks.shopify import router, shopify_signature, signature_is_valid

SECRET = "hush-test-secret"
VECTOR_BODY = b'{"id":820982911946154508,"name":"#1001","financial_status":"paid"}'
VECTOR_SIGNATURE = "w3RDSusBUWn6e5hnQqt2DoSt3F2JCVCkPIgrfEsYqg0="
DOMAIN = "kefu-test.myshopify.com"


def make_client(store, secrets):
    app = FastAPI()
    app.include_router(router)
    app.state.store = store
    app.state.settings = Settings(shopify_webhook_secrets=tuple(secrets))
    return TestClient(app)


@pytest.fixture
def hook(store):
    with make_client(store, ("an-old-secret", SECRET)) as client:
        yield client


def post(client, body, *, topic="orders/create", webhook_id="wh-1", signature=None, secret=SECRET, **extra_headers):
    headers = {
        "Content-Type": "application/json",
        "X-Shopify-Topic": topic,
        "X-Shopify-Shop-Domain": DOMAIN,
        "X-Shopify-Webhook-Id": webhook_id,
        **extra_headers,
    }
    if signature is not False:
        headers["X-Shopify-Hmac-Sha256"] = shopify_signature(secret, body) if signature is None else signature
    return client.post("/webhooks/shopify", content=body, headers=headers)


def test_the_documented_test_vector():
    assert shopify_signature(SECRET, VECTOR_BODY) == VECTOR_SIGNATURE
    assert signature_is_valid(VECTOR_BODY, VECTOR_SIGNATURE, ["other", SECRET])
    assert not signature_is_valid(VECTOR_BODY + b" ", VECTOR_SIGNATURE, [SECRET])
    assert not signature_is_valid(VECTOR_BODY, None, [SECRET])
    assert not signature_is_valid(VECTOR_BODY, VECTOR_SIGNATURE, [])


def test_a_signed_order_is_stored(hook, store):
    response = post(hook, VECTOR_BODY, signature=VECTOR_SIGNATURE)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "processed"
    with store.session() as session:
        order = session.scalar(select(Order))
        assert order.order_no == "820982911946154508"
        assert order.order_name == "#1001"
        assert order.status == s.WAIT_SELLER_SEND_GOODS
        assert order.customer_id is None
        shop = session.get(Shop, order.shop_id)
        assert (shop.domain, shop.platform) == (DOMAIN, "shopify")


def test_either_secret_is_accepted_during_a_rotation(hook):
    assert post(hook, VECTOR_BODY, secret="an-old-secret", webhook_id="a").status_code == 200
    assert post(hook, VECTOR_BODY, secret=SECRET, webhook_id="b").status_code == 200


@pytest.mark.parametrize("signature", [False, "", "bm90IHRoZSByaWdodCBvbmU=", VECTOR_SIGNATURE.lower()])
def test_missing_or_bad_signatures_are_refused_and_logged_without_the_body(hook, store, caplog, signature):
    with caplog.at_level(logging.WARNING):
        response = post(hook, VECTOR_BODY, signature=signature)
    assert response.status_code == 401
    assert "820982911946154508" not in caplog.text  # the body is never logged
    assert "refused" in caplog.text
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(Order)) == 0
        assert session.scalar(select(func.count()).select_from(WebhookDelivery)) == 0


def test_no_configured_secret_refuses_everything(store):
    with make_client(store, ()) as client:
        assert post(client, VECTOR_BODY).status_code == 401


def test_a_repeated_delivery_changes_nothing(hook, store):
    assert post(hook, VECTOR_BODY, webhook_id="same").json()["status"] == "processed"
    with store.session() as session:
        session.execute(Order.__table__.update().values(seller_memo="已联系买家"))
    changed = b'{"id":820982911946154508,"name":"#1001","financial_status":"refunded"}'
    response = post(hook, changed, webhook_id="same")
    assert response.status_code == 200
    assert response.json()["status"] == "duplicate"
    with store.session() as session:
        order = session.scalar(select(Order))
        assert order.status == s.WAIT_SELLER_SEND_GOODS and order.seller_memo == "已联系买家"
        assert session.scalar(select(func.count()).select_from(WebhookDelivery)) == 1


def test_an_unknown_topic_is_recorded_and_answered_200(hook, store):
    response = post(hook, b'{"id": 5}', topic="products/update", webhook_id="p-1")
    assert response.status_code == 200
    assert response.json()["status"] == "ignored"
    with store.session() as session:
        delivery = session.get(WebhookDelivery, "shopify:p-1")
        assert (delivery.status, delivery.topic) == ("ignored", "products/update")
        assert session.scalar(select(func.count()).select_from(Order)) == 0


def test_malformed_json_is_400_naming_the_problem(hook, store):
    response = post(hook, b'{"id": 820982911946154508, "name": }', webhook_id="bad-1")
    assert response.status_code == 400
    assert "malformed JSON" in response.json()["detail"]
    assert "column" in response.json()["detail"]


def test_a_payload_missing_its_id_is_400_naming_the_field(hook):
    response = post(hook, b'{"order_id": 1, "transactions": []}', topic="refunds/create", webhook_id="bad-2")
    assert response.status_code == 400
    assert "refund.id" in response.json()["detail"]


def test_refund_and_fulfillment_topics(hook, store, fixtures_dir):
    order = (fixtures_dir / "shopify" / "order_paid.json").read_bytes()
    refund = (fixtures_dir / "shopify" / "refund.json").read_bytes()
    fulfilled = (fixtures_dir / "shopify" / "fulfillment_delivered.json").read_bytes()
    assert post(hook, order, topic="orders/paid", webhook_id="o").status_code == 200
    assert post(hook, fulfilled, topic="fulfillments/create", webhook_id="f").status_code == 200
    assert post(hook, refund, topic="refunds/create", webhook_id="r").status_code == 200
    with store.session() as session:
        stored = session.scalar(select(Order))
        assert stored.status == s.TRADE_FINISHED
        assert str(stored.refunded_amount) == "59.00"
