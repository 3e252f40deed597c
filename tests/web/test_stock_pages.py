"""The stock page, its case buttons, the pick list with stockout outcomes and the stock REST API (both stores)."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from kefu.services.shops import get_or_create_shop
from kefu.services.stock_check import check_stock
from kefu.services.stockouts import live_case_for_order
from kefu.store.stock_tables import StockoutCase
from kefu.store.tables import OrderLine, Sku
from stock_seed import BLACK_M, WHITE_L, WHITE_M, add_order, seed_catalogue

NOW = datetime.now(UTC)


@pytest.fixture
def short_order(store):
    """A shop with one order short of black M (substitutes: white M, white L) and one fully covered order."""
    with store.session() as s:
        shop_id = get_or_create_shop(s, "库存店").id
        seed_catalogue(s, shop_id, white_m=3)
        add_order(s, shop_id, "9001", [(WHITE_M, 1)], paid_at=NOW - timedelta(hours=3), buyer="早付款")
        oid = add_order(s, shop_id, "9002", [(BLACK_M, 1), (WHITE_L, 1)], paid_at=NOW - timedelta(hours=1), buyer="晚付款")
        check_stock(s, shop_id, now=NOW)
        case_id = live_case_for_order(s, oid).id
    return shop_id, oid, case_id


def test_the_stock_page_lists_levels_cases_and_the_cancelled_share(client, short_order):
    page = client.get("/stock")
    assert page.status_code == 200
    html = page.text
    assert "库存与缺货" in html and "9002" in html and "等待买家选择" in html
    assert "颜色分类：黑色;尺码：M" in html and "缺货" in html
    assert 'data-option="substitute"' in html and 'data-option="ship_available"' in html
    assert 'id="stock-cancelled-share"' in html
    client.get("/lang/en?next=/stock")
    en = client.get("/stock")
    assert en.status_code == 200 and "Stock and stockouts" in en.text and "Awaiting the buyer" in en.text


def test_the_sell_through_period_can_be_chosen(client, short_order):
    page = client.get("/stock?days=7")
    assert page.status_code == 200 and '<option value="7" selected>近 7 天</option>' in page.text
    assert '<option value="30"' in page.text and client.get("/stock?days=-4").status_code == 200


def test_the_search_narrows_the_table(client, short_order):
    part = client.get("/stock?q=黑色", headers={"HX-Request": "true", "HX-Target": "stock-table"})
    assert part.status_code == 200
    assert "黑色" in part.text and "颜色分类：白色;尺码：L" not in part.text and "<html" not in part.text


def test_an_agent_clicks_substitute_and_the_pick_list_changes(client, store, short_order):
    _shop, oid, case_id = short_order
    before = client.get("/orders/picklist").text
    assert "暂不发" in before  # the short order is held while the buyer decides
    row = client.post(f"/stock/cases/{case_id}/choose", data={"option": "substitute", "substitute_sku_id": "s-wl"},
                      headers={"HX-Request": "true"})
    assert row.status_code == 200 and "已处理" in row.text and "换成 白色 / L" in row.text
    with store.session() as s:
        assert s.get(OrderLine, f"{oid}#1").sku_properties == WHITE_L
    after = client.get("/orders/picklist").text
    assert "已换规格" in after and "暂不发" not in after


def test_the_pick_list_splits_a_waiting_order_and_strikes_refunded_units(client, store):
    with store.session() as s:
        shop_id = get_or_create_shop(s, "拣货店").id
        seed_catalogue(s, shop_id, white_m=1, black_m=0, white_l=1)
        wait = add_order(s, shop_id, "8001", [(BLACK_M, 1), (WHITE_M, 1)], paid_at=NOW - timedelta(hours=3), buyer="等")
        refund = add_order(s, shop_id, "8002", [(WHITE_L, 2)], paid_at=NOW - timedelta(hours=2), buyer="退")
        check_stock(s, shop_id, now=NOW)
        waiting_case, refund_case = live_case_for_order(s, wait).id, live_case_for_order(s, refund).id
    assert client.post(f"/stock/cases/{waiting_case}/reply", data={"text": "等到12月5号"}).status_code in (200, 303)
    page = client.get("/orders/picklist").text
    assert "缺货：先发有货部分" in page and "暂不发 1" in page and "缺货：等买家选择，暂不发" in page
    client.post(f"/stock/cases/{refund_case}/choose", data={"option": "ship_available"})
    page = client.get("/orders/picklist").text
    assert "本次发 1" in page and "已退款 1" in page and "缺货：等买家选择" not in page
    client.post(f"/stock/cases/{waiting_case}/choose", data={"option": "cancel"})
    assert "已取消，勿发" in client.get("/orders/picklist").text


def test_a_reply_that_is_not_understood_says_so(client, short_order):
    _shop, _oid, case_id = short_order
    row = client.post(f"/stock/cases/{case_id}/reply", data={"text": "在吗"}, headers={"HX-Request": "true"})
    assert row.status_code == 200 and "没看懂这条回复" in row.text and "等待买家选择" in row.text


def test_a_refused_choice_is_shown_on_the_row(client, short_order):
    _shop, _oid, case_id = short_order
    row = client.post(f"/stock/cases/{case_id}/choose", data={"option": "substitute", "substitute_sku_id": "s-bm"},
                      headers={"HX-Request": "true"})
    assert row.status_code == 200 and "case-note bad" in row.text


def test_the_api_lists_and_decides_cases(client, store, short_order):
    _shop, oid, case_id = short_order
    stock = client.get("/api/stock?low=true").json()
    assert {s["sku_id"] for s in stock["skus"]} >= {"s-bm"}
    assert stock["stockouts"]["live"] == 1
    cases = client.get("/api/stock/cases").json()["items"]
    assert [c["id"] for c in cases] == [case_id] and cases[0]["lines"][0]["missing"] == 1
    refused = client.post(f"/api/stock/cases/{case_id}/choose", json={"option": "nonsense"})
    assert refused.status_code == 422
    reply = client.post(f"/api/stock/cases/{case_id}/reply", json={"text": "先发有货的"}).json()
    assert reply["understood"] and reply["case"]["status"] == "done"
    again = client.post(f"/api/stock/cases/{case_id}/choose", json={"option": "cancel"})
    assert again.status_code == 409
    with store.session() as s:
        assert s.get(StockoutCase, case_id).choice == "ship_available"


def test_uploading_a_stock_file_reports_bad_rows_and_updates_the_rest(client, store, short_order):
    data = "SKU编码,库存,补货日期\nXTZ-001-s-bm,5,2026-12-05\nXTZ-404,3,\nXTZ-001-s-wl,abc,\n".encode("utf-8")
    result = client.post("/stock/import", files={"file": ("库存.csv", io.BytesIO(data), "text/csv")})
    assert result.status_code == 200
    assert "库存.csv:3" in result.text and "库存.csv:4" in result.text and "更新 SKU 1 个" in result.text
    with store.session() as s:
        assert s.get(Sku, "s-bm").stock == 5
        # the check ran after the upload: black M arrived, so the case closed
        assert s.scalar(select(StockoutCase.status)) == "done"


def test_check_now_redirects_back(client, short_order):
    response = client.post("/stock/check", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/stock"
