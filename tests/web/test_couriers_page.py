"""The courier scoreboard page and its REST API, in Chinese and English."""

from __future__ import annotations

import html
import json
import re
from datetime import UTC, datetime, timedelta

import pytest

from kefu.domain import order_status as os_
from kefu.services.shops import get_or_create_shop
from kefu.store.tables import Order, Shipment, Shop

H = timedelta(hours=1)


def text_of(page: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


@pytest.fixture
def parcels(store):
    """Parcels to 新疆: 中通 (3, slow), 顺丰 (3, fast); 圆通 with one to 新疆 and three to 浙江; minimum sample 3."""
    now = datetime.now(UTC)
    with store.session() as s:
        shop_id = get_or_create_shop(s, "快递评分店").id
        s.get(Shop, shop_id).settings = {"courier_score": {"min_sample": 3},
                                         "courier_province_prices": {"新疆": {"zhongtong": 22, "yuantong": 25}}}
        plan = ([("zhongtong", "新疆维吾尔自治区", h) for h in (70, 80, 90)]
                + [("shunfeng", "新疆维吾尔自治区", h) for h in (30, 40, 50)] + [("yuantong", "新疆维吾尔自治区", 60)]
                + [("yuantong", "浙江省", h) for h in (20, 24, 30)])
        for n, (carrier, province, hours) in enumerate(plan, start=1):
            oid = f"{shop_id}:{n}"
            s.add(Order(id=oid, shop_id=shop_id, platform="taobao", order_no=str(n), status=os_.TRADE_FINISHED,
                        source="test", receiver_province=province, created_at=now - 300 * H))
            s.flush()
            picked = now - 120 * H
            s.add(Shipment(id=f"{oid}:W{n}", shop_id=shop_id, order_id=oid, carrier_code=carrier, waybill_no=f"W{n}",
                           status="signed", shipped_at=picked - H, picked_up_at=picked, signed_at=picked + hours * H))
        s.flush()
    return shop_id


def test_page_recommends_for_xinjiang_in_chinese(client, parcels):
    page = client.get("/couriers", params={"province": "新疆", "priority": "cheapest"})
    assert page.status_code == 200
    text = text_of(page.text)
    assert "发新疆用哪家？" in text
    assert 'href="/couriers"' in page.text and "快递评分" in text
    rows = re.findall(r"<tr><td>(\d)</td><td><strong>([^<]+)</strong>", page.text)
    assert rows == [("1", "顺丰"), ("2", "中通"), ("3", "圆通")]  # 20 < 22 < 25 yuan
    assert "依据发往新疆的 3 个包裹" in text
    assert "发往新疆仅 1 个包裹，少于 3 个，改用该快递全国 4 个包裹的数据" in text
    data = json.loads(re.search(r'<script type="application/json" id="courier-data">(.*?)</script>', page.text,
                                re.DOTALL).group(1))
    assert data["labels"] == ["顺丰", "圆通", "中通"] and data["median"] == [40.0, 27.0, 80.0]
    assert "chart.umd.min.js" in page.text
    fastest = text_of(client.get("/couriers", params={"province": "新疆", "priority": "fastest"}).text)
    assert "揽收到签收中位 27.0 小时" in fastest


def test_page_in_english(client, parcels):
    text = text_of(client.get("/couriers", params={"province": "新疆", "priority": "most_reliable", "lang": "en"}).text)
    assert "Which courier for 新疆?" in text and "Most reliable" in text and "Median hours" in text
    assert "using the courier's 4 parcels to all provinces" in text


def test_empty_shop_page(client):
    text = text_of(client.get("/couriers").text)
    assert "发货用哪家？" in text and "还没有包裹数据" in text


def test_api_json(client, parcels):
    body = client.get("/api/couriers", params={"province": "新疆维吾尔自治区", "priority": "cheapest"}).json()
    rec = body["recommendation"]
    assert rec["province"] == "新疆" and rec["priority"] == "cheapest" and rec["min_sample"] == 3
    assert [r["carrier"] for r in rec["ranked"]] == ["shunfeng", "zhongtong", "yuantong"]
    assert [r["price"] for r in rec["ranked"]] == ["20.00", "22.00", "25.00"]
    assert rec["ranked"][2]["basis"] == "all_provinces" and rec["ranked"][2]["province_parcels"] == 1
    assert rec["ranked"][0]["reason"].startswith("20.00 元/件")
    xj = next(r for r in body["rows"] if r["carrier"] == "zhongtong" and r["province"] == "新疆")
    assert xj["parcels"] == 3 and xj["median_hours"] == 80.0 and xj["p90_hours"] == 90.0 and xj["price"] == "22.00"
    assert {c["carrier"] for c in body["carriers"]} == {"shunfeng", "yuantong", "zhongtong"}
    assert client.get("/api/couriers", params={"priority": "prettiest"}).status_code == 422


def test_needs_login(anon):
    assert anon.get("/api/couriers").status_code in (401, 303, 307)
