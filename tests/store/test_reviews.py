"""Reviews in the store on SQLite and PostgreSQL: import, links, 追评, re-import, training, replies, recovery, causes."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from kefu.cli import app as cli_app
from kefu.ids import customer_id as make_customer_id
from kefu.services.review_recovery import RecoveryError, RewardBlocked, add_evidence, complete_step, open_case
from kefu.services.review_replies import (
    ReplyError,
    approve_reply,
    bulk_approve_good,
    edit_reply,
    export_explanations,
    list_queue,
    QueueFilter,
)
from kefu.services.reviews import NotEnoughReviews, import_review_file, shop_model, train_shop_model
from kefu.services.root_causes import root_cause_report
from kefu.services.shops import find_shop, get_or_create_shop
from kefu.store.review_tables import Review, ReviewRecoveryCase, ReviewReply, SentimentModelRow
from kefu.store.tables import Customer, ImportRejection, Order, OrderLine, Product

NOW = datetime(2026, 11, 22, 12, tzinfo=UTC)
SHOP = "评价店"


@pytest.fixture
def reviews_dir(fixtures_dir):
    return fixtures_dir / "reviews"


@pytest.fixture
def with_order(store):
    """The first review's order, line and product exist, so the import links to them."""
    with store.session() as s:
        shop_id = get_or_create_shop(s, SHOP).id
        cid = make_customer_id(shop_id, "taobao", "tb_小鹿")
        s.add(Customer(id=cid, shop_id=shop_id, platform="taobao", buyer_key="tb_小鹿", buyer_nick="tb_小鹿",
                       created_at=NOW))
        s.add(Product(id="p1", shop_id=shop_id, product_key="t-shirt", title="夏季纯棉短袖T恤女宽松百搭"))
        s.flush()
        oid = f"{shop_id}:4100000000000000001"
        s.add(Order(id=oid, shop_id=shop_id, platform="taobao", order_no="4100000000000000001", customer_id=cid,
                    buyer_nick="tb_小鹿", status="TRADE_FINISHED", source="test"))
        s.flush()
        s.add(OrderLine(id=f"{oid}:1", shop_id=shop_id, order_id=oid, line_no=1, sub_order_no="4100000000000000011",
                        product_id="p1", title="夏季纯棉短袖T恤女宽松百搭"))
    return shop_id, oid, cid


def test_import_links_keeps_follow_ups_and_reports_bad_rows(store, reviews_dir, with_order):
    shop_id, oid, cid = with_order
    result = import_review_file(store, reviews_dir / "top_rates.csv", SHOP, now=NOW)
    assert (result.new, result.follow_ups, result.rejected) == (5, 1, 2)
    assert result.problems[0].startswith("top_rates.csv:6: created")
    with store.session() as s:
        first = s.scalar(select(Review).where(Review.tid == "4100000000000000001", Review.kind == "review"))
        assert (first.order_id, first.customer_id, first.product_id) == (oid, cid, "p1")
        follow = s.scalar(select(Review).where(Review.parent_id == first.id))
        assert follow.kind == "follow_up" and follow.content.startswith("穿了一周")
        bad = s.scalar(select(Review).where(Review.tid == "4100000000000000002"))
        assert "13800000011" not in bad.content and "138****0011" in bad.content
        assert bad.sentiment == "negative" and "quality.colour" in bad.topics
        flagged = s.scalar(select(Review).where(Review.tid == "4100000000000000003"))
        assert flagged.result == "good" and flagged.flagged
        assert s.scalar(select(func.count()).select_from(ReviewReply)) == 5
        cases = s.scalars(select(ReviewRecoveryCase)).all()
        assert sorted(s.get(Review, c.review_id).result for c in cases) == ["bad", "neutral"]
        assert s.scalar(select(func.count()).select_from(ImportRejection)) == 2


