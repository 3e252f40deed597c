"""`kefu text analyze`, `kefu text personality` and `kefu guard check` through Typer's CliRunner."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from kefu.cli import app

runner = CliRunner()


def lines_of(output: str) -> list[dict]:
    return [json.loads(line) for line in output.splitlines() if line.strip()]


def test_text_analyze_prints_one_json_object_per_line():
    result = runner.invoke(app, ["text", "analyze"], input="什么时候发货\n快递太慢了！！气死我了 我要投诉\n\n谢谢亲\n")
    assert result.exit_code == 0, result.output
    rows = lines_of(result.output)
    assert [row["text"] for row in rows] == ["什么时候发货", "快递太慢了！！气死我了 我要投诉", "", "谢谢亲"]
    assert [row["intent"] for row in rows] == ["shipping_time", "complaint", "other", "thanks"]
    for row in rows:
        assert row["sentiment"] in ("positive", "neutral", "negative")
        assert 0 <= row["sentiment_score"] <= 1 and 0 <= row["anger"] <= 1 and 0 <= row["intent_confidence"] <= 1
        assert isinstance(row["topics"], list)
    assert rows[1]["topics"] == ["logistics.slow"] and rows[1]["suggest_call"] is True
    assert rows[0]["suggest_call"] is False


def test_text_analyze_call_threshold_option():
    result = runner.invoke(app, ["text", "analyze", "--call-threshold", "0"], input="请问什么时候发货\n")
    assert lines_of(result.output)[0]["suggest_call"] is True
    result = runner.invoke(app, ["text", "analyze", "--call-threshold", "2"], input="在吗\n")
    assert result.exit_code == 2


def test_text_personality_reads_one_buyers_messages():
    result = runner.invoke(
        app, ["text", "personality"], input="这款面料成分具体是什么？\n和上一代型号有什么区别，有检测报告吗？\n质保多久？\n"
    )
    assert result.exit_code == 0, result.output
    row = json.loads(result.output)
    assert row["kind"] == "analytical" and row["evidence"]


TRAP_ANSWERS = "亲，今天一定发，新疆也包邮哦，支持货到付款\n亲，今天的发货已截单，明天发出；新疆需要补运费，暂不支持货到付款哦\n"


def test_guard_check_flags_the_risky_answer_and_passes_the_honest_one():
    result = runner.invoke(app, ["guard", "check", "--province", "新疆", "--now", "2026-11-20T18:00:00+08:00"],
                           input=TRAP_ANSWERS)
    assert result.exit_code == 0, result.output
    risky, honest = lines_of(result.output)
    assert risky["risky"] is True and risky["action"] == "block"
    assert {"ship_same_day", "free_shipping_remote", "cash_on_delivery"} <= {r["code"] for r in risky["reasons"]}
    assert honest["risky"] is False and honest["reasons"] == []
    assert honest["promises"][0]["kind"] == "ship"


def test_guard_check_with_a_facts_file_and_high_risk(tmp_path):
    facts = tmp_path / "facts.json"
    facts.write_text(json.dumps({"cash_on_delivery": True, "gifts": ["袜子"]}, ensure_ascii=False), encoding="utf-8")
    result = runner.invoke(app, ["guard", "check", "--facts", str(facts), "--high-risk"],
                           input="支持货到付款\n送您一双袜子\n保证不掉色\n")
    assert result.exit_code == 0, result.output
    cod, gift, guarantee = lines_of(result.output)
    assert cod["risky"] is False and gift["risky"] is False
    assert guarantee["action"] == "block" and guarantee["reasons"][0]["code"] == "guaranteed_outcome"


def test_guard_check_names_a_bad_facts_file(tmp_path):
    bad = tmp_path / "facts.json"
    bad.write_text('{"ship_cutoff": "late"', encoding="utf-8")
    result = runner.invoke(app, ["guard", "check", "--facts", str(bad)], input="好的\n")
    assert result.exit_code == 2
    assert "facts.json:1" in result.output
    bad.write_text('{"ship_cutoff": "late"}', encoding="utf-8")
    result = runner.invoke(app, ["guard", "check", "--facts", str(bad)], input="好的\n")
    assert result.exit_code == 2 and "ship_cutoff" in result.output


def test_guard_check_refuses_a_bad_now():
    result = runner.invoke(app, ["guard", "check", "--now", "yesterday"], input="好的\n")
    assert result.exit_code == 2 and "--now" in result.output
