"""The alert queue, its REST API, the pick list, buyer requests on the order page and the server's sweep timer."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from kefu.config import Settings
from kefu.domain import order_status as os_
from kefu.ids import customer_id as make_customer_id
from kefu.services.requirements import extract_requirements
from kefu.services.shops import get_or_create_shop
from kefu.services.watch import sweep
from kefu.store.tables import Alert, Customer, Order, OrderLine, Shipment
from kefu.web import create_app

H = timedelta(hours=1)


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.fixture
def watched(store):
    """A shop with a stalled parcel to 新疆, a parcel never picked up, an order about to miss its promise."""
    now = datetime.now(UTC)
    with store.session() as s:
        shop_id = get_or_create_shop(s, "提醒店").id
        cid = make_customer_id(shop_id, "taobao", "tb_阿花")
        s.add(Customer(id=cid, shop_id=shop_id, platform="taobao", buyer_key="tb_阿花", buyer_nick="tb_阿花", created_at=now))
        s.flush()

        def order(no, status=os_.WAIT_BUYER_CONFIRM_GOODS, **fields):
            oid = f"{shop_id}:{no}"
            s.add(Order(id=oid, shop_id=shop_id, platform="taobao", order_no=no, customer_id=cid, buyer_nick="tb_阿花",
                        status=status, source="test", created_at=now - 200 * H, **fields))
            s.flush()
            return oid

        stalled = order("1001", receiver_province="新疆维吾尔自治区")
        s.add(Shipment(id=f"{stalled}:ZT1", shop_id=shop_id, order_id=stalled, carrier_code="zhongtong",
                       carrier_name="中通快递", waybill_no="ZT1", status="in_transit", last_event_at=now - 100 * H,
                       shipped_at=now - 120 * H, picked_up_at=now - 119 * H))
        fake = order("1002", receiver_province="浙江省")
        s.add(Shipment(id=f"{fake}:YT1", shop_id=shop_id, order_id=fake, carrier_code="yuantong", carrier_name="圆通速递",
                       waybill_no="YT1", status="awaiting_pickup", shipped_at=now - 30 * H))
        unshipped = order("2001", status=os_.WAIT_SELLER_SEND_GOODS, paid_at=now - 44 * H,
                          buyer_message="不要发申通，周六前要到", seller_memo="加送小样", receiver_province="浙江省",
                          receiver_city="杭州市")
        s.add(OrderLine(id=f"{unshipped}:#1", shop_id=shop_id, order_id=unshipped, line_no=1, title="碎花连衣裙",
                        sku_properties="颜色分类:白色;尺码:M", outer_id="DRESS-W-M", quantity=2))
        extract_requirements(s, shop_id, now=now)
        sweep(s, shop_id, now=now)
        ids = {a.kind: a.id for a in s.scalars(select(Alert))}
        return {"shop_id": shop_id, "customer_id": cid, "stalled": stalled, "unshipped": unshipped, "alerts": ids}


def test_queue_lists_alerts_with_links_and_rules(client, watched):
    page = client.get("/alerts")
    assert page.status_code == 200
    text = text_of(page.text)
    assert "物流停滞" in text and "揽收超时" in text and "发货将超时" in text
    assert "物流停滞: 最后一次扫描已过 100 小时 (规则 stall_hours=96, 中通→新疆)" in text
    assert f'href="/orders/{watched["stalled"].replace(":", "%3A")}"' in page.text
    assert f'href="/customers/{watched["customer_id"]}"' in page.text
    assert "tb_阿花" in text and "ZT1" in text and "新疆维吾尔自治区" in text
    assert 'hx-post="/alerts/' in page.text


def test_queue_filters(client, watched):
    assert "ZT1" in client.get("/alerts?kind=stall").text and "YT1" not in client.get("/alerts?kind=stall").text
    by_carrier = client.get("/alerts?carrier=yuantong").text
    assert "YT1" in by_carrier and "ZT1" not in by_carrier
    by_province = client.get("/alerts?province=新疆").text
    assert "ZT1" in by_province and "YT1" not in by_province
    table = client.get("/alerts?kind=fake_shipping", headers={"HX-Request": "true", "HX-Target": "alerts-table"})
    assert table.status_code == 200 and "<html" not in table.text and "YT1" in table.text
    assert "没有提醒" in client.get("/alerts?status=resolved").text
    assert client.get("/alerts?status=bogus&kind=bogus").status_code == 200


def test_queue_filters_by_the_other_kinds_the_shop_has(client, store, watched):
    """Stock and returns alerts share the queue; their kinds are offered and filter like the parcel-watch ones."""
    with store.session() as s:
        s.add(Alert(id="stock-1", shop_id=watched["shop_id"], kind="stock.low", severity="warning", status="open",
                    dedupe_key="stock.low:DRESS-W-M", rule="库存不足: DRESS-W-M", raised_at=datetime.now(UTC)))
    page = client.get("/alerts")
    assert '<option value="stock.low"' in page.text and "库存不足" in text_of(page.text)
    only_stock = text_of(client.get("/alerts?kind=stock.low").text)
    assert "库存不足: DRESS-W-M" in only_stock and "ZT1" not in only_stock


def test_acknowledge_and_resolve_in_place(client, store, watched):
    stall = watched["alerts"]["stall"]
    row = client.post(f"/alerts/{stall}/acknowledge", headers={"HX-Request": "true"})
    assert row.status_code == 200 and row.text.strip().startswith("<tr") and "处理中" in row.text
    row = client.post(f"/alerts/{stall}/resolve", headers={"HX-Request": "true"})
    assert "已解决" in row.text and "处理人 boss" in row.text and "hx-post" not in row.text
    with store.session() as s:
        alert = s.get(Alert, stall)
        assert alert.status == "resolved" and alert.resolved_by == "boss"
    plain = client.post(f"/alerts/{watched['alerts']['fake_shipping']}/resolve", follow_redirects=False)
    assert plain.status_code == 303 and plain.headers["location"] == "/alerts"
    assert client.post("/alerts/nope/resolve", headers={"HX-Request": "true"}).status_code == 404


def test_cross_site_posts_are_refused(client, watched):
    stall = watched["alerts"]["stall"]
    refused = client.post(f"/alerts/{stall}/resolve", headers={"Origin": "https://evil.example"})
    assert refused.status_code == 403


def test_navigation_shows_the_open_count(client, agent, watched):
    page = client.get("/")
    assert 'href="/alerts"' in page.text and 'hx-get="/alerts/count"' in page.text and 'href="/orders/picklist"' in page.text
    assert text_of(client.get("/alerts/count").text).strip() == "3"
    client.post(f"/alerts/{watched['alerts']['stall']}/acknowledge")
    assert text_of(agent.get("/alerts/count").text).strip() == "2"


def test_pages_need_a_log_in(anon, watched):
    assert anon.get("/alerts", follow_redirects=False).status_code == 303
    assert anon.get("/orders/picklist", follow_redirects=False).status_code == 303
    assert anon.get("/api/alerts").status_code == 401


def test_english_labels(client, watched):
    page = client.get("/alerts?lang=en")
    text = text_of(page.text)
    assert "Parcel stalled" in text and "No new scan for 100 h (rule: 96 h)" in text and "Acknowledge" in text


def test_api_lists_and_acts(client, watched):
    data = client.get("/api/alerts").json()
    assert data["total"] == 3 and data["pages"] == 1
    stall = next(a for a in data["items"] if a["kind"] == "stall")
    assert stall["rule"].startswith("物流停滞") and stall["province"] == "新疆" and stall["carrier_code"] == "zhongtong"
    assert stall["order_no"] == "1001" and stall["buyer_nick"] == "tb_阿花" and stall["detail"]["limit"] == 96
    assert client.get("/api/alerts?kind=stall").json()["total"] == 1
    assert client.get("/api/alerts?province=新疆维吾尔自治区").json()["total"] == 1
    assert client.get("/api/alerts?carrier=中通").json()["total"] == 1
    assert client.get("/api/alerts?status=bad").status_code == 422
    done = client.post(f"/api/alerts/{stall['id']}/acknowledge").json()
    assert done["status"] == "acknowledged"
    done = client.post(f"/api/alerts/{stall['id']}/resolve").json()
    assert done["status"] == "resolved" and done["resolved_by"] == "boss" and done["resolved_at"]
    assert client.get("/api/alerts").json()["total"] == 2
    assert client.get("/api/alerts?status=all").json()["total"] == 3
    assert client.post("/api/alerts/nope/resolve").status_code == 404
    assert "/api/alerts" in client.get("/openapi.json").json()["paths"]


def test_api_with_basic_auth(anon, users, watched):
    data = anon.get("/api/alerts", auth=("xiaomei", "agent-pass-123")).json()
    assert data["total"] == 3


def test_pick_list_is_printable_and_not_taken_for_an_order(client, watched):
    page = client.get("/orders/picklist")
    assert page.status_code == 200
    text = text_of(page.text)
    assert "共 1 单待发货" in text and "2001" in text and "碎花连衣裙" in text and "颜色分类:白色;尺码:M" in text
    assert "DRESS-W-M" in text and "× 2" in text and "加送小样" in text and "不要发申通，周六前要到" in text
    assert "不要快递 · 申通" in text and "到货时间" in text
    assert "@media print" in page.text and "window.print()" in page.text
    assert "1001" not in text  # shipped orders are not picked


def test_order_page_loads_buyer_requests_and_alerts(client, watched):
    oid = watched["unshipped"]
    page = client.get(f"/orders/{oid}")
    assert f'hx-get="/orders/{oid.replace(":", "%3A")}/asks"' in page.text
    fragment = client.get(f"/orders/{oid}/asks")
    text = text_of(fragment.text)
    assert "买家要求" in text and "不要快递 · 申通" in text and "到货时间 ·" in text and "买家留言" in text
    assert "发货将超时" in text
    quiet = text_of(client.get(f"/orders/{watched['stalled']}/asks").text)
    assert "买家没有特别要求" in quiet and "物流停滞" in quiet
    assert client.get("/orders/nope/asks").status_code == 404


def test_customer_page_timeline_shows_alerts(client, watched):
    text = text_of(client.get(f"/customers/{watched['customer_id']}").text)
    assert "提醒" in text and "物流停滞: 最后一次扫描已过 100 小时" in text


# ---------------------------------------------------------------- the server's sweep timer


def _wait_for(predicate, seconds=10.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def _stalled_parcel(store):
    with store.session() as s:
        shop_id = get_or_create_shop(s, "定时店").id
        oid = f"{shop_id}:1"
        s.add(Order(id=oid, shop_id=shop_id, platform="taobao", order_no="1", status=os_.WAIT_BUYER_CONFIRM_GOODS,
                    source="test"))
        s.flush()
        s.add(Shipment(id=f"{oid}:ZT1", shop_id=shop_id, order_id=oid, carrier_code="zhongtong", waybill_no="ZT1",
                       status="in_transit", last_event_at=datetime.now(UTC) - 60 * H))


def test_the_server_sweeps_on_its_timer(store):
    from starlette.testclient import TestClient

    _stalled_parcel(store)
    app = create_app(store, Settings(session_secret="x", watch_sweep_minutes=60))
    with TestClient(app):
        def raised():
            with store.session() as s:
                return s.scalar(select(Alert.kind)) == "stall"

        assert _wait_for(raised)


def test_tests_do_not_sweep_unless_asked(store, app, client):
    _stalled_parcel(store)
    assert client.get("/alerts").status_code == 200
    with store.session() as s:
        assert s.scalar(select(Alert.id)) is None


def test_a_failing_sweep_never_stops_the_server(store, monkeypatch, users):
    from starlette.testclient import TestClient

    import kefu.services.watch as watch

    calls = []

    def broken(*args, **kwargs):
        calls.append(1)
        raise RuntimeError("database on fire")

    monkeypatch.setattr(watch, "sweep_shops", broken)
    app = create_app(store, Settings(session_secret="x", watch_sweep_minutes=0.001))
    with TestClient(app) as client:
        assert _wait_for(lambda: len(calls) >= 2)
        assert client.get("/login").status_code == 200


def test_watch_sweep_minutes_from_the_environment():
    assert Settings.from_env({}).watch_sweep_minutes == 10
    assert Settings.from_env({"KEFU_WATCH_SWEEP_MINUTES": "0"}).watch_sweep_minutes == 0
    assert Settings.from_env({"KEFU_WATCH_SWEEP_MINUTES": "2.5"}).watch_sweep_minutes == 2.5
    assert Settings.from_env({"KEFU_WATCH_SWEEP_MINUTES": "soon"}).watch_sweep_minutes == 10
    assert Settings().watch_sweep_minutes == 0
