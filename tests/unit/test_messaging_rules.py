"""Pure messaging rules: templates in a sandbox with fallbacks and two voices, the sending policy (consent, opt-out,
cap, quiet hours over midnight), opt-out replies, backoff and dead letters, lifecycle stages, provider mapping."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from kefu.config import shop_rules
from kefu.domain.messaging.lifecycle import OrderMoments, due_messages
from kefu.domain.messaging.opt_out import is_opt_out
from kefu.domain.messaging.policy import DEFER, SEND, SUPPRESS, Recipient, decide, in_quiet_hours, quiet_hours_end
from kefu.domain.messaging.provider import provider_template
from kefu.domain.messaging.retry import after_failure, retry_delay
from kefu.domain.messaging.review_invite import review_reward_problem
from kefu.domain.messaging.rules import RulesProblem, messaging_rules
from kefu.domain.messaging.templates import BUILT_IN, TemplateProblem, check_template, render_template, spec

RULES = messaging_rules(shop_rules(None))
NOON = datetime(2025, 3, 20, 4, 0, tzinfo=UTC)  # 12:00 Shanghai
NIGHT = datetime(2025, 3, 20, 15, 30, tzinfo=UTC)  # 23:30 Shanghai
H = timedelta(hours=1)


def test_a_missing_nickname_renders_as_qin_never_empty():
    body = spec("order.shipped").plain
    assert render_template(body, {}) == "亲，您的宝贝已由快递发出，运单号（可在订单详情查看），请留意查收。"
    assert render_template(body, {"nickname": "  ", "courier": None}).startswith("亲，")
    assert render_template(body, {"nickname": "tb_kitty", "courier": "中通快递", "waybill": "7891"}) == \
        "tb_kitty，您的宝贝已由中通快递发出，运单号7891，请留意查收。"


def test_the_playful_voice_uses_the_persona_and_form_of_address():
    text = render_template(spec("order.paid").playful, {"order_no": "1001", "nickname": "tb_a"}, persona="小橙",
                           form_of_address="主人")
    assert text == "主人～小橙收到您的订单1001啦！正在飞速打包，请等小橙的好消息哦～"
    assert render_template("{{ address }}", {"nickname": "tb_a"}) == "tb_a"  # no form of address: the nickname


def test_every_built_in_template_renders_in_both_voices_without_a_reward():
    for t in BUILT_IN:
        for voice in ("plain", "playful"):
            text = render_template(t.body(voice), {})
            assert text and "{{" not in text
            if t.key == "review.invite":
                assert review_reward_problem(text) is None


@pytest.mark.parametrize("body, problem", [
    ("{{ phone }}", "未知变量"),
    ("{% for x in %}", "语法错误"),
    ("{{ nickname.__class__.__mro__[1].__subclasses__() }}", "不安全"),
    ("", "为空"),
    ("字" * 501, "过长"),
])
def test_templates_that_cannot_be_used_are_refused_naming_why(body, problem):
    with pytest.raises(TemplateProblem, match=problem):
        render_template(body, {"nickname": "a"})


def test_check_template_names_the_line():
    with pytest.raises(TemplateProblem, match="第 2 行"):
        check_template("好\n{{ nickname ")


def recipient(**kw):
    return Recipient(**{"marketing_consent": False, "opted_out": None, "queued_today": 0, **kw})


def test_policy_consent_opt_out_cap_and_quiet_hours():
    def act(purpose, r, now=NOON, rules=RULES, event="order.shipped"):
        d = decide(purpose=purpose, event=event, recipient=r, rules=rules, now=now)
        return d.action, d.reason

    assert act("transactional", recipient()) == (SEND, None)
    assert act("marketing", recipient()) == (SUPPRESS, "no_consent")
    assert act("marketing", recipient(marketing_consent=True, opted_out="marketing")) == (SUPPRESS, "opted_out")
    assert act("transactional", recipient(opted_out="marketing")) == (SEND, None)
    assert act("transactional", recipient(opted_out="all")) == (SUPPRESS, "opted_out")
    assert act("transactional", recipient(queued_today=4)) == (SUPPRESS, "daily_cap")
    assert act("transactional", recipient(), NIGHT) == (DEFER, "quiet_hours")
    assert act("service", recipient(opted_out="all", queued_today=99), NIGHT) == (SEND, None)
    off = messaging_rules(shop_rules({"messaging": {"events": {"order.shipped": False}}}))
    assert act("transactional", recipient(), rules=off) == (SUPPRESS, "event_off")


def test_quiet_hours_run_over_midnight_and_end_at_the_next_morning():
    assert in_quiet_hours(time(23, 30), time(21), time(8)) and in_quiet_hours(time(7, 59), time(21), time(8))
    assert not in_quiet_hours(time(8), time(21), time(8)) and not in_quiet_hours(time(12), time(21), time(8))
    assert in_quiet_hours(time(13), time(12), time(14)) and not in_quiet_hours(time(1), time(0), time(0))
    assert quiet_hours_end(NIGHT, RULES) == datetime(2025, 3, 21, 0, 0, tzinfo=UTC)  # 08:00 Shanghai
    early = datetime(2025, 3, 20, 21, 0, tzinfo=UTC)  # 05:00 Shanghai on the 21st
    assert quiet_hours_end(early, RULES) == datetime(2025, 3, 21, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize("reply, stop", [("R", True), ("t", True), (" 退订 ", True), ("ｔ", True), ("TD。", True),
                                         ("我要退订", True), ("Really nice", False), ("谢谢", False), ("", False),
                                         ("请问我的快递什么时候到，退订的事情以后再说吧谢谢你们", False)])
def test_opt_out_replies(reply, stop):
    assert is_opt_out(reply) is stop


def test_backoff_doubles_to_a_cap_and_dead_letters_after_the_last_attempt():
    assert [retry_delay(n, base_seconds=30, max_seconds=200).total_seconds() for n in (1, 2, 3, 4, 5)] == \
        [30, 60, 120, 200, 200]
    assert after_failure(1, retryable=True, max_attempts=3, now=NOON, base_seconds=30, max_seconds=600) == \
        ("retry", NOON + timedelta(seconds=30))
    assert after_failure(3, retryable=True, max_attempts=3, now=NOON, base_seconds=30, max_seconds=600) == ("dead", None)
    assert after_failure(1, retryable=False, max_attempts=3, now=NOON, base_seconds=30, max_seconds=600) == ("dead", None)


def test_lifecycle_messages_only_the_latest_recent_stage_and_the_invitation_later():
    def due(now=NOON, **moments):
        return [d.event for d in due_messages(OrderMoments("o", "c", **moments), now=now, rules=RULES)]

    assert due(paid_at=NOON - H) == ["order.paid"]
    assert due(paid_at=NOON - 3 * H, shipped_at=NOON - H) == ["order.shipped"]
    assert due(paid_at=NOON - 100 * H) == []  # older than the 48-hour look-back: history is never messaged
    assert due(paid_at=NOON - 10 * H, shipped_at=NOON - 100 * H) == []  # a later stage, even old, ends the earlier ones
    assert due(shipped_at=NOON - 20 * H, out_for_delivery_at=NOON - 2 * H, signed_at=NOON - H) == ["parcel.signed"]
    signed = NOON - timedelta(days=3, hours=1)
    assert due(signed_at=signed) == ["review.invite"]
    assert due(signed_at=NOON - H, closed=True) == []
    assert due_messages(OrderMoments("o", None, paid_at=NOON), now=NOON, rules=RULES) == []


def test_provider_templates_map_named_and_positional_params_as_strings():
    mapping = {"aliyun_sms": {"order.shipped": {"code": "SMS_1", "params": {"company": "courier", "no": "waybill"}}},
               "tencent_sms": {"order.shipped": {"code": "123", "params": ["courier", "waybill"]}}}
    variables = {"courier": "中通", "waybill": 7891}
    assert provider_template(mapping, "aliyun_sms", "order.shipped", variables).params == {"company": "中通", "no": "7891"}
    tencent = provider_template(mapping, "tencent_sms", "order.shipped", variables)
    assert (tencent.code, tencent.params) == ("123", {"1": "中通", "2": "7891"})
    assert provider_template(mapping, "console", "order.shipped", variables).code is None
    assert provider_template(mapping, "aliyun_sms", None, variables).params == {}


def test_review_invitations_never_offer_a_reward():
    assert review_reward_problem("亲，好评返现5元哦") is not None
    assert review_reward_problem("晒图送优惠券") is not None
    assert review_reward_problem("方便时请留下真实的评价") is None


def test_bad_messaging_settings_name_the_field():
    with pytest.raises(RulesProblem, match="quiet_hours.start"):
        messaging_rules(shop_rules({"messaging": {"quiet_hours": {"start": "9pm", "end": "08:00"}}}))
    with pytest.raises(RulesProblem, match="messaging.voice"):
        messaging_rules(shop_rules({"messaging": {"voice": "loud"}}))
    with pytest.raises(RulesProblem, match="number"):
        messaging_rules(shop_rules({"messaging": {"lookback_hours": "two days"}}))
