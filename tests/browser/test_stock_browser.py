"""The stockout dialog in a real browser: an order with a missing item opens a case, the agent clicks "substitute",
and the printable pick list ships the new SKU."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from stock_seed import BLACK_M, WHITE_M, add_order, seed_catalogue


@pytest.fixture(scope="module")
def stock_workbench(tmp_path_factory, seeded_workbench):
    """A running workbench whose shop has a paid order short of black M (white M and white L are in stock)."""
    from kefu.services.shops import get_or_create_shop

    def seed(store) -> None:
        now = datetime.now(UTC)
        with store.session() as session:
            shop_id = get_or_create_shop(session, "缺货演示店").id
            seed_catalogue(session, shop_id, white_m=5)
            add_order(session, shop_id, "7001", [(WHITE_M, 1)], paid_at=now - timedelta(hours=4), buyer="先付款的买家")
            add_order(session, shop_id, "7002", [(BLACK_M, 1)], paid_at=now - timedelta(hours=2), buyer="缺货的买家")

    with seeded_workbench(tmp_path_factory.mktemp('stock-browser') / 'kefu.db', seed=seed) as url:
        yield url


@pytest.mark.browser
def test_an_agent_substitutes_a_missing_item_and_the_pick_list_follows(page, stock_workbench, sign_in, shoot):
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    page.on("console", lambda msg: problems.append(f"console: {msg.text}") if msg.type == "error" else None)
    sign_in(page, stock_workbench)
    expect(page.locator("#current-user")).to_have_text("店主")

    # The stock page: black M is out; the check finds the short order (the earlier order is served first).
    page.click("nav >> text=库存")
    expect(page.locator("table.stock-levels")).to_contain_text("颜色分类：黑色;尺码：M")
    expect(page.locator("table.stockout-cases")).to_have_count(0)
    page.click("#stock-check")
    case = page.locator("tr.stockout-case")
    expect(case).to_have_count(1)
    expect(case).to_contain_text("7002")
    expect(case).to_contain_text("等待买家选择")
    expect(case).not_to_contain_text("7001")
    case.locator("details.case-message summary").click()
    expect(case.locator("details.case-message pre")).to_contain_text("4. 取消订单，全额退款")
    shoot(page, "stock-01-case")

    # Before the buyer decides, the pick list holds the order.
    page.goto(stock_workbench + "/orders/picklist")
    held = page.locator("tr.pick-order", has_text="7002")
    expect(held).to_contain_text("暂不发")

    # The agent picks white L for the buyer: the row updates in place.
    page.goto(stock_workbench + "/stock")
    case = page.locator("tr.stockout-case")
    case.locator("select[name=substitute_sku_id]").select_option(label="颜色分类：白色;尺码：L")
    case.locator("button[data-option=substitute]").click()
    expect(case.locator(".case-status")).to_have_text("已处理")
    expect(case).to_contain_text("换成 白色 / L")
    shoot(page, "stock-02-substituted")

    # The pick list now ships white L for that order.
    page.goto(stock_workbench + "/orders/picklist")
    row = page.locator("tr.pick-order", has_text="7002")
    expect(row).to_contain_text("颜色分类：白色;尺码：L")
    expect(row).to_contain_text("已换规格")
    expect(row).not_to_contain_text("暂不发")
    shoot(page, "stock-03-picklist")
    assert not problems, problems
