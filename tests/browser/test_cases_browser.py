"""A complaint in a real browser: opened from an alert, walked through confirm, analyse, negotiate (with the owner's
approval of a beyond-policy offer), execute and follow-up, to a recorded satisfaction; the call script on the page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from playwright.sync_api import expect


@pytest.fixture(scope="module")
def case_workbench(tmp_path_factory, seeded_workbench):
    """A running workbench whose shop has a buyer, a 100-yuan order and a live parcel-exception alert on it."""
    from kefu.ids import customer_id
    from kefu.services.shops import get_or_create_shop
    from kefu.store.tables import Alert, Customer, Order

    def seed(store) -> None:
        now = datetime.now(UTC)
        with store.session() as session:
            shop_id = get_or_create_shop(session, "投诉演示店").id
            cid = customer_id(shop_id, "taobao", "tb_生气的买家")
            session.add(Customer(id=cid, shop_id=shop_id, platform="taobao", buyer_key="tb_生气的买家",
                                 buyer_nick="tb_生气的买家", created_at=now))
            session.flush()
            session.add(Order(id=f"{shop_id}:8801", shop_id=shop_id, platform="taobao", order_no="8801", customer_id=cid,
                              buyer_nick="tb_生气的买家", status="WAIT_BUYER_CONFIRM_GOODS", source="test",
                              paid_amount=Decimal("100.00"), created_at=now - timedelta(days=3)))
            session.flush()
            session.add(Alert(id="b" * 32, shop_id=shop_id, kind="exception", severity="critical", status="open",
                              dedupe_key="exception:browser", order_id=f"{shop_id}:8801", customer_id=cid,
                              raised_at=now - timedelta(hours=1), rule="物流异常: 包裹成为问题件"))

    with seeded_workbench(tmp_path_factory.mktemp('case-browser') / 'kefu.db', seed=seed) as url:
        yield url


@pytest.mark.browser
def test_a_complaint_runs_through_all_five_steps_to_a_recorded_satisfaction(page, case_workbench, sign_in, shoot):
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    page.on("console", lambda msg: problems.append(f"console: {msg.text}") if msg.type == "error" else None)
    sign_in(page, case_workbench)
    expect(page.locator("#current-user")).to_have_text("店主")

    # The alert queue: "open case" on the parcel exception.
    page.click("nav >> text=提醒")
    page.locator(f"#alert-{'b' * 32} button.open-case").click()
    expect(page.locator("#case-step")).to_have_text("确认")
    expect(page.locator("#call .call-script")).to_contain_text("我理解您的感受")
    expect(page.locator("#call .call-script")).to_contain_text("对不起，这是我们考虑不周")
    expect(page.locator("#evidence")).to_contain_text("订单快照")

    # 1. confirm: the buyer's account and demands
    page.fill("#buyer-account", "杯子碎了，等了三天")
    page.fill("#demands", "补发一个新的")
    page.click("#confirm-form button[type=submit]")
    expect(page.locator("#case-step")).to_have_text("分析")

    # 2. analyse: severity and who decides beyond policy
    page.select_option("#severity", "high")
    page.select_option("#decider", "owner")
    page.click("#analyse-form button[type=submit]")
    expect(page.locator("#case-step")).to_have_text("协商")
    expect(page.locator("#call-suggested")).to_be_visible()

    # 3. negotiate: two offers on the ladder; the one the buyer wants is beyond policy and needs the owner
    offer_form = page.locator("#offer-form")
    offer_form.locator("select[name=kind]").select_option("coupon")
    offer_form.locator("input[name=description]").fill("送10元券")
    offer_form.locator("input[name=cost]").fill("10")
    offer_form.locator("select[name=buyer_accepts]").select_option("no")
    offer_form.locator("button[type=submit]").click()
    offer_form = page.locator("#offer-form")
    offer_form.locator("select[name=kind]").select_option("reship")
    offer_form.locator("input[name=description]").fill("顺丰补发一个")
    offer_form.locator("input[name=cost]").fill("60")
    offer_form.locator("select[name=buyer_accepts]").select_option("yes")
    offer_form.locator("button[type=submit]").click()
    rows = page.locator("table.offers tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("顺丰补发一个")  # the buyer's satisfaction first
    expect(rows.nth(0)).to_contain_text("第3档")
    expect(rows.nth(0)).to_contain_text("超出政策")
    expect(rows.nth(1)).to_contain_text("第4档")
    shoot(page, "cases-01-ladder")
    rows.nth(0).locator("button.approve").click()
    expect(page.locator("table.offers tbody tr").nth(0)).to_contain_text("已批准")
    page.locator("table.offers tbody tr").nth(0).locator("button.choose").click()
    expect(page.locator("#case-step")).to_have_text("执行")

    # 4. execute: the reshipment recorded and tracked to done
    action_form = page.locator("#action-form")
    action_form.locator("select[name=kind]").select_option("reship")
    action_form.locator("input[name=reference]").fill("SF1234567890")
    action_form.locator("button[type=submit]").click()
    page.locator("#execute button.mark-done").click()
    expect(page.locator("#execute")).to_contain_text("SF1234567890")
    page.click("#executed")
    expect(page.locator("#case-step")).to_have_text("回访")

    # the phone call and its outcome
    call_form = page.locator("#call-form")
    call_form.locator("select[name=outcome]").select_option("settled")
    call_form.locator("input[name=note]").fill("买家接受补发")
    call_form.locator("button[type=submit]").click()
    expect(page.locator("#call")).to_contain_text("谈妥")

    # 5. follow up: satisfaction asked and recorded, the case closes
    page.select_option("#score", "5")
    page.locator("#satisfaction-form input[name=note]").fill("很满意")
    page.click("#satisfaction-form button[type=submit]")
    expect(page.locator("#satisfaction-recorded")).to_contain_text("5/5")
    expect(page.locator("#case-step")).to_have_text("已结案")
    shoot(page, "cases-02-closed")

    # the list shows it closed; the case file exports with its hashes
    page.goto(case_workbench + "/cases?status=closed")
    expect(page.locator("table.cases")).to_contain_text("物流异常")
    page.goto(case_workbench + "/cases")
    expect(page.locator(".empty")).to_be_visible()
    assert not problems, problems
