"""Growth in a real browser: the seller sees the RFM groups and saves a segment, gets a fitting gift proposed while
an embarrassing one is refused, runs a coupon campaign that stops at its budget, is warned about an extortion buyer
with an evidence pack, and sees the listing audit's fixes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def _seed(store) -> None:
    from kefu.domain import order_status as s
    from kefu.ids import customer_id, order_id
    from kefu.services.customer_stats import refresh_customer_stats
    from kefu.services.shops import get_or_create_shop
    from kefu.store.desk_tables import ChatMessage, Conversation
    from kefu.store.tables import Customer, Order, OrderLine, Product

    now = datetime.now(UTC)
    with store.session() as session:
        shop = get_or_create_shop(session, "浏览器增长店")
        session.add(Product(id="p1", shop_id=shop.id, product_key="p1", title="真丝衬衫", category="女装"))
        for i in range(6):
            nick = f"老客{i}"
            cust = Customer(id=customer_id(shop.id, "taobao", nick), shop_id=shop.id, platform="taobao",
                            buyer_key=nick, buyer_nick=nick, gender="female", marketing_consent=True, province="浙江",
                            created_at=now)
            session.add(cust)
            session.flush()
            for n in range(3 + i):
                oid = order_id(shop.id, f"{i}-{n}")
                at = now - timedelta(days=10 + 25 * n)
                session.add(Order(id=oid, shop_id=shop.id, platform="taobao", order_no=f"{i}-{n}",
                                  customer_id=cust.id, status=s.TRADE_FINISHED, created_at=at, paid_at=at,
                                  paid_amount=Decimal(300 + 50 * i), receiver_address="幸福小区 1 单元 101 室",
                                  source="test"))
                session.flush()
                session.add(OrderLine(id=f"{oid}:1", shop_id=shop.id, order_id=oid, line_no=1, product_id="p1",
                                      title="真丝衬衫"))
        bad = Customer(id=customer_id(shop.id, "taobao", "tb_差评师"), shop_id=shop.id, platform="taobao",
                       buyer_key="tb_差评师", buyer_nick="tb_差评师", province="新疆", created_at=now)
        session.add(bad)
        session.flush()
        session.add(Conversation(id="cv", shop_id=shop.id, channel="qianniu", buyer_key="tb_差评师", customer_id=bad.id,
                                 created_at=now))
        session.flush()
        for n, body in enumerate(["今天能发货吗？发新疆，货到付款", "不给我返100就给差评", "加微信转账给我"]):
            session.add(ChatMessage(id=f"m{n}", shop_id=shop.id, conversation_id="cv", sender="buyer",
                                    sent_at=now + timedelta(minutes=n), body=body, source="test", created_at=now))
        shop_id = shop.id
    with store.engine.begin() as conn:
        refresh_customer_stats(conn, shop_id)


@pytest.fixture(scope="module")
def growth_workbench(tmp_path_factory, seeded_workbench):
    with seeded_workbench(tmp_path_factory.mktemp("growth") / "kefu.db", seed=_seed) as url:
        yield url


def test_a_seller_works_growth_care_and_risk(page, growth_workbench, sign_in, shoot, tmp_path):
    base = growth_workbench
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    sign_in(page, base)

    # Segments: compute the groups (chart and table), save the top buyers as a segment.
    page.click("nav >> text=客户分组")
    page.click("#segments-refresh")
    expect(page.locator(".segment-groups")).to_contain_text("核心客户")
    page.fill("#segment-form input[name=name]", "浙江老客")
    page.fill("#segment-form input[name=provinces]", "浙江")
    page.fill("#segment-form input[name=min_orders]", "3")
    page.check("#segment-form input[name=marketing_consent]")
    page.click("#segment-save")
    expect(page.locator(".saved-segments")).to_contain_text("浙江老客")
    expect(page.locator(".saved-segments tbody tr").first.locator("td").nth(2)).to_have_text("6")
    shoot(page, "growth-01-segments")

    # Care: a gift catalogue with an intimate item; the proposal picks the fitting one and says why not the other.
    page.click("nav >> text=关怀回访")
    for key, name, cost, sensitivity in (("scarf", "小丝巾", "18", "none"), ("c", "安全套", "5", "intimate")):
        page.fill("#gift-item-form input[name=key]", key)
        page.fill("#gift-item-form input[name=name]", name)
        page.fill("#gift-item-form input[name=cost]", cost)
        page.select_option("#gift-item-form select[name=sensitivity]", sensitivity)
        page.click("#gift-item-form button")
    page.fill("#gift-propose input[name=nick]", "老客5")
    page.click("#gift-propose button")
    result = page.locator("#gift-result")
    expect(result).to_contain_text("给 老客5 推荐：小丝巾")
    expect(result).to_contain_text("私密或令人尴尬的物品不能作为惊喜礼物")
    shoot(page, "growth-02-gifts")

    # Coupons: 50 off 300 for the segment with a budget for two coupons only; the run stops at the budget.
    page.click("nav >> text=回访优惠券")
    page.fill("#coupon-form input[name=budget]", "100")
    page.click("#coupon-create")
    page.click(".coupon-campaigns button:has-text('发券')")
    expect(page.locator("#coupon-notice")).to_contain_text("issued 2")
    expect(page.locator("#coupon-notice")).to_contain_text("预算用完")
    expect(page.locator(".coupon-campaigns")).to_contain_text("已结束")
    shoot(page, "growth-03-coupons")

    # Risk: the extortion buyer is scored high, with the words quoted; the evidence pack downloads.
    page.click("nav >> text=差评师风险")
    page.fill("#risk-assess input[name=nick]", "tb_差评师")
    page.click("#risk-assess button")
    row = page.locator(".risk-buyers tbody tr").first
    expect(row).to_contain_text("tb_差评师")
    expect(row).to_contain_text("以差评要挟索要钱物")
    with page.expect_download() as download:
        row.locator("a[download]").click()
    saved = tmp_path / "pack.json"
    download.value.save_as(saved)
    assert "不给我返100就给差评" in saved.read_text(encoding="utf-8")
    shoot(page, "growth-04-risk")

    # Listings: upload a file, see each finding with its fix.
    listings = tmp_path / "listings.csv"
    listings.write_text("宝贝ID,标题,运费模板,描述\nL1,真丝衬衫 全国包邮,\"包邮,新疆西藏除外\",七天无理由\n", encoding="utf-8")
    page.click("nav >> text=宝贝自查")
    page.set_input_files("#listing-upload input[type=file]", str(listings))
    page.click("#listing-upload button")
    expect(page.locator(".listing-findings")).to_contain_text("标题改为“包邮（新疆、西藏除外）”")
    shoot(page, "growth-05-listings")
    assert problems == []
