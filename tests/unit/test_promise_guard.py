"""Promise guard: risky replies caught with reasons and safer wording, honest replies pass, promises extracted."""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone

import pytest

from kefu.config import shop_rules
from kefu.domain.promise_guard import GuardContext, ShopFacts, check_text, earliest_ship_day
from kefu.domain.promises.wording import number_of

SHANGHAI = timezone(timedelta(hours=8))
MORNING = datetime(2026, 11, 20, 10, 0, tzinfo=SHANGHAI)  # a Friday, before the 16:00 cut-off
EVENING = datetime(2026, 11, 20, 18, 0, tzinfo=SHANGHAI)  # after it
FACTS = ShopFacts.from_rules(shop_rules(None))


def codes(text, facts=FACTS, **context):
    return {reason.code for reason in check_text(text, facts, GuardContext(**context)).reasons}


# ------------------------------------------------------------ the trap: "今天能发货吗？发新疆，货到付款"

TRAP = {"province": "新疆", "now": EVENING}


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("亲，今天一定发，新疆也包邮哦，支持货到付款", {"ship_same_day", "free_shipping_remote", "cash_on_delivery"}),
        ("可以的亲，今天就给您发出，包邮的", {"ship_same_day", "free_shipping_remote"}),
        ("没问题，货到付款就行，明天就到", {"cash_on_delivery", "delivery_date"}),
        ("亲 可以货到付 今天马上发", {"cash_on_delivery", "ship_same_day"}),
    ],
)
def test_the_trap_natural_risky_answers_are_caught(reply, expected):
    verdict = check_text(reply, FACTS, GuardContext(**TRAP))
    assert verdict.risky and verdict.action == "block"
    assert expected <= {reason.code for reason in verdict.reasons}
    for reason in verdict.reasons:
        assert reason.message_zh and reason.message_en and reason.safer_wording


@pytest.mark.parametrize(
    "reply",
    [
        "亲，今天16点前付款的订单当天发，现在已过截单时间，明天发出哦；新疆不包邮，需要补运费，暂不支持货到付款",
        "亲，新疆属于偏远地区需要补运费，暂不支持货到付款，您拍下后我们明天上午发出",
        "不好意思亲，本店不支持货到付款，新疆一般发出后5-7天到",
    ],
)
def test_the_trap_honest_answers_pass(reply):
    verdict = check_text(reply, FACTS, GuardContext(**TRAP))
    assert not verdict.risky, verdict.reasons
    assert verdict.action == "allow"


def test_every_safer_wording_passes_the_guard_itself():
    for reply in ("亲，今天一定发，新疆也包邮哦，支持货到付款", "发票要补6个点", "保证不掉色", "送您一个抱枕", "保证明天到"):
        for reason in check_text(reply, FACTS, GuardContext(**TRAP)).reasons:
            assert not check_text(reason.safer_wording, FACTS, GuardContext(**TRAP)).risky, reason


# ------------------------------------------------------------ shipping and delivery


def test_same_day_shipping_before_the_cut_off_is_kept_and_tracked():
    verdict = check_text("亲，今天给您发出", FACTS, GuardContext(now=MORNING))
    assert verdict.action == "allow"
    assert [(p.kind, p.due_at) for p in verdict.promises] == [
        ("ship", datetime(2026, 11, 20, 23, 59, 59, tzinfo=FACTS_ZONE()))]


def FACTS_ZONE():
    from zoneinfo import ZoneInfo

    return ZoneInfo("Asia/Shanghai")


def test_same_day_shipping_after_the_cut_off_or_without_same_day_is_blocked():
    assert "ship_same_day" in codes("今天一定发", now=EVENING)
    no_same_day = ShopFacts(same_day_shipping=False)
    assert "ship_same_day" in codes("今天一定发", no_same_day, now=MORNING)
    assert check_text("今天一定发", no_same_day).action == "block"


def test_same_day_without_a_clock_only_warns():
    verdict = check_text("今天就发", FACTS, GuardContext())
    assert verdict.action == "warn" and verdict.reasons[0].code == "ship_same_day"


def test_dated_delivery_the_region_cannot_keep_is_blocked():
    assert check_text("保证明天到", FACTS, GuardContext(now=EVENING)).action == "block"
    assert check_text("后天就到", FACTS, GuardContext(now=MORNING, province="西藏")).action == "block"


def test_a_keepable_delivery_date_still_warns_because_the_courier_decides():
    verdict = check_text("周一能到", FACTS, GuardContext(now=MORNING, province="浙江"))
    assert verdict.action == "warn" and {r.code for r in verdict.reasons} == {"delivery_date"}
    assert verdict.promises[0].kind == "deliver"
    assert verdict.promises[0].due_at.date().isoformat() == "2026-11-23"