def test_reimport_adds_nothing_and_a_changed_rating_is_kept_in_history(store, reviews_dir, tmp_path):
    import_review_file(store, reviews_dir / "top_rates.csv", SHOP, now=NOW)
    again = import_review_file(store, reviews_dir / "top_rates.csv", SHOP, now=NOW)
    assert (again.new, again.updated, again.unchanged) == (0, 0, 5)
    changed = tmp_path / "changed.csv"
    changed.write_text((reviews_dir / "top_rates.csv").read_text(encoding="utf-8").replace(
        "tb_橙子,bad", "tb_橙子,good"), encoding="utf-8")
    assert import_review_file(store, changed, SHOP, now=NOW).updated == 1
    with store.session() as s:
        review = s.scalar(select(Review).where(Review.tid == "4100000000000000002"))
        assert review.result == "good" and review.extra["result_changes"][0]["from"] == "bad"
        assert s.scalar(select(func.count()).select_from(Review)) == 5


def test_json_and_shopify_files_import(store, reviews_dir):
    assert import_review_file(store, reviews_dir / "trade_rates.json", SHOP, now=NOW).new == 2
    shopify = import_review_file(store, reviews_dir / "shopify_reviews.csv", SHOP, now=NOW)
    assert (shopify.kind, shopify.new, shopify.rejected) == ("shopify_csv", 2, 1)
    broken = import_review_file(store, reviews_dir / "missing.csv", SHOP, now=NOW)
    assert not broken.ok and "not found" in broken.error


