"""The returns policy engine: window from the day after signing, exemptions, intact checklist, goodwill with fee,
freight payer, refund due and exchange first — every decision naming its rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from kefu.config import shop_rules
from kefu.domain.returns.decision import (
    ACCEPT,
    EXCHANGE,
    REFUND_ONLY,
    REFUSE,
    ReturnFacts,
    decide,
    depreciation_fee,
    window_end,
)
from kefu.domain.returns.policy import PolicyError, exemption_for, policy_for
from kefu.domain.returns.rules import RULE_TEXTS

# Signed 2025-03-05 10:00 Beijing (02:00 UTC): day 1 is 03-06, day 7 is 03-12, the window ends 03-13 00:00 Beijing.
SIGNED = datetime(2025, 3, 5, 2, 0, tzinfo=UTC)
LAST_MOMENT = datetime(2025, 3, 12, 15, 59, tzinfo=UTC)  # 23:59 Beijing on day 7
FIRST_LATE = datetime(2025, 3, 12, 16, 0, tzinfo=UTC)  # 00:00 Beijing on day 8


def clothing(**overrides):
    return policy_for(shop_rules(overrides or None), "上衣")


def facts(**fields) -> ReturnFacts:
    base = dict(requested_at=SIGNED + timedelta(days=3), signed_at=SIGNED, signed_source="parcel",
                reason_code="size_choice", category="上衣", title="纯棉圆领短袖T恤", item_price=Decimal("129.00"),
                refund_fee=Decimal("129.00"))
    base.update(fields)
    return ReturnFacts(**base)


def test_window_ends_at_the_end_of_the_seventh_day_after_signing():
    end = window_end(SIGNED, 7, "Asia/Shanghai")
    assert end == datetime(2025, 3, 12, 16, 0, tzinfo=UTC)
    # 23:30 Beijing is still the signing day; 00:30 the next day starts a day later (days are local days)
    assert window_end(datetime(2025, 3, 5, 15, 30, tzinfo=UTC), 7, "Asia/Shanghai") == end
    assert window_end(datetime(2025, 3, 5, 16, 30, tzinfo=UTC), 7, "Asia/Shanghai") == end + timedelta(days=1)


def test_inside_the_window_is_accepted_pending_the_clothing_checklist():
    decision = decide(facts(requested_at=LAST_MOMENT), clothing())
    assert decision.outcome == ACCEPT
    assert decision.rule_ids[:3] == ("returns.window.from_parcel", "returns.window.inside", "returns.intact.on_receipt")
    assert decision.checklist == ("tags_on", "unwashed", "no_odour", "no_stains")
    assert decision.pending_inspection
    assert decision.freight_payer == "buyer" and "returns.freight.buyer_return" in decision.rule_ids
    assert "returns.exchange.offer" in decision.rule_ids  # size choice: offer an exchange first
    assert decision.refund_due_at is None and "returns.refund.after_return" in decision.rule_ids
    assert all(hit.zh and hit.en for hit in decision.rules)


def test_one_moment_after_the_window_goes_to_goodwill():
    decision = decide(facts(requested_at=FIRST_LATE, resellable=True, condition="as_new"), clothing())
    assert decision.outcome == ACCEPT
    assert "returns.window.passed" in decision.rule_ids and "returns.goodwill.accept" in decision.rule_ids
    assert decision.depreciation_fee == Decimal("0.00")


def test_a_failed_intact_check_inside_the_window_refuses_and_names_the_check():
    decision = decide(facts(checklist={"tags_on": False, "unwashed": True, "no_odour": True, "no_stains": True}), clothing())
    assert decision.outcome == REFUSE
    assert decision.failed_checks == ("tags_on",)
    assert "returns.intact.failed" in decision.rule_ids
    failed = next(h for h in decision.rules if h.rule_id == "returns.intact.failed")
    assert failed.zh == "商品不完好：未通过 吊牌完好" and failed.en == "Not intact: failed tags on"
    assert decision.freight_payer is None


def test_custom_made_item_is_exempt_by_title_keyword_product_attribute_or_category():
    by_keyword = decide(facts(title="定制刻字伴娘服", reason_code="changed_mind"), clothing())
    assert by_keyword.outcome == REFUSE and by_keyword.exemption == "made_to_order"
    assert by_keyword.rule_ids == ("returns.exempt.made_to_order",)
    assert "keyword:定制" in by_keyword.rules[0].zh
    by_attribute = decide(facts(product_exempt="perishable"), clothing())
    assert by_attribute.rule_ids == ("returns.exempt.perishable",)
    fresh = policy_for(shop_rules(None), "生鲜/水果")
    assert exemption_for(fresh, title="苹果", product_exempt=None, buyer_confirmed=False) == ("perishable", "category")
    confirmed = decide(facts(buyer_confirmed_non_returnable=True), clothing())
    assert confirmed.rule_ids == ("returns.exempt.buyer_confirmed",)


def test_quality_problem_is_accepted_even_when_exempt_and_late_and_the_seller_pays_freight():
    decision = decide(facts(reason_code="quality", title="定制刻字伴娘服", requested_at=SIGNED + timedelta(days=60)),
                      clothing())
    assert decision.outcome == ACCEPT
    assert decision.rule_ids[0] == "returns.seller_fault"
    assert decision.freight_payer == "seller"


def test_goodwill_charges_the_configured_fee_by_condition_and_is_longer_for_high_value_buyers():
    late = SIGNED + timedelta(days=12)
    decision = decide(facts(requested_at=late, condition="light_wear", resellable=True), clothing())
    assert decision.outcome == ACCEPT
    assert decision.depreciation_fee == Decimal("12.90")  # 10 % of 129
    assert decision.refund_amount == Decimal("116.10")
    assert "returns.goodwill.fee" in decision.rule_ids
    too_late = SIGNED + timedelta(days=20)  # window 7 + goodwill 7 has passed
    assert decide(facts(requested_at=too_late, resellable=True), clothing()).outcome == REFUSE
    vip = decide(facts(requested_at=too_late, resellable=True, customer_tier="top"), clothing())
    assert vip.outcome == ACCEPT and "returns.goodwill.high_value" in vip.rule_ids
    assert decide(facts(requested_at=late, resellable=False), clothing()).rule_ids[-1] == "returns.goodwill.not_resellable"


def test_fee_table_minimum_and_cap_come_from_configuration():
    policy = clothing(returns={"depreciation": {"damaged": 0.5}, "depreciation_min_fee": 20})
    assert depreciation_fee(policy, "damaged", Decimal("30")) == Decimal("20.00")
    assert depreciation_fee(policy, "damaged", Decimal("10")) == Decimal("10.00")  # never more than the price
    assert depreciation_fee(policy, "as_new", Decimal("100")) == Decimal("0.00")


def test_goodwill_can_be_switched_off():
    policy = clothing(returns={"goodwill": {"enabled": False}})
    decision = decide(facts(requested_at=FIRST_LATE), policy)
    assert decision.outcome == REFUSE and decision.rule_ids[-1] == "returns.window.expired"


def test_freight_payer_follows_free_shipping_and_insurance():
    assert decide(facts(free_shipping=False), clothing()).freight_payer == "buyer"
    assert "returns.freight.buyer_both" in decide(facts(free_shipping=False), clothing()).rule_ids
    insured = decide(facts(freight_insurance=True), clothing())
    assert insured.freight_payer == "insurance" and "returns.freight.insurance" in insured.rule_ids


def test_refund_is_due_seven_days_after_the_return_arrives():
    back = SIGNED + timedelta(days=6)
    decision = decide(facts(returned_at=back, checklist={k: True for k in ("tags_on", "unwashed", "no_odour", "no_stains")}),
                      clothing())
    assert decision.refund_due_at == back + timedelta(days=7)
    assert "returns.intact.passed" in decision.rule_ids and "returns.refund.due" in decision.rule_ids


def test_refund_only_before_receipt_is_always_possible_and_due_from_the_request():
    decision = decide(facts(goods_received=False, kind=REFUND_ONLY, requested_at=SIGNED + timedelta(days=40)), clothing())
    assert decision.outcome == ACCEPT and decision.rule_ids[0] == "returns.not_received"
    assert decision.freight_payer is None
    assert decision.refund_due_at == SIGNED + timedelta(days=47)


def test_the_buyer_preferring_an_exchange_gets_an_exchange():
    decision = decide(facts(prefers_exchange=True), clothing())
    assert decision.outcome == EXCHANGE and "returns.exchange.buyer_prefers" in decision.rule_ids
    assert decision.refund_due_at is None


def test_no_signing_time_is_treated_as_inside_the_window():
    decision = decide(facts(signed_at=None, signed_source=None, requested_at=SIGNED + timedelta(days=90)), clothing())
    assert decision.outcome == ACCEPT and decision.rule_ids[0] == "returns.window.no_signing"


def test_order_end_time_is_named_when_the_parcel_has_no_signing():
    decision = decide(facts(signed_source="order_end"), clothing())
    assert decision.rule_ids[0] == "returns.window.from_order_end"


def test_category_overrides_and_longest_match():
    rules = shop_rules({"returns": {"categories": {"女装": {"no_reason_days": 15, "checklist": "clothing"},
                                                   "女装/上衣": {"no_reason_days": 8}}}})
    assert policy_for(rules, "女装/上衣").no_reason_days == 8
    assert policy_for(rules, "女装/裙").no_reason_days == 15
    assert policy_for(rules, "数码").no_reason_days == 7
    electronics = policy_for(shop_rules(None), "数码/耳机")
    assert electronics.checklist == ("seal_intact", "accessories_complete", "not_activated", "serial_intact")


def test_bad_settings_are_named():
    with pytest.raises(PolicyError, match="returns.no_reason_days"):
        policy_for(shop_rules({"returns": {"no_reason_days": 3}}), None)
    with pytest.raises(PolicyError, match="depreciation.damaged"):
        policy_for(shop_rules({"returns": {"depreciation": {"damaged": -1}}}), None)


def test_every_rule_has_both_languages():
    for rule_id, (zh, en) in RULE_TEXTS.items():
        assert zh and en, rule_id
