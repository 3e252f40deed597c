"""The workbench in a real browser: log in, upload a 千牛 export, see the rejected row, open a 360, reveal, audit."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

UPLOAD = "web_upload_ExportOrderList202503121030.csv"


@pytest.mark.browser
def test_owner_imports_an_export_and_reveals_a_phone(page, workbench, owner_login, fixtures_dir, shoot):
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    page.on("console", lambda msg: problems.append(f"console: {msg.text}") if msg.type == "error" else None)

    # Log in: the dashboard asks for it first.
    page.goto(workbench + "/")
    expect(page).to_have_url(re.compile(r"/login"))
    shoot(page, "01-login")
    page.fill("#username", owner_login[0])
    page.fill("#password", owner_login[1])
    page.click("button[type=submit]")
    expect(page.locator("#current-user")).to_have_text("店主")

    # Upload the export on /imports and see the run with its rejected row.
    page.click("nav >> text=数据导入")
    expect(page).to_have_url(workbench + "/imports")
    page.set_input_files("#files", str(fixtures_dir / "taobao" / UPLOAD))
    page.click("#upload-form button[type=submit]")
    results = page.locator("#import-results")
    expect(results).to_contain_text(UPLOAD)
    expect(results.locator(".rejected-count")).to_have_text("1")
    rejected = results.locator("table.rejections tbody tr")
    expect(rejected).to_have_count(1)
    expect(rejected).to_contain_text("6")
    expect(rejected).to_contain_text("5x.00")
    shoot(page, "02-imports")
    results.locator("text=查看详情").first.click()
    expect(page.locator("table.rejections")).to_contain_text("5x.00")
    shoot(page, "03-import-run")

    # Dashboard and orders now have data.
    page.click("nav >> text=工作台")
    expect(page.locator(".callout")).to_contain_text("前20%客户贡献了")
    page.wait_for_function("window.kefuChart !== undefined")
    shoot(page, "04-dashboard")
    page.click("nav >> text=订单")
    expect(page.locator("table.orders")).to_contain_text("3901000000000000012")
    shoot(page, "05-orders")
    page.click("text=3901000000000000012")
    expect(page.locator("body")).to_contain_text("请发中通谢谢")
    shoot(page, "06-order")

    # Find the buyer on /customers (HTMX search) and open the 360.
    page.click("nav >> text=客户")
    page.fill("#customer-q", "小鹿")
    expect(page.locator("#customers-table tbody tr")).to_have_count(1)
    shoot(page, "07-customers")
    page.click("#customers-table >> text=小鹿乱撞_2020")
    expect(page.locator(".profile-head .nick")).to_have_text("小鹿乱撞_2020")
    phone = page.locator(".pii[data-field$=phone]").first
    expect(phone).to_contain_text("138****0011")
    expect(page.locator("body")).not_to_contain_text("13800000011")

    # Tags and notes are edited in place.
    page.fill("#tag-input", "老客")
    page.press("#tag-input", "Enter")
    expect(page.locator("#tags")).to_contain_text("老客")
    page.fill("#note-body", "喜欢碎花连衣裙，偏好中通")
    page.click("#note-form button[type=submit]")
    expect(page.locator("#notes")).to_contain_text("喜欢碎花连衣裙")

    # Reveal the phone: the clear value comes back as a fragment.
    phone.locator("button.reveal").click()
    expect(page.locator(".pii.revealed")).to_contain_text("13800000011")
    shoot(page, "08-customer-360")

    # The owner sees the reveal in the audit log.
    page.click("nav >> text=审计日志")
    first_row = page.locator("table.audit tbody tr").first
    expect(first_row).to_contain_text("查看隐私信息")
    expect(first_row).to_contain_text("店主")
    expect(first_row.locator(".audit-detail")).to_contain_text("手机")
    shoot(page, "09-audit")

    # English switch, remembered.
    page.click("text=EN")
    expect(page.locator("nav")).to_contain_text("Customers")
    page.goto(workbench + "/customers")
    expect(page.locator("nav")).to_contain_text("Customers")
    shoot(page, "10-customers-en")

    assert not problems, problems
