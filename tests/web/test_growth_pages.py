"""Segments, care, coupons, risk and listing-audit pages, driven through the ASGI client on both stores."""

from __future__ import annotations

import html
import json
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from kefu.domain import order_status as s
from kefu.ids import customer_id, order_id
from kefu.services.customer_stats import refresh_customer_stats
from kefu.services.shops import get_or_create_shop
from kefu.store.desk_tables import ChatMessage, Conversation
from kefu.store.tables import Customer, Order, OrderLine, Product


def text_of(page: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


@pytest.fixture
def shop(store):
    now = datetime.now(UTC)
    with store.session() as session:
        shop = get_or_create_shop(session, "增长店")
        session.add(Product(id="p1", shop_id=shop.id, product_key="p1", title="真丝衬衫", category="女装"))
        for i, (nick, orders, born) in enumerate([("常客小林", 6, date(1990, 1, 1)), ("新客阿强", 1, None)]):
            cust = Customer(id=customer_id(shop.id, "taobao", nick), shop_id=shop.id, platform="taobao",
                            buyer_key=nick, buyer_nick=nick, gender="female", birthday=born, marketing_consent=True,
                            province="新疆" if orders == 1 else "浙江", created_at=now)
            session.add(cust)
            session.flush()
            for n in range(orders):
                oid = order_id(shop.id, f"{i}{n}")
                at = now - timedelta(days=20 + 30 * n)
                session.add(Order(id=oid, shop_id=shop.id, platform="taobao", order_no=f"{i}{n}", customer_id=cust.id,
                                  status=s.TRADE_FINISHED, created_at=at, paid_at=at, paid_amount=Decimal(400),
                                  receiver_address="幸福小区 2 单元 301 室", source="test"))
                session.flush()
                session.add(OrderLine(id=f"{oid}:1", shop_id=shop.id, order_id=oid, line_no=1, product_id="p1",
                                      title="真丝衬衫"))
        conv = Conversation(id="conv1", shop_id=shop.id, channel="qianniu", buyer_key="新客阿强",
                            customer_id=customer_id(shop.id, "taobao", "新客阿强"), created_at=now)
        session.add(conv)
        session.flush()
        session.add(ChatMessage(id="m1", shop_id=shop.id, conversation_id="conv1", sender="buyer", sent_at=now,
                                body="今天能发货吗？发新疆，货到付款。不给我退50就差评", source="test", created_at=now))
        shop_id = shop.id
    with store.engine.begin() as conn:
        refresh_customer_stats(conn, shop_id)
    return shop_id


def test_segments_refresh_save_and_count(client, shop):
    page = text_of(client.post("/segments/refresh", follow_redirects=True).text)
    assert "核心客户" in page or "忠诚客户" in page
    saved = client.post("/segments", data={"name": "浙江老客", "provinces": "浙江", "min_orders": "2"},
                        follow_redirects=True)
    assert re.search(r"浙江老客 .*省份（逗号分隔）: 浙江.* 1 ", text_of(saved.text))
    bad = text_of(client.post("/segments", data={"name": "坏的", "min_spent": "很多"}).text)
    assert "min_spent" in bad and "不是金额" in bad


def test_care_gifts_refuse_the_embarrassing_one(client, shop):
    client.post("/care/gifts/items", data={"key": "scarf", "name": "丝巾", "cost": "15", "categories": "女装"})
    client.post("/care/gifts/items", data={"key": "c", "name": "安全套", "cost": "5", "sensitivity": "intimate"})
    page = text_of(client.get("/care").text)
    assert "丝巾" in page and "私密" in page
    proposed = text_of(client.post("/care/gifts/propose", data={"nick": "常客小林"}).text)
    assert "给 常客小林 推荐：丝巾" in proposed and "私密或令人尴尬的物品不能作为惊喜礼物" in proposed
    ids = re.findall(r'<option value="([0-9a-f]{32})">安全套', client.get("/care").text)
    refused = text_of(client.post("/care/gifts/give", data={"nick": "常客小林", "gift_item_id": ids[0]}).text)
    assert "不能送“安全套”" in refused


def test_risk_page_assesses_and_exports_evidence(client, shop):
    client.post("/risk/assess", data={"nick": "新客阿强"})
    page = text_of(client.get("/risk").text)
    assert "新客阿强" in page and "以差评要挟索要钱物" in page
    cid = customer_id(shop, "taobao", "新客阿强")
    pack = client.get(f"/risk/{cid}/evidence.json")
    assert pack.status_code == 200 and "attachment" in pack.headers["content-disposition"]
    body = json.loads(pack.text)
    assert body["transcript"][0]["text"].startswith("今天能发货吗") and body["risk"]["level"] == "high"
    assert client.get("/risk/nobody/evidence.json").status_code == 404


def test_listing_upload_reports_rows_and_findings(client, shop):
    csv = "宝贝ID,标题,价格,运费模板,描述\nA1,羊毛大衣 全国包邮,399,\"包邮,新疆西藏除外\",七天无理由\nA2,,x,,\n"
    page = text_of(client.post("/listings/import", files={"file": ("listings.csv", csv.encode("utf-8"), "text/csv")}).text)
    assert "新增 1" in page and "listings.csv:3:" in page
    assert "写了“包邮”，但运费模板对新疆、西藏收运费" in page


def test_coupon_campaign_page_needs_a_segment_first(client, shop):
    page = text_of(client.get("/coupons").text)
    assert "先保存一个客户分组作为目标" in page
    assert "Save a customer segment first" in text_of(client.get("/coupons", params={"lang": "en"}).text)


def test_customer_360_shows_the_growth_card(client, shop):
    client.post("/segments/refresh")
    client.post("/risk/assess", data={"nick": "新客阿强"})
    cid = customer_id(shop, "taobao", "新客阿强")
    assert 'hx-get="/customers/' + cid + '/growth"' in client.get(f"/customers/{cid}").text
    card = text_of(client.get(f"/customers/{cid}/growth").text)
    assert "新客户" in card and "差评师风险 高" in card
    assert client.get("/customers/nobody/growth").status_code == 404


def test_growth_report_sums_everything_up(client, shop):
    client.post("/segments/refresh")
    client.post("/risk/assess", data={"nick": "新客阿强"})
    client.post("/listings/import", files={"file": ("l.csv", "标题,运费模板\n全国包邮 T恤,新疆收费\n".encode(), "text/csv")})
    page = text_of(client.get("/growth").text)
    assert "增长报表" in page and "包邮与运费模板不符 1" in page and "高 1" in page
    assert "Growth report" in text_of(client.get("/growth", params={"lang": "en"}).text)
