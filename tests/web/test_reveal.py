"""Revealing masked personal data: the clear value as an HTMX fragment, and an audit entry for every reveal."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from kefu.ids import customer_id as make_customer_id
from kefu.services.shops import get_or_create_shop
from kefu.store.tables import AuditEntry, Customer, Order, User


def _order_id(store, order_no: str) -> str:
    with store.session() as session:
        return session.scalar(select(Order.id).where(Order.order_no == order_no))


def _audit(store) -> list[tuple[str, str, str, str, str]]:
    with store.session() as session:
        rows = session.execute(
            select(User.username, AuditEntry.action, AuditEntry.target_type, AuditEntry.target_id, AuditEntry.detail)
            .join(User, User.id == AuditEntry.user_id)
            .where(AuditEntry.action == "reveal")
            .order_by(AuditEntry.id)
        )
        return [tuple(row) for row in rows]


def test_reveal_returns_the_clear_value_and_audits_it(client, imported, store):
    order_id = _order_id(store, "3901000000000000011")
    response = client.post(f"/reveal/order/{order_id}/receiver_phone", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "13800000011" in response.text and 'class="pii revealed"' in response.text
    assert "<html" not in response.text
    assert response.headers["cache-control"] == "no-store"
    assert _audit(store) == [("boss", "reveal", "order", order_id, "receiver_phone")]


def test_agents_may_reveal_and_each_reveal_is_audited(agent, imported, store):
    order_id = _order_id(store, "3901000000000000013")
    for field, clear in (("receiver_name", "刘*"), ("receiver_phone", "13800000013"), ("receiver_phone", "13800000013")):
        response = agent.post(f"/reveal/order/{order_id}/{field}")
        assert response.status_code == 200 and clear in response.text
    assert [(u, f) for u, _, _, _, f in _audit(store)] == [
        ("xiaomei", "receiver_name"), ("xiaomei", "receiver_phone"), ("xiaomei", "receiver_phone")]


def test_customer_fields_can_be_revealed(client, store):
    with store.session() as session:
        shop = get_or_create_shop(session, "测试小店")
        cid = make_customer_id(shop.id, "taobao", "tb_reveal")
        session.add(Customer(id=cid, shop_id=shop.id, platform="taobao", buyer_key="tb_reveal", buyer_nick="tb_reveal",
                             name="周晓芸", phone="13800000099", email="zxy@example.com",
                             created_at=datetime.now(UTC)))
    assert "周晓芸" in client.post(f"/reveal/customer/{cid}/name").text
    assert "13800000099" in client.post(f"/reveal/customer/{cid}/phone").text
    assert "zxy@example.com" in client.post(f"/reveal/customer/{cid}/email").text
    assert [f for *_, f in _audit(store)] == ["name", "phone", "email"]


def test_nothing_is_revealed_or_audited_for_unknown_targets(client, imported, store):
    order_id = _order_id(store, "3901000000000000011")
    assert client.post(f"/reveal/order/{order_id}/seller_memo").status_code == 404  # not a personal field
    assert client.post(f"/reveal/order/{order_id}/password_hash").status_code == 404
    assert client.post(f"/reveal/user/{order_id}/receiver_phone").status_code == 404
    assert client.post("/reveal/order/nope:1/receiver_phone").status_code == 404
    assert client.get(f"/reveal/order/{order_id}/receiver_phone").status_code == 405
    assert _audit(store) == []


def test_anonymous_reveal_is_refused(anon, imported, store):
    order_id = _order_id(store, "3901000000000000011")
    response = anon.post(f"/reveal/order/{order_id}/receiver_phone", follow_redirects=False)
    assert response.status_code == 303 and "13800000011" not in response.text
    assert _audit(store) == []


def test_api_masks_unless_reveal_and_audits_the_reveal(client, imported, store):
    order_id = _order_id(store, "3901000000000000011")
    masked = client.get(f"/api/orders/{order_id}").json()
    assert masked["receiver_phone"] == "138****0011" and masked["receiver_name"] == "陈*"
    assert masked["pii_masked"] is True
    assert _audit(store) == []
    clear = client.get(f"/api/orders/{order_id}", params={"reveal": 1}).json()
    assert clear["receiver_phone"] == "13800000011" and clear["pii_masked"] is False
    assert _audit(store) == [("boss", "reveal", "order", order_id, "api: receiver_name,receiver_phone,receiver_address")]