@pytest.mark.parametrize("reply", ["一般2-3天到", "预计明天到，具体以快递为准", "不能保证明天到哦", "尽量今天给您发出"])
def test_hedged_or_negated_time_words_are_not_promises(reply):
    assert not check_text(reply, FACTS, GuardContext(now=EVENING)).risky


def test_earliest_ship_day_skips_weekends_when_the_shop_does():
    saturday_noon = datetime(2026, 11, 21, 12, 0, tzinfo=SHANGHAI)
    from kefu.domain.promise_guard import _clock

    facts = ShopFacts(ships_on_weekends=False)
    assert earliest_ship_day(facts, _clock(facts, saturday_noon)).isoformat() == "2026-11-23"
    assert earliest_ship_day(FACTS, _clock(FACTS, MORNING)).isoformat() == "2026-11-20"
    assert earliest_ship_day(FACTS, _clock(FACTS, EVENING)).isoformat() == "2026-11-21"


def test_naive_now_is_read_as_utc():
    naive_evening_in_shanghai = datetime(2026, 11, 20, 10, 0)  # 18:00 in Shanghai
    assert "ship_same_day" in codes("今天一定发", now=naive_evening_in_shanghai)


# ------------------------------------------------------------ freight, payment, invoices, gifts, guarantees


def test_free_shipping_to_an_excluded_province_is_blocked_named_in_text_or_context():
    assert "free_shipping_remote" in codes("新疆也包邮的")
    assert "free_shipping_remote" in codes("包邮哦", province="西藏自治区")
    assert codes("包邮哦", province="浙江") == set()
    assert codes("新疆不包邮哦") == set()


def test_nationwide_free_shipping_warns_when_some_provinces_pay():
    verdict = check_text("全国包邮", FACTS, GuardContext())
    assert verdict.action == "warn" and verdict.reasons[0].code == "free_shipping_remote"
    assert not check_text("全国包邮", ShopFacts(free_shipping_excluded_provinces=())).risky


def test_free_shipping_when_the_shop_charges_freight_everywhere():
    assert "free_shipping" in codes("可以包邮", ShopFacts(free_shipping=False))


def test_cash_on_delivery_only_where_supported():
    assert "cash_on_delivery" in codes("支持货到付款")
    assert codes("支持货到付款", ShopFacts(cash_on_delivery=True)) == set()
    assert codes("暂不支持货到付款") == set()
    assert codes("运费到付可以吗") == set()


@pytest.mark.parametrize("reply", ["开发票需要补差价哦", "发票要加6个点", "开票另外收税点", "专票的话要加钱"])
def test_invoice_surcharges_are_blocked(reply):
    verdict = check_text(reply, FACTS)
    assert verdict.action == "block" and verdict.reasons[0].code == "invoice_surcharge"


def test_refusing_an_invoice_is_blocked_and_a_free_invoice_passes():
    assert "invoice_refused" in codes("我们不开发票的")
    verdict = check_text("可以开发票，不收额外费用，我们明天给您开好", FACTS, GuardContext(now=MORNING))
    assert not verdict.risky
    assert "invoice" in {p.kind for p in verdict.promises}


def test_gifts_must_be_on_offer():
    assert "gift_not_offered" in codes("给您送一个抱枕")
    assert codes("给您送一双袜子", ShopFacts(gifts=("袜子",))) == set()
    assert codes("我们尽快给您送到") == set()
    assert codes("不送赠品哦") == set()


@pytest.mark.parametrize("reply", ["保证不掉色", "百分百满意", "绝对正品假一罚十", "永不褪色", "终身保修"])
def test_unbacked_guarantees_warn(reply):
    verdict = check_text(reply, FACTS)
    assert verdict.action == "warn" and verdict.reasons[0].code == "guaranteed_outcome"


def test_a_backed_guarantee_passes():
    assert codes("假一赔三", ShopFacts(backed_guarantees=("假一赔三",))) == set()


# ------------------------------------------------------------ reviews


@pytest.mark.parametrize(
    "reply",
    [
        "好评返现5元哦",
        "亲，麻烦把差评删了，我们给您退10块",
        "改成好评的话送您一张优惠券",
        "追加个五星好评，红包马上发您",
        "您把评价改一下，我们补偿您20元",
    ],
)
def test_any_reward_tied_to_a_review_is_always_blocked(reply):
    verdict = check_text(reply, ShopFacts(gifts=("优惠券",)), GuardContext())
    assert verdict.action == "block"
    assert "review_reward" in {r.code for r in verdict.reasons}


@pytest.mark.parametrize("reply", ["满意的话给个好评哦", "有问题联系我们，会给您退款", "评价按真实感受写就好"])
def test_asking_for_a_review_without_a_reward_passes(reply):
    assert "review_reward" not in codes(reply)