def _rated_csv(path, rows):
    with open(path, "w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["tid", "nick", "result", "created", "item_title", "content"])
        for i, (result, text) in enumerate(rows):
            writer.writerow([f"9{i:05d}", f"n{i}", result, "2026-10-01 10:00:00", "杯子", text])


@pytest.mark.slow
def test_training_learns_the_shop_words_and_is_used_after(store, tmp_path):
    shop_words = [("good", f"喵喵杯第{i}次回购，喵喵") for i in range(40)] + [
        ("bad", f"汪汪杯第{i}次翻车，汪汪") for i in range(40)]
    _rated_csv(tmp_path / "rated.csv", shop_words)
    import_review_file(store, tmp_path / "rated.csv", SHOP, now=NOW)
    with store.session() as s:
        shop = find_shop(s, SHOP)
        result = train_shop_model(s, shop, now=NOW)
        assert result.texts == 80 and result.reclassified == 80
        model_id, model = shop_model(s, shop.id)
        assert model_id == result.model_id
        assert model.scores(["汪汪"])[0] < 0.5 < model.scores(["喵喵"])[0]
        assert s.scalar(select(SentimentModelRow.shop_texts)) == 80
        assert set(s.scalars(select(Review.classified_by))) == {model_id}


def test_training_needs_both_kinds(store, tmp_path):
    _rated_csv(tmp_path / "good.csv", [("good", "很好")])
    import_review_file(store, tmp_path / "good.csv", SHOP, now=NOW)
    with store.session() as s, pytest.raises(NotEnoughReviews):
        train_shop_model(s, find_shop(s, SHOP))


def test_reply_queue_edit_approve_bulk_and_export(store, reviews_dir):
    import_review_file(store, reviews_dir / "top_rates.csv", SHOP, now=NOW)
    with store.session() as s:
        shop = find_shop(s, SHOP)
        page = list_queue(s, shop, QueueFilter(), now=NOW)
        assert page.total == 4 and all(r.reply.status == "draft" for r in page.rows)
        assert page.rows[-1].reply_days_left == 18  # 2026-11-10 12:41 UTC + 30 days, seen on 11-22 12:00
        assert list_queue(s, shop, QueueFilter(flagged=True), now=NOW).total == 1
        assert list_queue(s, shop, QueueFilter(topic="quality.size"), now=NOW).total == 1
        bad = s.scalar(select(Review).where(Review.tid == "4100000000000000002"))
        with pytest.raises(ReplyError):
            edit_reply(s, shop.id, bad.id, "好评返现10元，麻烦改一下", actor="boss")
        edit_reply(s, shop.id, bad.id, "非常抱歉，我们已换掉这批面料，请联系客服为您处理。", actor="boss")
        approve_reply(s, shop.id, bad.id, actor="boss")
        assert bulk_approve_good(s, shop, actor="boss", now=NOW) == 1  # the flagged good review waits for a person
        body = json.loads(export_explanations(s, shop, now=NOW))
        assert body["method"] == "taobao.traderate.explain.add"
        assert {row["tid"] for row in body["explanations"]} == {"4100000000000000001", "4100000000000000002"}
        assert json.loads(export_explanations(s, shop, now=NOW))["explanations"] == []
        csv_rows = list(csv.DictReader(io.StringIO(export_explanations(s, shop, fmt="csv", mark=False))))
        assert csv_rows == []


def test_recovery_case_steps_block_reward_wording_and_keep_evidence(store, reviews_dir):
    import_review_file(store, reviews_dir / "top_rates.csv", SHOP, now=NOW)
    with store.session() as s:
        shop = find_shop(s, SHOP)
        bad = s.scalar(select(Review).where(Review.tid == "4100000000000000002"))
        case = open_case(s, shop, bad, actor="boss", now=NOW)
        assert case.deadline_at == bad.created_at + timedelta(days=30)
        complete_step(s, case, actor="boss", now=NOW, note="已致电道歉")
        with pytest.raises(RecoveryError):
            complete_step(s, case, actor="boss", now=NOW)  # no cause yet
        complete_step(s, case, actor="boss", now=NOW, cause="quality.colour")
        add_evidence(s, shop, case, file_name="photo.jpg", content_type="image/jpeg", data=b"\xff\xd8jpeg", actor="boss",
                     now=NOW)
        with pytest.raises(RewardBlocked) as blocked:
            complete_step(s, case, actor="boss", now=NOW, remedy="送您20元红包，麻烦把差评改成好评")
        assert blocked.value.verdict.code == "review_reward"
        complete_step(s, case, actor="boss", now=NOW, remedy="补发一套新的，另送一张10元优惠券表示歉意", remedy_cost="10")
        with pytest.raises(RecoveryError):
            complete_step(s, case, actor="boss", now=NOW, buyer_satisfied=False, ask_update=True)
        complete_step(s, case, actor="boss", now=NOW, buyer_satisfied=True, ask_update=True)
        complete_step(s, case, actor="boss", now=NOW)
        assert (case.status, case.step, case.asked_to_update) == ("closed", "done", True)
        assert [h["step"] for h in case.history] == ["opened", "apologise", "find_cause", "remedy", "satisfaction",
                                                     "record_cause"]


def test_root_causes_count_recorded_causes_before_topics(store, reviews_dir):
    import_review_file(store, reviews_dir / "top_rates.csv", SHOP, now=NOW)
    with store.session() as s:
        shop = find_shop(s, SHOP)
        report = root_cause_report(s, shop.id, now=NOW, days=None)
        assert report.total == 3 and report.by_source == {"review": 3}
        assert {b.key for b in report.bars} == {"quality.colour", "quality.size"}
        assert report.products[0].product == "加厚珊瑚绒四件套" and report.products[0].total == 2


def test_cli_import_train_classify_and_export(store, reviews_dir, tmp_path):
    runner = CliRunner()
    url = store.url
    base = ["--db", url, "reviews"]
    out = runner.invoke(cli_app, [*base, "import", str(reviews_dir / "top_rates.csv"), "--shop", SHOP])
    assert out.exit_code == 0, out.output
    assert "top_rates.csv:7:" in out.output
    (tmp_path / "c.csv").write_text("id,text\n1,质量很好很喜欢\n2,太差了，颜色有色差\n", encoding="utf-8")
    out = runner.invoke(cli_app, [*base, "classify", str(tmp_path / "c.csv"), "--text-column", "text", "--shop", SHOP])
    assert out.exit_code == 0, out.output
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    assert [r["sentiment"] for r in rows] == ["positive", "negative"] and rows[1]["topics"] == "quality.colour"
    assert float(rows[0]["sentiment_score"]) > 0.5 > float(rows[1]["sentiment_score"])
    bad = runner.invoke(cli_app, [*base, "classify", str(tmp_path / "c.csv")])
    assert bad.exit_code == 1 and "review" in bad.output
    out = runner.invoke(cli_app, [*base, "export", "--shop", SHOP, "--format", "csv"])
    assert out.exit_code == 0 and out.stdout.startswith("oid,tid,reply")


def test_root_causes_add_complaint_cases_and_a_recovery_case_links_one(store, reviews_dir, with_order):
    from kefu.services.cases import open_case as open_complaint
    from kefu.store.case_tables import Case

    shop_id, oid, cid = with_order
    import_review_file(store, reviews_dir / "top_rates.csv", SHOP, now=NOW)
    with store.session() as s:
        open_complaint(s, shop_id=shop_id, customer_id=cid, source="message", source_id="m1",
                       summary="衣服色差太大，和图片不一样", order_id=oid, opened_by="boss", now=NOW)
        shop = find_shop(s, SHOP)
        report = root_cause_report(s, shop.id, now=NOW, days=None)
        assert report.by_source == {"review": 3, "complaint": 1}
        assert report.bars[0].key == "quality.colour" and report.bars[0].count == 3
        first = s.scalar(select(Review).where(Review.tid == "4100000000000000001", Review.kind == "review"))
        case = open_case(s, shop, first, actor="boss", now=NOW, link_complaint=True)
        complaint = s.get(Case, case.complaint_case_id)
        assert complaint.source == "review" and complaint.source_id == first.id and complaint.order_id == oid


def test_follow_up_rows_find_their_review_in_an_earlier_import(store, tmp_path):
    header = "tid,oid,nick,result,created,item_title,content,is_append\n"
    (tmp_path / "first.csv").write_text(header + "501,5011,买家甲,bad,2026-11-15 10:00:00,杯子,杯子碎了,否\n",
                                        encoding="utf-8")
    (tmp_path / "later.csv").write_text(header + "501,5011,买家甲,bad,2026-11-18 10:00:00,杯子,补发的收到了，完好,是\n"
                                        "777,,买家乙,good,2026-11-18 10:00:00,杯子,追评但没有原评价,是\n", encoding="utf-8")
    import_review_file(store, tmp_path / "first.csv", SHOP, now=NOW)
    later = import_review_file(store, tmp_path / "later.csv", SHOP, now=NOW)
    assert (later.new, later.follow_ups) == (1, 1)
    assert later.problems == ["later.csv:3: 追评找不到原评价 / follow-up has no review with tid 777 oid — in the shop"]
    with store.session() as s:
        parent = s.scalar(select(Review).where(Review.kind == "review"))
        follow = s.scalar(select(Review).where(Review.kind == "follow_up"))
        assert follow.parent_id == parent.id and follow.content.startswith("补发")
        assert s.scalar(select(func.count()).select_from(ReviewRecoveryCase)) == 1  # the follow-up opens no case


def test_classify_csv_adds_columns_and_flags_good_ratings_with_bad_words(store):
    from kefu.services.reviews import classify_csv
    from kefu.text.sentiment import base_model

    source = io.StringIO("result,review\ngood,质量很好很喜欢\ngood,太差了，色差严重，再也不买了\nbad,\n")
    sink = io.StringIO()
    assert classify_csv(source, sink, base_model(), text_column="review") == 3
    rows = list(csv.DictReader(io.StringIO(sink.getvalue())))
    assert [r["flagged"] for r in rows] == ["0", "1", "0"]
    assert rows[1]["topics"] == "quality.colour" and rows[2]["sentiment"] == "neutral"
    with pytest.raises(ValueError, match="text"):
        classify_csv(io.StringIO("a,b\n1,2\n"), io.StringIO(), base_model(), text_column="text")
