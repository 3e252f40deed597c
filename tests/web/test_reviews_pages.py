"""Review pages and REST on both stores: the queue, approving, exporting, a recovery case with a blocked remedy."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from kefu.services.reviews import import_review_file
from kefu.store.review_tables import Review, ReviewRecoveryCase

NOW = datetime(2026, 11, 22, 12, tzinfo=UTC)


@pytest.fixture
def reviews(store, fixtures_dir):
    import_review_file(store, fixtures_dir / "reviews" / "top_rates.csv", "评价店", now=NOW)
    with store.session() as s:
        return {r.tid: r.id for r in s.scalars(select(Review).where(Review.kind == "review"))}


def test_queue_filters_edit_approve_and_export(client, reviews):
    page = client.get("/reviews")
    assert page.status_code == 200 and "掉色严重" in page.text and "追评" in page.text
    flagged = client.get("/reviews?flagged=1", headers={"HX-Request": "true", "HX-Target": "reviews-table"})
    assert "太差了" in flagged.text and "掉色严重" not in flagged.text and "<html" not in flagged.text
    assert "尺码偏小" in client.get("/reviews?topic=quality.size").text
    bad = reviews["4100000000000000002"]
    blocked = client.post(f"/reviews/{bad}/reply", data={"text": "好评返现20元，改一下评价吧"}, headers={"HX-Request": "true"})
    assert "review" in blocked.text and "rv-error" in blocked.text
    saved = client.post(f"/reviews/{bad}/reply", data={"text": "抱歉，已为您补发，欢迎联系客服。"}, headers={"HX-Request": "true"})
    assert "已为您补发" in saved.text and "rv-error" not in saved.text
    assert "已审核" in client.post(f"/reviews/{bad}/approve", headers={"HX-Request": "true"}).text
    assert client.post("/reviews/approve-good", follow_redirects=False).headers["location"] == "/reviews?approved=1"
    exported = client.post("/reviews/export", data={"fmt": "json"})
    body = json.loads(exported.text)
    assert exported.headers["content-disposition"].endswith('traderate-explain.json"')
    assert {row["tid"] for row in body["explanations"]} == {"4100000000000000001", "4100000000000000002"}
    api = client.get("/api/reviews?reply=exported").json()
    assert api["total"] == 2 and api["items"][0]["reply"]["status"] == "exported"


def test_recovery_case_blocks_a_reward_for_the_review_and_keeps_evidence(client, agent, reviews, store):
    flagged = reviews["4100000000000000003"]
    opened = client.post(f"/reviews/{flagged}/recovery", follow_redirects=False)
    case_url = opened.headers["location"]
    assert case_url.startswith("/reviews/cases/")
    case_id = case_url.rsplit("/", 1)[1]
    assert "致电道歉" in client.get(case_url).text
    client.post(f"{case_url}/step", data={"note": "已电话道歉"})
    client.post(f"{case_url}/step", data={"cause": "quality.colour"})
    upload = client.post(f"{case_url}/evidence", files={"file": ("色差.jpg", b"\xff\xd8fake", "image/jpeg")},
                         follow_redirects=True)
    assert "色差.jpg" in upload.text
    blocked = client.post(f"{case_url}/step", data={"remedy": "好评返现：改成五星好评后返您10元"})
    assert blocked.status_code == 200 and "review_reward" in blocked.text and "reward-blocked" in blocked.text
    with store.session() as s:
        assert s.get(ReviewRecoveryCase, case_id).step == "remedy"
    client.post(f"{case_url}/step", data={"remedy": "补发一套，另送一张5元优惠券表示歉意", "remedy_cost": "5"})
    with store.session() as s:
        assert s.get(ReviewRecoveryCase, case_id).step == "satisfaction"
    assert client.get("/reviews/cases").status_code == 200
    api = agent.post(f"/api/reviews/cases/{case_id}/step", json={"buyer_satisfied": False, "ask_update": True})
    assert api.status_code == 422


def test_root_causes_page_and_api(client, reviews):
    page = client.get("/reviews/root-causes?days=0")
    assert page.status_code == 200 and "pareto-chart" in page.text and "颜色/色差" in page.text
    data = client.get("/api/reviews/root-causes?days=0").json()
    assert data["total"] == 3 and data["bars"][0]["cumulative"] <= 1


def test_empty_workbench_pages_render(client):
    for url in ("/reviews", "/reviews/cases", "/reviews/root-causes"):
        assert client.get(url).status_code == 200


def test_evidence_photos_show_inline_but_svg_downloads(client, reviews, store):
    case_url = client.post(f"/reviews/{reviews['4100000000000000002']}/recovery", follow_redirects=False).headers["location"]
    client.post(f"{case_url}/evidence", files={"file": ("a.png", b"\x89PNG", "image/png")})
    client.post(f"{case_url}/evidence", files={"file": ("b.svg", b"<svg onload=alert(1)>", "image/svg+xml")})
    from kefu.store.review_tables import ReviewEvidence

    with store.session() as s:
        ids = {e.file_name: e.id for e in s.scalars(select(ReviewEvidence))}
    png = client.get(f"/reviews/evidence/{ids['a.png']}")
    assert png.headers["content-type"] == "image/png" and png.headers["content-disposition"].startswith("inline")
    svg = client.get(f"/reviews/evidence/{ids['b.svg']}")
    assert svg.headers["content-type"] == "application/octet-stream"
    assert svg.headers["content-disposition"].startswith("attachment")