# ------------------------------------------------------------ context, promises, facts


def test_high_risk_buyer_turns_warnings_into_blocks():
    assert check_text("保证不掉色", FACTS, GuardContext()).action == "warn"
    verdict = check_text("保证不掉色", FACTS, GuardContext(high_risk=True))
    assert verdict.action == "block" and verdict.reasons[0].action == "block"
    assert "高风险" in verdict.reasons[0].message_zh


def test_promises_are_extracted_with_due_times():
    verdict = check_text("亲，明天给您补发一个新的，退款24小时内到账，稍后给您回复", FACTS, GuardContext(now=MORNING))
    kinds = {p.kind: p.due_at for p in verdict.promises}
    assert {"reship", "refund", "callback"} <= set(kinds)
    assert kinds["reship"].date().isoformat() == "2026-11-21"
    assert kinds["refund"] == MORNING + timedelta(hours=24)


def test_a_plain_answer_is_allowed_with_no_promises():
    verdict = check_text("亲，这款是纯棉的，M码适合110-120斤", FACTS, GuardContext(now=MORNING))
    assert verdict == type(verdict)(False, "allow", (), ())


def test_facts_from_configuration_and_bad_facts_named():
    facts = ShopFacts.from_rules(shop_rules({"promise_guard": {"ship_cutoff": "17:30", "gifts": ["袜子"]}}))
    assert facts.ship_cutoff == time(17, 30) and facts.gifts == ("袜子",)
    with pytest.raises(ValueError, match="ship_cutoff"):
        ShopFacts.from_mapping({"ship_cutoff": "25:00"})
    with pytest.raises(ValueError, match="unknown shop fact 'colour'"):
        ShopFacts.from_mapping({"colour": "red"})
    with pytest.raises(ValueError, match="cash_on_delivery"):
        ShopFacts.from_mapping({"cash_on_delivery": "yes"})


def test_json_form():
    row = check_text("今天一定发", FACTS, GuardContext(now=EVENING)).to_json()
    assert row["risky"] is True and row["reasons"][0]["code"] == "ship_same_day"
    assert row["promises"][0]["due_at"].startswith("2026-11-20T23:59:59")


@pytest.mark.parametrize(("word", "value"), [("3", 3), ("三", 3), ("两", 2), ("十", 10), ("二十四", 24), ("十二", 12), ("几", None)])
def test_chinese_numbers(word, value):
    assert number_of(word) == value


def test_a_courier_the_shop_does_not_use_warns():
    facts = ShopFacts(couriers=("中通", "yuantong"))
    assert codes("好的，给您发顺丰", facts) == {"courier_not_available"}
    assert codes("可以发圆通", facts) == set()
    assert codes("不能发顺丰哦", facts) == set()
    assert codes("给您发顺丰", ShopFacts()) == set()  # couriers not configured: not checked


@pytest.mark.parametrize(("reply", "misstated"), [("18点前付款当天发", True), ("晚上8点前下单今天发", True),
                                                   ("16点前付款当天发哦", False), ("下午4点前下单今天发", False)])
def test_a_cut_off_later_than_the_shops_is_warned_about(reply, misstated):
    assert ("ship_cutoff_misstated" in codes(reply)) is misstated


@pytest.mark.parametrize("reply", ["包邮的（新疆西藏除外）", "除新疆、西藏外全国包邮", "江浙沪包邮哦"])
def test_free_shipping_that_names_its_exclusions_or_region_passes(reply):
    assert "free_shipping_remote" not in codes(reply, province="新疆")


def test_bare_daofu_is_cash_on_delivery_but_freight_collect_is_not():
    assert codes("可以到付的", province="新疆") == {"cash_on_delivery"}
    assert codes("运费到付也可以") == set()


@pytest.mark.parametrize("reply", ["发票另外算钱", "开票要补税点", "发票的话加3个点哦"])
def test_more_invoice_surcharge_wordings(reply):
    assert "invoice_surcharge" in codes(reply)


@pytest.mark.parametrize("reply", ["晒图好评送运费险", "确认收货给五星好评，联系客服领取红包", "差评删掉，这单给您免单"])
def test_more_review_reward_wordings(reply):
    assert check_text(reply, FACTS).action == "block" and "review_reward" in codes(reply)


def test_a_closed_today_with_a_firm_tomorrow_is_kept_and_tracked():
    verdict = check_text("今天已经截单了，明天一定给您发出", FACTS, GuardContext(now=EVENING))
    assert not verdict.risky
    assert [(p.kind, p.due_at.date().isoformat()) for p in verdict.promises] == [("ship", "2026-11-21")]
