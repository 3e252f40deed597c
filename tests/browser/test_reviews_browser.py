"""Reviews in a real browser: upload reviews, approve drafts, open a recovery case, see a 好评返现 remedy blocked."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect


@pytest.mark.browser
def test_owner_works_the_review_queue(page, workbench, owner_login, fixtures_dir, shoot):
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    page.on("console", lambda msg: problems.append(f"console: {msg.text}") if msg.type == "error" else None)

    page.set_default_timeout(60_000)  # a loaded two-core machine: pages may take seconds
    page.goto(workbench + "/login")
    page.fill("#username", owner_login[0])
    page.fill("#password", owner_login[1])
    page.click("button[type=submit]")
    page.click("nav >> text=评价管理")
    expect(page).to_have_url(workbench + "/reviews")

    # Upload the TOP file: four reviews land, the two bad rows are named by line.
    page.set_input_files("#review-files", str(fixtures_dir / "reviews" / "top_rates.csv"))
    page.click("#review-upload button[type=submit]")
    results = page.locator("#review-import-results")
    expect(results.locator(".rejected-count")).to_have_text("2")
    expect(results).to_contain_text("top_rates.csv:7:")
    page.click("#review-import-results >> text=刷新评价队列")
    rows = page.locator("tr.review-row")
    expect(rows).to_have_count(4)
    expect(page.locator("tr.review-row.flagged")).to_have_count(1)
    shoot(page, "reviews-01-queue")

    # Bulk-approve the good ones (the flagged one waits), then approve a bad review's draft by hand.
    page.click("#approve-good")
    expect(page.locator("#approved-count")).to_contain_text("1")
    bad_row = page.locator("tr.review-row.result-bad")
    bad_row.locator("button", has_text="审核通过").click()
    expect(page.locator("tr.review-row.result-bad .rv-reply-approved")).to_be_visible()

    # Filter to flagged reviews and open a recovery case for the good rating with unhappy words.
    page.check("input[name=flagged]")
    expect(rows).to_have_count(1)
    rows.first.locator("button", has_text="开挽回案件").click()
    expect(page).to_have_url(re.compile(r"/reviews/cases/"))
    page.fill("input[name=note]", "已电话道歉")
    page.click(".rv-step-form button[type=submit]")
    page.select_option("select[name=cause]", "quality.colour")
    page.click(".rv-step-form button[type=submit]")

    # A 好评返现 remedy is blocked with the review_reward code and a safer wording; an honest one goes through.
    page.fill("textarea[name=remedy]", "好评返现：改成五星好评就返您10元红包")
    page.click(".rv-step-form button[type=submit]")
    blocked = page.locator("#reward-blocked")
    expect(blocked).to_contain_text("review_reward")
    expect(blocked).to_contain_text("与评价无关")
    shoot(page, "reviews-02-blocked")
    page.fill("textarea[name=remedy]", "补发一件，另送一张5元优惠券表示歉意")
    page.click(".rv-step-form button[type=submit]")
    expect(page.locator(".rv-step-form h2, section h2").first).to_contain_text("询问是否满意")

    page.goto(workbench + "/reviews/root-causes?days=0")
    expect(page.locator("#pareto-chart")).to_be_visible()
    page.wait_for_function("window.kefuParetoChart !== undefined")
    shoot(page, "reviews-03-pareto")
    assert problems == []
