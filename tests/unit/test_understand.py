"""Buyer-message understanding: intents, sentiment, anger and topics on invented messages, and the shipped data."""

from __future__ import annotations

import pytest

from kefu.text.intents import INTENTS, rule_intents
from kefu.text.labelled_messages import parse_labelled_messages, shipped_messages
from kefu.text.tokenize import normalize
from kefu.text.understand import MessageAnalysis, analyze, analyze_many


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("亲 今天拍的话今天能发货吗", "shipping_time"),
        ("我的快递到哪了呀 三天没更新了", "where_is_parcel"),
        ("地址写错了 帮我改成浦东新区", "change_address"),
        ("衣服小了 能换个大一码的吗", "return_exchange"),
        ("不要了 麻烦直接退款", "refund"),
        ("能开发票吗 抬头是公司", "invoice"),
        ("老顾客了 能便宜点不", "bargaining"),
        ("发西藏包邮吗", "free_shipping"),
        ("是正品吗 专柜能验吗", "authenticity"),
        ("165cm 105斤穿什么码", "size_spec"),
        ("黑色L码还有货吗", "stock"),
        ("洗了一次就严重掉色", "quality_problem"),
        ("客服态度太差了 我要投诉", "complaint"),
        ("都四天了还不发货 快点发", "urge_shipping"),
        ("收到了 很喜欢 谢谢亲❤️", "thanks"),
        ("在吗", "other"),
    ],
)
def test_intent_of_typical_messages(text, intent):
    assert analyze(text).intent == intent


def test_analysis_has_the_interface_fields_in_range():
    result = analyze("快递太慢了！！一个礼拜还没到 气死我了 我要投诉")
    assert isinstance(result, MessageAnalysis)
    assert result.intent in INTENTS
    assert 0.0 <= result.intent_confidence <= 1.0
    assert result.sentiment == "negative"
    assert 0.0 <= result.sentiment_score < 0.35
    assert result.anger >= 0.6 and result.suggests_call()
    assert "logistics.slow" in result.topics


def test_a_plain_question_is_neutral_and_calm():
    result = analyze("请问什么时候发货")
    assert result.sentiment == "neutral"
    assert result.anger < 0.3 and not result.suggests_call()
    assert result.topics == ()


def test_thanks_is_positive():
    result = analyze("东西很好 谢谢老板 下次还来")
    assert result.sentiment == "positive" and result.sentiment_score > 0.6


def test_empty_text_is_other_and_neutral():
    assert analyze("   ") == MessageAnalysis("other", 1.0, "neutral", 0.5, 0.0, ())


def test_batch_equals_one_by_one():
    texts = ["还有货吗", "退款什么时候到", "谢谢", "色差太大了"]
    assert analyze_many(texts) == [analyze(text) for text in texts]
    assert analyze_many([]) == []


def test_full_width_and_emoji_do_not_confuse_it():
    assert analyze("ＸＬ码还有吗？？😭").intent == "stock"


def test_rules_name_every_intent_they_fire():
    assert rule_intents(normalize("发票要补税点吗"))[0] == "invoice"
    assert rule_intents(normalize("哈哈")) == ()


def test_the_classifier_can_take_the_rules_as_features():
    from kefu.text.intent_model import train_intent_model

    messages = shipped_messages("train")[:200]
    plain, ruled = train_intent_model(messages), train_intent_model(messages, rules=True)
    assert not plain.uses_rules and ruled.uses_rules
    assert ruled.weights.shape[1] == plain.weights.shape[1] + len(INTENTS)
    rows = ruled.probabilities([normalize("能开发票吗")])
    assert rows.shape == (1, len(ruled.labels)) and abs(float(rows.sum()) - 1.0) < 1e-9


def test_json_form_lists_topics_and_call_flag():
    row = analyze("掉色严重").to_json(call_threshold=0.99)
    assert row["topics"] == ["quality.colour"] and row["suggest_call"] is False
    assert set(row) >= {"intent", "intent_confidence", "sentiment", "sentiment_score", "anger", "topics"}


def test_shipped_splits_are_labelled_and_disjoint():
    train, dev, test = shipped_messages("train"), shipped_messages("dev"), shipped_messages("test")
    assert len(train) >= 300 and len(dev) >= 100 and len(test) >= 150
    assert {m.intent for m in train} == {m.intent for m in dev} == {m.intent for m in test} == set(INTENTS)
    texts = [{normalize(m.text) for m in split} for split in (train, dev, test)]
    assert not texts[0] & texts[1] and not texts[0] & texts[2] and not texts[1] & texts[2]
    with pytest.raises(ValueError, match="split must be one of"):
        shipped_messages("validation")


def test_a_bad_labelled_row_names_its_line():
    with pytest.raises(ValueError, match=r"x.tsv:2: unknown intent 'shout'"):
        parse_labelled_messages(["# c", "shout\tneutral\t0\t-\t在吗"], "x.tsv")
    with pytest.raises(ValueError, match=r"x.tsv:1: unknown topic"):
        parse_labelled_messages(["complaint\tnegative\t1\tquality.smell\t臭"], "x.tsv")
    with pytest.raises(ValueError, match=r"x.tsv:1: expected 5"):
        parse_labelled_messages(["complaint\tnegative\t1"], "x.tsv")
