"""Review files: TOP trade rates as CSV and JSON, Shopify review CSV, 追评, and bad rows by file:line."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest

from kefu.ingest.reviews_file import (
    UnreadableReviews,
    parse_review_bytes,
    read_review_file,
    result_of_stars,
)


def test_top_csv_rows_land_and_bad_rows_are_named_by_line(fixtures_dir):
    parsed = read_review_file(fixtures_dir / "reviews" / "top_rates.csv")
    assert parsed.kind == "top_csv" and parsed.rows_read == 6
    assert [r.tid for r in parsed.records] == [f"410000000000000000{i}" for i in (1, 2, 3, 4)]
    first = parsed.records[0]
    assert first.oid == "4100000000000000011" and first.item_price == Decimal("59.00")
    assert first.created == datetime(2026, 11, 10, 20, 41, 7)
    assert first.append_content.startswith("穿了一周") and first.append_created == datetime(2026, 11, 17, 10)
    assert [p.located("top_rates.csv") for p in parsed.problems] == [
        "top_rates.csv:6: created '2026-13-12 09:02:33' 不是日期时间 / is not a date and time",
        "top_rates.csv:7: result 'great' 不是 good/neutral/bad（好评/中评/差评）/ is not good, neutral or bad",
    ]


def test_top_json_response_with_numeric_tid_and_a_bad_item(fixtures_dir):
    parsed = read_review_file(fixtures_dir / "reviews" / "trade_rates.json")
    assert parsed.kind == "top_json"
    assert [r.tid for r in parsed.records] == ["4200000000000000001", "4200000000000000002"]
    assert parsed.records[0].valid_score is True
    assert parsed.problems[0].located("x.json").startswith("x.json: item 3: result 'so-so'")


def test_json_lines_and_a_plain_list_are_read():
    row = '{"tid": "1", "nick": "n", "result": "好评", "created": "2026-11-01 10:00:00", "item_title": "t", "content": "好"}'
    lines = parse_review_bytes(f"{row}\n{{broken\n".encode(), "rates.jsonl")
    assert len(lines.records) == 1 and lines.records[0].result == "good"
    assert lines.problems[0].located("rates.jsonl").startswith("rates.jsonl:2:")
    assert len(parse_review_bytes(f"[{row}]".encode(), "r.json").records) == 1


def test_shopify_csv_maps_stars_to_results_and_keeps_offsets(fixtures_dir):
    parsed = read_review_file(fixtures_dir / "reviews" / "shopify_reviews.csv")
    assert parsed.kind == "shopify_csv"
    assert [(r.stars, r.result) for r in parsed.records] == [(5, "good"), (2, "bad")]
    assert parsed.records[0].content == "Love it。Great fabric, fits perfectly"
    assert parsed.records[0].created.utcoffset().total_seconds() == 3600
    assert parsed.problems[0].line == 4 and "1–5" in parsed.problems[0].reason


def test_chinese_headers_gbk_and_follow_up_rows():
    text = ("订单编号,买家会员名,评价结果,评价时间,宝贝名称,评价内容,是否追评\n"
            "123,买家甲,差评,2026-11-01 10:00:00,杯子,碎了,否\n"
            "123,买家甲,差评,2026-11-05 10:00:00,杯子,补发的收到了,是\n")
    parsed = parse_review_bytes(text.encode("gb18030"), "评价.csv")
    parent, follow = parsed.records
    assert not parent.is_append and follow.is_append and follow.parent_key == parent.key


def test_unknown_layout_and_missing_file_are_clear(tmp_path):
    with pytest.raises(UnreadableReviews, match="header lacks"):
        parse_review_bytes(b"a,b\n1,2\n", "x.csv")
    with pytest.raises(UnreadableReviews, match="not found"):
        read_review_file(tmp_path / "nope.csv")
    with pytest.raises(UnreadableReviews, match="not valid JSON"):
        parse_review_bytes(b"[1, 2", "x.json")


def test_star_thresholds_come_from_the_caller():
    assert [result_of_stars(s, 4, 2) for s in (1, 2, 3, 4, 5)] == ["bad", "bad", "neutral", "good", "good"]
    assert result_of_stars(3, 3, 1) == "good"
