"""Messages in a real browser: edit a template with its live preview, save it, send the delay apology from a stall
alert (shown in the shop's voice first), and find the message on the customer's timeline."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

H = timedelta(hours=1)


def seed(store) -> None:
    """A shop (quiet hours off, so the test does not depend on the clock) with a buyer, a stalled parcel and its alert."""
    from kefu.ids import customer_id
    from kefu.services.shops import get_or_create_shop
    from kefu.store.tables import Alert, Customer, Order, OrderLine, Shipment

    now = datetime.now(UTC)
    with store.session() as session:
        shop = get_or_create_shop(session, "消息演示店")
        shop.settings = {"messaging": {"quiet_purposes": []}}
        cid = customer_id(shop.id, "taobao", "tb_小鹿")
        session.add(Customer(id=cid, shop_id=shop.id, platform="taobao", buyer_key="tb_小鹿", buyer_nick="tb_小鹿",
                             created_at=now))
        session.flush()
        oid = f"{shop.id}:7701"
        session.add(Order(id=oid, shop_id=shop.id, platform="taobao", order_no="7701", customer_id=cid,
                          buyer_nick="tb_小鹿", status="WAIT_BUYER_CONFIRM_GOODS", source="test",
                          created_at=now - 120 * H, shipped_at=now - 100 * H))
        session.flush()
        session.add(OrderLine(id=f"{oid}:1", shop_id=shop.id, order_id=oid, line_no=1, title="羊毛围巾", quantity=1))
        session.add(Shipment(id=f"{oid}:YT77", shop_id=shop.id, order_id=oid, carrier_code="yuantong",
                             carrier_name="圆通速递", waybill_no="YT77", status="in_transit", shipped_at=now - 100 * H,
                             last_event_at=now - 80 * H))
        session.flush()
        session.add(Alert(id="c" * 32, shop_id=shop.id, kind="stall", severity="warning", status="open",
                          dedupe_key="stall:browser-messages", order_id=oid, shipment_id=f"{oid}:YT77",
                          customer_id=cid, raised_at=now - H, rule="物流停滞 80 小时（上限 48）"))


def test_edit_preview_send_apology_and_see_it_on_the_timeline(page, seeded_workbench, sign_in, tmp_path, shoot):
    with seeded_workbench(tmp_path / "kefu.db", seed) as base:
        sign_in(page, base)
        page.goto(f"{base}/messages/templates")
        editor = page.locator("#tpl-parcel-delayed")
        expect(editor.locator(".template-preview")).to_contain_text("非常抱歉")
        body = editor.locator("textarea")
        body.fill("{{ nickname }}，真抱歉！{{ courier }} {{ waybill }} 在路上慢了，我们正在催。")
        expect(editor.locator(".template-preview")).to_contain_text("tb_kitty2019，真抱歉！中通快递 78912345678901 在路上慢了")
        body.fill("{{ nickname }}，{{ phone }}")
        expect(editor.locator(".template-preview")).to_contain_text("未知变量")
        body.fill("{{ nickname }}，真抱歉！{{ courier }} {{ waybill }} 在路上慢了，我们正在催。")
        editor.locator("button[type=submit]").first.click()
        expect(page.locator("#tpl-parcel-delayed")).to_contain_text("已自定义")
        shoot(page, "messages-templates")

        page.goto(f"{base}/alerts")
        page.click("button.delay-apology")
        panel = page.locator(".apology")
        expect(panel).to_contain_text("tb_小鹿，真抱歉！圆通速递 YT77 在路上慢了，我们正在催。")
        panel.locator("button.send-apology").click()
        expect(page.locator(".apology-result")).to_contain_text("已加入发件箱")
        shoot(page, "messages-apology")

        page.goto(f"{base}/messages")
        expect(page.locator("table.messages")).to_contain_text("tb_小鹿，真抱歉！")
        page.locator("a", has_text="tb_小鹿").first.click()
        timeline = page.locator("#customer-timeline")
        expect(timeline.locator("li.tl-message")).to_contain_text("tb_小鹿，真抱歉！圆通速递 YT77")
        expect(timeline.locator("li.tl-message")).to_contain_text("待发送")
        expect(timeline).to_contain_text("提醒")
        shoot(page, "messages-timeline")
