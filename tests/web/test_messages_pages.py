"""Messages in the workbench: outbox page and dead-letter retry, templates with live preview and voice settings, the
delay apology from a stall alert, the customer's one timeline, and the REST API — on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from kefu.ids import customer_id as make_customer_id
from kefu.services.delivery import DeliveryResult, deliver_one
from kefu.services.outbox import OutgoingMessage, queue_message
from kefu.services.shops import get_or_create_shop
from kefu.store.messaging_tables import OutboxMessage
from kefu.store.tables import Alert, Customer, Order, OrderLine, Shipment, Shop

H = timedelta(hours=1)


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


class Failing:
    name = "console"

    def send(self, delivery):
        return DeliveryResult(False, retryable=False, error_code="invalid_recipient", error="no phone")

    def __call__(self, name):
        return self


@pytest.fixture
def shop(store):
    """A shop (quiet hours off, so tests do not depend on the clock) with a buyer, an order and a stall alert."""
    now = datetime.now(UTC)
    with store.session() as s:
        shop_row = get_or_create_shop(s, "消息店")
        shop_row.settings = {"messaging": {"quiet_purposes": []}}
        shop_id = shop_row.id
        cid = make_customer_id(shop_id, "taobao", "tb_阿花")
        s.add(Customer(id=cid, shop_id=shop_id, platform="taobao", buyer_key="tb_阿花", buyer_nick="tb_阿花",
                       phone="13800000007", created_at=now))
        s.flush()
        oid = f"{shop_id}:1001"
        s.add(Order(id=oid, shop_id=shop_id, platform="taobao", order_no="1001", customer_id=cid, buyer_nick="tb_阿花",
                    status="WAIT_BUYER_CONFIRM_GOODS", source="test", created_at=now - 200 * H))
        s.flush()
        s.add(OrderLine(id=f"{oid}:1", shop_id=shop_id, order_id=oid, line_no=1, title="碎花连衣裙", quantity=1))
        s.add(Shipment(id=f"{oid}:ZT1", shop_id=shop_id, order_id=oid, carrier_code="zhongtong", carrier_name="中通快递",
                       waybill_no="ZT1", status="in_transit", shipped_at=now - 120 * H, last_event_at=now - 100 * H))
        s.flush()
        s.add(Alert(id="a" * 32, shop_id=shop_id, kind="stall", severity="warning", status="open", dedupe_key="stall:x",
                    order_id=oid, shipment_id=f"{oid}:ZT1", customer_id=cid, raised_at=now - H, rule="48h"))
    return {"shop_id": shop_id, "customer_id": cid, "order_id": oid, "alert_id": "a" * 32}


def test_delay_apology_from_an_alert_shows_the_text_then_queues_once(client, store, shop):
    alerts = client.get("/alerts").text
    assert "发送延迟致歉" in alerts
    preview = client.get(f"/alerts/{shop['alert_id']}/apology", headers={"HX-Request": "true"}).text
    assert "tb_阿花，非常抱歉，您的包裹（中通快递 ZT1）在途中耽搁了" in text_of(preview)
    sent = client.post(f"/alerts/{shop['alert_id']}/apology", headers={"HX-Request": "true"}).text
    assert "已加入发件箱" in sent
    again = client.post(f"/alerts/{shop['alert_id']}/apology", headers={"HX-Request": "true"}).text
    assert "这笔订单已发过致歉" in again
    with store.session() as s:
        rows = list(s.scalars(select(OutboxMessage)))
    assert [(r.event, r.status) for r in rows] == [("parcel.delayed", "queued")]
    timeline = client.get(f"/customers/{shop['customer_id']}/timeline").text
    assert "消息" in text_of(timeline) and "待发送" in text_of(timeline) and "非常抱歉" in timeline


def test_the_apology_speaks_in_the_playful_voice_when_the_shop_chose_it(client, store, shop):
    with store.session() as s:
        row = s.get(Shop, shop["shop_id"])
        row.settings = {"messaging": {"voice": "playful", "persona_name": "小橙", "form_of_address": "主人",
                                      "quiet_purposes": []}}
    preview = text_of(client.get(f"/alerts/{shop['alert_id']}/apology").text)
    assert "呜呜主人对不起" in preview and "小橙已经去催快递小哥啦" in preview


def test_templates_page_previews_edits_and_saves(client, store, shop):
    page = client.get("/messages/templates")
    assert page.status_code == 200
    assert "发货通知" in page.text and "纯棉T恤已由中通快递发出" in page.text
    preview = client.post("/messages/templates/preview", data={
        "key": "order.shipped", "voice": "plain", "body": "{{ nickname }}，{{ courier }}已揽收 {{ waybill }}"})
    assert text_of(preview.text).strip().startswith("tb_kitty2019，中通快递已揽收 78912345678901")
    bad = client.post("/messages/templates/preview", data={"key": "order.shipped", "voice": "plain",
                                                            "body": "{{ phone_number }}"})
    assert "未知变量" in bad.text and "phone_number" in bad.text
    unsafe = client.post("/messages/templates/preview", data={
        "key": "order.shipped", "voice": "plain", "body": "{{ nickname.__class__.__mro__ }}"})
    assert "不安全" in unsafe.text or "unsafe" in unsafe.text
    reward = client.post("/messages/templates/preview", data={
        "key": "review.invite", "voice": "plain", "body": "{{ nickname }}，好评返现5元"})
    assert "奖励" in reward.text or "reward" in reward.text
    saved = client.post("/messages/templates/save", data={
        "key": "order.shipped", "voice": "plain", "body": "{{ nickname }}，宝贝出发啦：{{ courier }} {{ waybill }}"},
        follow_redirects=False)
    assert saved.status_code == 303
    page = client.get("/messages/templates").text
    assert "已自定义" in page and "tb_kitty2019，宝贝出发啦：中通快递 78912345678901" in page
    with store.session() as s:
        result = queue_message(s, OutgoingMessage(shop_id=shop["shop_id"], customer_id=shop["customer_id"],
                                                  order_id=shop["order_id"], event="order.shipped",
                                                  purpose="transactional", template="order.shipped",
                                                  variables={"courier": "中通快递", "waybill": "ZT1"}),
                               now=datetime.now(UTC))
    assert result.text == "tb_阿花，宝贝出发啦：中通快递 ZT1"


def test_voice_settings_and_agent_limits(client, agent, store, shop):
    saved = client.post("/messages/settings", data={
        "voice": "playful", "persona_name": "小橙", "form_of_address": "主人", "quiet_start": "22:00",
        "quiet_end": "08:30", "cap_transactional": 3, "cap_marketing": 1, "lookback_hours": 24}, follow_redirects=False)
    assert saved.status_code == 303
    with store.session() as s:
        m = s.get(Shop, shop["shop_id"]).settings["messaging"]
    assert (m["voice"], m["persona_name"], m["quiet_hours"]["end"], m["daily_cap"]["transactional"]) == \
        ("playful", "小橙", "08:30", 3)
    page = client.get("/messages/templates").text
    assert "主人～小橙收到您的订单" in page
    bad = client.post("/messages/settings", data={"voice": "playful", "quiet_start": "25:99", "quiet_end": "08:00"})
    assert bad.status_code == 422 and "quiet_hours.start" in bad.text
    assert agent.post("/messages/templates/save", data={"key": "order.paid", "voice": "plain", "body": "x"}).status_code == 403
    assert agent.get("/messages/templates").status_code == 200


def test_outbox_page_filters_and_retries_a_dead_letter(client, store, shop):
    with store.session() as s:
        mid = queue_message(s, OutgoingMessage(shop_id=shop["shop_id"], customer_id=shop["customer_id"],
                                               event="order.shipped", purpose="transactional",
                                               template="order.shipped"), now=datetime.now(UTC)).message_id
        queue_message(s, OutgoingMessage(shop_id=shop["shop_id"], customer_id=shop["customer_id"], event="review.invite",
                                         purpose="marketing", template="review.invite"), now=datetime.now(UTC))
    assert deliver_one(store, mid, channel_for=Failing()) == "dead"
    page = client.get("/messages").text
    assert "死信" in page and "已拦下" in page and "未同意营销" in page
    dead = client.get("/messages?status=dead", headers={"HX-Request": "true", "HX-Target": "messages-table"}).text
    assert "重试" in dead and "未同意营销" not in dead
    history = client.get(f"/messages/{mid}/decisions").text
    assert "转为死信" in history and "收件人无效" in history
    row = client.post(f"/messages/{mid}/retry", headers={"HX-Request": "true"}).text
    assert "待发送" in row
    with store.session() as s:
        assert s.get(OutboxMessage, mid).status == "queued"
    assert client.post("/messages/nope/retry").status_code == 404
    assert client.get("/messages?status=bogus").status_code == 200
    assert "消息" in client.get("/").text  # the navigation entry


def test_rest_api_queue_list_reply_and_timeline(client, store, shop):
    cid = shop["customer_id"]
    queued = client.post("/api/messages", json={"customer_id": cid, "event": "desk.reply", "purpose": "service",
                                                "text": "您好，已为您改好地址"}).json()
    assert queued["status"] == "queued"
    refused = client.post("/api/messages", json={"customer_id": cid, "event": "x", "purpose": "spam", "text": "x"})
    assert refused.status_code == 422 and "purpose" in refused.json()["detail"]
    assert client.post(f"/api/customers/{cid}/replies", json={"text": "T"}).json() == {"opted_out": True}
    listed = client.get("/api/messages?status=queued").json()
    assert listed["total"] == 1 and listed["items"][0]["text"] == "您好，已为您改好地址"
    one = client.get(f"/api/messages/{queued['message_id']}").json()
    assert [d["decision"] for d in one["decisions"]] == ["queued"]
    assert client.post(f"/api/messages/{queued['message_id']}/retry").status_code == 409
    timeline = client.get(f"/api/customers/{cid}/timeline").json()["items"]
    assert timeline[0]["kind"] == "message" and timeline[0]["status"] == "queued"
    assert any(e["kind"] == "alert" for e in timeline)
    templates = client.get("/api/message-templates?voice=playful").json()["items"]
    assert {t["key"] for t in templates} >= {"order.paid", "review.invite"}
    preview = client.post("/api/message-templates/preview", json={"key": "order.paid", "body": "{{ nickname }}好"})
    assert preview.json() == {"text": "tb_kitty2019好"}
