"""Return reasons from TOP reason strings and desc, and the return-rate jump rule."""

from __future__ import annotations

import pytest

from kefu.config import shop_rules
from kefu.domain.returns.rate_jump import JumpSettings, PeriodCount, rate_jump, rate_jumps
from kefu.domain.returns.reasons import OBJECTIVE, SUBJECTIVE, classify_reason


@pytest.mark.parametrize(("reason", "code", "side"), [
    ("7天无理由退换货", "changed_mind", OBJECTIVE),
    ("质量问题", "quality", SUBJECTIVE),
    ("尺码拍错", "size_choice", OBJECTIVE),
    ("不喜欢/效果不好", "taste", OBJECTIVE),
    ("卖家发错货", "wrong_item", SUBJECTIVE),
    ("少件/漏发", "missing_item", SUBJECTIVE),
    ("商品与描述不符", "not_as_described", SUBJECTIVE),
    ("物流破损", "courier_damaged", OBJECTIVE),
    ("颜色与图片不符", "colour_differs", SUBJECTIVE),  # before 图片不符 (not as described)
    ("与图片不符", "not_as_described", SUBJECTIVE),
    ("", "other", OBJECTIVE),
])
def test_top_reason_strings(reason, code, side):
    reading = classify_reason(reason)
    assert (reading.code, reading.side) == (code, side)


def test_seller_fault_reasons():
    assert classify_reason("质量问题").seller_fault
    assert classify_reason("物流破损").seller_fault  # objective (courier) but the seller answers to the buyer
    assert not classify_reason("尺码拍错").seller_fault


def test_a_generic_reason_is_refined_by_the_desc():
    reading = classify_reason("7天无理由退换货", "收到发现颜色和图片差很多，色差太大")
    assert (reading.code, reading.source) == ("colour_differs", "desc")
    assert classify_reason("7天无理由退换货", "不想要了").code == "changed_mind"
    # a specific reason is not overridden by the desc
    assert classify_reason("尺码拍错", "颜色也不喜欢").code == "size_choice"


def test_topics_from_the_text_engineer_read_the_desc_when_words_do_not():
    reading = classify_reason("其他", "这个面料摸起来好硬", find_topics=lambda text: ("quality.material",))
    assert (reading.code, reading.source) == ("quality", "topics")
    broken = classify_reason("其他", "说不清", find_topics=lambda text: 1 / 0)
    assert broken.code == "other"


SETTINGS = JumpSettings.from_rules(shop_rules(None))


def test_rate_jump_against_the_products_own_history():
    history = [PeriodCount(40, 2), PeriodCount(50, 3), PeriodCount(45, 2)]
    jump = rate_jump("p1", [*history, PeriodCount(40, 10)], SETTINGS)
    assert jump is not None
    assert jump.current_rate == 0.25 and round(jump.baseline_rate, 3) == round(7 / 135, 3)
    assert "ratio=1.8" in jump.rule


def test_no_jump_when_the_rate_is_steady_small_or_without_history():
    steady = [PeriodCount(40, 8), PeriodCount(50, 10), PeriodCount(45, 9), PeriodCount(40, 9)]
    assert rate_jump("p", steady, SETTINGS) is None
    assert rate_jump("p", [PeriodCount(40, 2)] * 3 + [PeriodCount(5, 3)], SETTINGS) is None  # too few sold
    assert rate_jump("p", [PeriodCount(40, 2)] * 3 + [PeriodCount(40, 2)], SETTINGS) is None
    assert rate_jump("p", [PeriodCount(0, 0)] * 3 + [PeriodCount(40, 12)], SETTINGS) is None  # no history
    assert rate_jump("p", [], SETTINGS) is None


def test_thresholds_come_from_configuration():
    loose = JumpSettings.from_rules(shop_rules({"returns": {"rate_jump": {"ratio": 1.1, "min_increase": 0.01,
                                                                          "min_returns": 1, "min_sold": 5}}}))
    periods = [PeriodCount(40, 4)] * 3 + [PeriodCount(40, 5)]
    assert rate_jump("p", periods, SETTINGS) is None
    assert rate_jump("p", periods, loose) is not None
    with pytest.raises(ValueError, match="returns.rate_jump"):
        JumpSettings.from_rules({"returns": {"rate_jump": {"period_days": 0}}})


def test_rate_jumps_sorted_by_rise():
    counts = {"a": [PeriodCount(40, 2)] * 3 + [PeriodCount(40, 8)], "b": [PeriodCount(40, 2)] * 3 + [PeriodCount(40, 14)]}
    assert [j.product_key for j in rate_jumps(counts, SETTINGS)] == ["b", "a"]


def test_the_text_engineers_topics_read_a_free_text_desc():
    from kefu.domain.returns.reasons import default_topic_finder

    finder = default_topic_finder()
    assert finder is not None
    reading = classify_reason("其他", "面料摸起来好硬", find_topics=finder)  # no keyword of ours: the topics read it
    assert (reading.code, reading.source) == ("quality", "topics")
