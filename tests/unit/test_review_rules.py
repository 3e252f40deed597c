"""Pure review rules: reply drafts, the review_reward check, recovery steps and deadlines, the Pareto table."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from kefu.domain.reviews.aspects import praised_aspects, topics_of
from kefu.domain.reviews.pareto import pareto, vital_few
from kefu.domain.reviews.recovery import (
    STEPS,
    StepRefused,
    check_can_complete,
    days_left,
    next_step,
    step_deadlines,
)
from kefu.domain.reviews.replies import ReplyVoice, ReviewForReply, draft_reply
from kefu.domain.reviews.reward_check import REVIEW_REWARD, check_reward_wording, own_check

T0 = datetime(2026, 11, 1, 12, tzinfo=UTC)


def review(result="good", sentiment="positive", flagged=False, aspects=(), topics=(), rid="r1", follow=False):
    return ReviewForReply(rid, result, sentiment, flagged, aspects, topics, "杯子", follow)


def test_thanks_name_what_the_buyer_liked_and_are_stable():
    text = draft_reply(review(aspects=praised_aspects("质量很好，物流也快")), ReplyVoice(shop_name="小店"))
    assert "质量" in text and "发货速度" in text and text.endswith("——小店")
    assert text == draft_reply(review(aspects=("quality", "shipping")), ReplyVoice(shop_name="小店"))


def test_bad_and_flagged_good_reviews_get_apology_fix_and_invitation():
    bad = draft_reply(review("bad", "negative", topics=("logistics.damaged",)))
    assert "抱歉" in bad and "加固包装" in bad and "客服" in bad or "联系" in bad
    flagged = draft_reply(review("good", "negative", flagged=True, topics=("quality.size",)))
    assert "尺码表" in flagged and "感谢您的好评" in flagged
    assert not own_check(bad).blocked and not own_check(flagged).blocked


def test_praise_skips_negated_words_and_topics_come_from_the_text_engineer():
    assert "quality" not in praised_aspects("质量不好")
    assert topics_of("颜色有色差，快递太慢了") == ("quality.colour", "logistics.slow")


@pytest.mark.parametrize("text", [
    "好评返现5元", "您改成好评后我们返您10元红包", "删除差评送优惠券", "五星好评返现", "送您小礼物，麻烦改一下评价",
    "退款10元，您看能不能把差评删了", "红包已发，评价改一下吧",
])
def test_rewards_tied_to_the_review_are_blocked(text):
    verdict = check_reward_wording(text)
    assert verdict.blocked and verdict.code == REVIEW_REWARD and verdict.safer_wording


@pytest.mark.parametrize("text", [
    "为表歉意送您一张5元优惠券，和评价无关", "给您补发一件，请查收", "全额退款给您",
    "如果您满意了，方便的话可以考虑更新一下评价吗？",
])
def test_remedies_and_a_polite_ask_are_allowed(text):
    assert not check_reward_wording(text).blocked


def test_steps_run_in_order_and_need_their_facts():
    assert [next_step(s) for s in STEPS] == [*STEPS[1:], "done"]
    with pytest.raises(StepRefused):
        check_can_complete("find_cause", cause=None, remedy=None, buyer_satisfied=None, ask_update=False)
    with pytest.raises(StepRefused):
        check_can_complete("remedy", cause="x", remedy="  ", buyer_satisfied=None, ask_update=False)
    with pytest.raises(StepRefused, match="satisfied buyer"):
        check_can_complete("satisfaction", cause="x", remedy="r", buyer_satisfied=False, ask_update=True)
    check_can_complete("satisfaction", cause="x", remedy="r", buyer_satisfied=False, ask_update=False)
    check_can_complete("satisfaction", cause="x", remedy="r", buyer_satisfied=True, ask_update=True)


def test_deadlines_never_pass_the_modification_window():
    deadlines = {d.step: d.due_at for d in step_deadlines(T0, {"apologise": 1, "record_cause": 40}, 30)}
    assert deadlines["apologise"] == T0 + timedelta(days=1)
    assert deadlines["record_cause"] == T0 + timedelta(days=30)
    assert days_left(T0 + timedelta(days=30), T0 + timedelta(days=27, hours=1)) == 2
    assert days_left(T0, T0 + timedelta(hours=1)) == -1


def test_pareto_orders_counts_and_finds_the_vital_few():
    bars = pareto(["size"] * 6 + ["colour"] * 3 + ["slow"])
    assert [(b.key, b.count) for b in bars] == [("size", 6), ("colour", 3), ("slow", 1)]
    assert [round(b.cumulative, 2) for b in bars] == [0.6, 0.9, 1.0]
    assert [b.key for b in vital_few(bars)] == ["size", "colour"]
    assert pareto([]) == []
