"""The service desk in a real browser: log in, open the inbox, pick a chat, see the buyer card, send a cited draft."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from playwright.sync_api import expect

TRAP = "今天能发货吗？发新疆，货到付款"
SHIPPING = "cutoff: 16:00\nship_promise_hours: 48\nsame_day: 是\ncouriers: 中通、圆通\nfree_shipping: 是\n" \
           "excluded_provinces: 新疆、西藏\nremote_fee: 15\ncash_on_delivery: 否\ninvoice: 是"


@pytest.fixture(scope="module")
def desk_workbench(tmp_path_factory, seeded_workbench):
    """A workbench whose shop has a knowledge base and a buyer (with an order) asking the Xinjiang / COD trap."""
    from kefu.ids import customer_id
    from kefu.services.conversations import receive_buyer_message
    from kefu.services.knowledge import save_entry
    from kefu.services.shops import get_or_create_shop
    from kefu.store.tables import Customer, Order

    def seed(store) -> None:
        now = datetime.now(UTC)
        with store.session() as s:
            shop_id = get_or_create_shop(s, "小桃子的衣橱").id
            save_entry(s, shop_id=shop_id, kind="shipping", title="发货与快递", data=SHIPPING)
            cid = customer_id(shop_id, "taobao", "tb_新疆小红")
            s.add(Customer(id=cid, shop_id=shop_id, platform="taobao", buyer_key="tb_新疆小红", buyer_nick="tb_新疆小红",
                           value_tier="top", orders_count=1, total_spent=Decimal("259.00"), created_at=now))
            s.flush()
            s.add(Order(id=f"{shop_id}:7001", shop_id=shop_id, platform="taobao", order_no="7001", customer_id=cid,
                        buyer_nick="tb_新疆小红", status="WAIT_SELLER_SEND_GOODS", source="test", created_at=now - timedelta(hours=3),
                        paid_amount=Decimal("259.00"), title_summary="碎花雪纺连衣裙", receiver_province="新疆维吾尔自治区"))
            receive_buyer_message(s, shop_id=shop_id, buyer="tb_新疆小红", text=TRAP, now=now)

    with seeded_workbench(tmp_path_factory.mktemp('desk') / 'kefu.db', seed=seed) as url:
        yield url


@pytest.mark.browser
def test_agent_answers_the_trap_from_the_inbox_with_a_cited_draft(page, desk_workbench, sign_in, shoot):
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    page.on("console", lambda msg: problems.append(f"console: {msg.text}") if msg.type == "error" else None)

    sign_in(page, desk_workbench)
    expect(page.locator("#current-user")).to_have_text("店主")

    page.click("nav >> text=接待中心")
    expect(page).to_have_url(re.compile(r"/inbox"))
    page.click("#inbox-list a.conv >> text=tb_新疆小红")
    expect(page.locator("#chat")).to_contain_text(TRAP)
    card = page.locator("#buyer-card")
    expect(card).to_contain_text("tb_新疆小红")
    expect(card).to_contain_text("头部客户")
    expect(card).to_contain_text("7001")
    shoot(page, "desk-01-inbox")

    page.click("#make-draft")
    citations = page.locator("#draft-citations")
    expect(citations).to_contain_text("发货与快递")
    expect(citations).to_contain_text("cash_on_delivery")
    draft = page.locator("#reply-text").input_value()
    assert "新疆不在包邮范围内" in draft and "暂不支持货到付款" in draft
    assert "支持货到付款" not in draft.replace("暂不支持货到付款", "")
    expect(page.locator("#guard-verdict")).to_have_class(re.compile(r"\ballow\b"))
    shoot(page, "desk-02-draft")

    page.click("#send-reply")
    expect(page.locator("#chat .msg.seller").last).to_contain_text("新疆不在包邮范围内")

    # A typed risky promise is stopped with the safer wording.
    page.fill("#reply-text", "今天一定给您发，新疆也包邮，支持货到付款")
    page.click("#send-reply")
    expect(page.locator("#guard-verdict")).to_have_class(re.compile(r"\bblock\b"))
    expect(page.locator("#guard-verdict .safer").first).not_to_be_empty()
    shoot(page, "desk-03-blocked")
    assert [p for p in problems if "status of 422" not in p] == []  # the blocked reply's page is a 422 on purpose
