"""The /returns workbench and /api/returns: list, request page with rules, actions, override, inspection, upload,
reasons report, and the alert queue showing a returns alert."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from kefu.services.returns import sweep_returns
from kefu.services.shops import get_or_create_shop
from kefu.store.returns_tables import ReturnRequest
from kefu.store.tables import AuditEntry
from returns_seed import seed_signed_orders


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.fixture
def shop(store):
    """Three signed orders: a T-shirt signed 2 days ago, a custom dress, a T-shirt signed 10 days ago."""
    with store.session() as s:
        shop_id = get_or_create_shop(s, "退货页店").id
        seed_signed_orders(s, shop_id, dress_title="定制刻字伴娘服", dress_extra=None,
                           orders=(("5001", "p-tee", 2), ("5002", "p-dress", 2), ("5003", "p-tee", 10)))
        s.flush()
    return shop_id


def _new(client, **fields):
    data = {"order_no": "5001", "reason": "尺码拍错", "kind": "return_refund", **fields}
    response = client.post("/returns", data=data, follow_redirects=False)
    assert response.status_code == 303, response.text
    return response.headers["location"]


def test_entering_a_request_shows_the_decision_and_its_rules(client, shop):
    location = _new(client)
    page = client.get(location)
    assert page.status_code == 200
    text = text_of(page.text)
    assert "returns.window.inside" in page.text and "returns.intact.on_receipt" in page.text
    assert "在7天无理由期内" in text and "吊牌完好" in text
    listing = client.get("/returns")
    assert "纯棉圆领短袖T恤" in listing.text and "尺码拍错/不合适" in listing.text
    assert location.rsplit("/", 1)[1] in listing.text


def test_exempt_item_is_refused_and_override_needs_a_reason(client, shop, store):
    location = _new(client, order_no="5002", reason="7天无理由退换货")
    page = client.get(location)
    assert "returns.exempt.made_to_order" in page.text
    request_id = location.rsplit("/", 1)[1]
    refused = client.post(f"{location}/act", data={"outcome": "accept", "reason": ""}, follow_redirects=False)
    assert refused.status_code == 400 and "override needs a reason" in refused.text
    done = client.post(f"{location}/act", data={"outcome": "accept", "reason": "店主同意"}, follow_redirects=False)
    assert done.status_code == 303
    page = client.get(location)
    assert "returns.override" in page.text and "店主同意" in page.text
    with store.session() as s:
        assert s.scalar(select(AuditEntry.detail).where(AuditEntry.action == "returns.override",
                                                        AuditEntry.target_id == request_id))


def test_late_return_goodwill_fee_after_inspection(client, shop):
    location = _new(client, order_no="5003", reason="不喜欢/效果不好")
    assert "returns.goodwill.accept" in client.get(location).text
    form = {"check_tags_on": "1", "check_unwashed": "1", "check_no_odour": "1", "check_no_stains": "0",
            "condition": "light_wear", "resellable": "yes"}
    assert client.post(f"{location}/received", data=form, follow_redirects=False).status_code == 303
    page = client.get(location)
    assert "returns.goodwill.fee" in page.text and "12.90" in page.text


def test_bad_order_number_is_reported_on_the_form(client, shop):
    response = client.post("/returns", data={"order_no": "nope", "reason": "质量问题", "kind": "return_refund"})
    assert response.status_code == 400 and "no order nope" in response.text


def test_upload_refunds_file(client, shop, fixtures_dir):
    data = b'[{"refund_id": "77", "tid": "5001", "status": "WAIT_SELLER_AGREE", "reason": "\xe8\xb4\xa8\xe9\x87\x8f\xe9\x97\xae\xe9\xa2\x98"}, {"tid": "x"}]'
    response = client.post("/returns/import", files={"file": ("r.json", data, "application/json")})
    assert response.status_code == 200
    assert "r.json#2" in response.text and "returns-imported" in response.text
    api = client.get("/api/returns", params={"status": "all"}).json()
    assert [item["refund_id"] for item in api["items"]] == ["77"]
    assert api["items"][0]["reason_code"] == "quality" and api["items"][0]["freight_payer"] == "seller"


def test_api_create_act_and_report(client, shop):
    created = client.post("/api/returns", json={"order_no": "5001", "reason": "尺码拍错", "prefers_exchange": True})
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["decision"] == "exchange" and body["rules"]
    acted = client.post(f"/api/returns/{body['id']}/act", json={"outcome": "exchange"})
    assert acted.json()["status"] == "exchange"
    bad = client.post(f"/api/returns/{body['id']}/act", json={"outcome": "refuse"})
    assert bad.status_code == 422
    assert client.post("/api/returns", json={"order_no": "x"}).status_code == 422
    assert client.get("/api/returns/nope").status_code == 404
    report = client.get("/api/returns/reasons").json()
    assert report["returns"] == 1 and report["by_reason"] == {"size_choice": 1}
    page = client.get("/returns/reasons")
    assert page.status_code == 200 and "returns-trend" in page.text


def test_english_and_agent_access(agent, shop):
    location = _new(agent)
    page = agent.get(location + "?lang=en")
    assert "Inside the 7-day no-reason window" in page.text
    assert agent.get("/returns/reasons?lang=en").status_code == 200


def test_overdue_refund_alert_shows_in_the_alert_queue(client, shop, store):
    location = _new(client)
    request_id = location.rsplit("/", 1)[1]
    with store.session() as s:
        request = s.get(ReturnRequest, request_id)
        request.status = "accepted"
        request.refund_due_at = datetime.now(UTC) - timedelta(hours=5)
        s.flush()
        assert sweep_returns(s, shop).overdue == 1
    queue = client.get("/alerts")
    assert "退款逾期" in queue.text
    assert "退款逾期" in client.get("/returns?status=overdue").text


def test_a_forged_import_summary_is_ignored(client, shop):
    assert client.get("/returns", params={"imported": "{not json"}).status_code == 200
    assert client.get("/returns", params={"imported": "[1]"}).status_code == 200


def test_the_customer_360_shows_the_buyers_returns(client, shop):
    location = _new(client)
    with client.app.state.store.session() as s:
        customer_id = s.get(ReturnRequest, location.rsplit("/", 1)[1]).customer_id
    assert f'hx-get="/returns/customer/{customer_id}"' in client.get(f"/customers/{customer_id}").text
    card = client.get(f"/returns/customer/{customer_id}")
    assert card.status_code == 200 and location in card.text and "共 1 次" in card.text
    assert "没有退货申请" in client.get("/returns/customer/nobody").text
