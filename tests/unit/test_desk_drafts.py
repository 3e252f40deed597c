"""Reply drafts: cited facts, honest gaps, personality forms, angry buyers, and knowledge data parsing and retrieval."""

from __future__ import annotations

from datetime import datetime, time
from decimal import Decimal

import pytest

from kefu.domain.desk.drafts import DraftRequest, OrderBrief, compose_draft
from kefu.domain.desk.knowledge import Entry, build_knowledge, data_from_lines, data_problems, province_matches
from kefu.domain.desk.retrieval import rank_entries
from kefu.domain.desk.signals import find_asks, fallback_intent

SHIPPING = Entry("ship", "shipping", "发货与快递", "", {
    "cutoff": "16:00", "ship_promise_hours": "48", "same_day": "是", "couriers": "中通、圆通、顺丰",
    "free_shipping": "是", "excluded_provinces": "新疆、西藏", "remote_fee": "15", "cash_on_delivery": "否", "invoice": "是"})
RETURNS = Entry("ret", "returns", "退换货", "", {"return_days": "7", "buyer_pays_return": "是", "conditions": "吊牌完好、未洗涤"})
DRESS = Entry("dress", "product", "法式碎花连衣裙", "雪纺碎花裙，夏季", {
    "material": "100%聚酯纤维雪纺", "size_chart": "S 胸围84; M 胸围88; L 胸围92", "measuring": "平铺测量，误差1-2cm",
    "price": "129"}, product_id="p1", stock={"白色;S": 3, "白色;M": 0, "蓝色;M": 5})
JEANS = Entry("jeans", "product", "高腰直筒牛仔裤", "弹力牛仔", {"material": "98%棉 2%氨纶"})
KNOWLEDGE = build_knowledge([SHIPPING, RETURNS, DRESS, JEANS])
NOW = datetime(2025, 3, 10, 15, 0)
DUE = datetime(2025, 3, 10, 17, 0)


def draft(message, intent=None, **kw):
    request = DraftRequest(message, intent or fallback_intent(message), now=NOW, followup_due=DUE, **kw)
    return compose_draft(request, KNOWLEDGE)


def test_the_xinjiang_cash_on_delivery_trap_gets_facts_not_promises():
    d = draft("今天能发货吗？发新疆，货到付款", "shipping_time")
    assert "16:00前付款的订单当天发出" in d.text
    assert "新疆不在包邮范围内，需要补运费15元" in d.text
    assert "暂不支持货到付款" in d.text
    assert "包邮" not in d.text.replace("不在包邮范围", "")
    assert {c.entry_id for c in d.citations} == {"ship"} and len(d.citations) == 4
    assert d.missing == ()


def test_the_trap_draft_passes_the_promise_guard_with_the_knowledge_base_facts():
    guard = pytest.importorskip("kefu.domain.promise_guard")
    from kefu.services.shop_facts import as_guard_facts, desk_facts

    facts = as_guard_facts(desk_facts(KNOWLEDGE, "Asia/Shanghai"), guard.ShopFacts)
    assert facts.cash_on_delivery is False and facts.free_shipping_excluded_provinces == ("新疆", "西藏")
    for personality in (None, "dominant", "expressive", "amiable", "analytical"):
        d = draft("今天能发货吗？发新疆，货到付款", "shipping_time", personality=personality)
        verdict = guard.check_text(d.text, facts, guard.GuardContext(province="新疆"))
        assert verdict.action == "allow", (personality, d.text, verdict.reasons)
    risky = guard.check_text("今天就给您发，新疆也包邮，支持货到付款", facts, guard.GuardContext(province="新疆"))
    assert risky.action != "allow"  # the same facts do catch the risky answer


def test_a_missing_fact_is_said_honestly_with_the_time_and_named():
    knowledge = build_knowledge([RETURNS])
    d = compose_draft(DraftRequest("发新疆包邮吗", "free_shipping", now=NOW, followup_due=DUE), knowledge)
    assert "需要跟同事核实" in d.text and "今天17:00前" in d.text
    assert [m.key for m in d.missing] == ["shipping.free_shipping"]
    assert d.citations == ()


def test_size_question_cites_the_matching_products_chart_and_material():
    d = draft("连衣裙M码胸围多少", "size_spec")
    assert "M 胸围88" in d.text and "平铺测量" in d.text and "聚酯纤维" in d.text
    assert {c.entry_id for c in d.citations} == {"dress"}


def test_stock_comes_from_the_skus_in_stock():
    d = draft("连衣裙还有货吗", "stock")
    assert "白色;S" in d.text and "蓝色;M" in d.text and "白色;M" not in d.text


@pytest.mark.parametrize(
    ("personality", "expected", "absent"),
    [
        ("dominant", "到手价129元", "眼光"),
        ("expressive", "眼光真好", "1. "),
        ("amiable", "帮您挑最合适的", "1. "),
        ("analytical", "1. ", "眼光"),
    ],
)
def test_personality_changes_the_form_not_the_facts(personality, expected, absent):
    d = draft("连衣裙能便宜点吗？发什么快递", "bargaining", personality=personality)
    assert expected in d.text and absent not in d.text
    assert "中通、圆通、顺丰" in d.text  # the same fact for every type
    assert d.personality == personality


def test_analytical_buyers_get_exact_times():
    d = draft("今天能发货吗", "shipping_time", personality="analytical")
    assert "现在是15:00，此时付款当天就能发出" in d.text


def test_angry_buyer_at_fault_gets_an_admission_first_without_excuses():
    d = draft("裙子破了个洞，气死了！！", "quality_problem", anger=0.9)
    assert d.angry and d.at_fault
    assert d.text.startswith("亲，非常抱歉，这是我们的问题")
    assert "快递" not in d.text.split("。")[0]


def test_angry_buyer_not_at_fault_is_calmed_first():
    d = draft("快递怎么还没到！！", "where_is_parcel", anger=0.8,
              orders=(OrderBrief("1001", "WAIT_BUYER_CONFIRM_GOODS", True, "中通", "ZT123", "in_transit"),))
    assert d.angry and not d.at_fault
    assert d.text.startswith("亲，您先别着急")
    assert "ZT123" in d.text and "运输中" in d.text and any(c.kind == "order" for c in d.citations)


def test_a_short_acknowledgement_needs_no_fact_and_no_follow_up():
    d = draft("好的", "other", personality="dominant")
    assert d.missing == () and "核实" not in d.text


def test_an_agent_may_say_the_shop_is_at_fault():
    d = draft("发错颜色了", "complaint", anger=0.2, shop_at_fault=True)
    assert "这是我们的问题" in d.text


def test_knowledge_data_lines_and_problems_name_the_key():
    data = data_from_lines("cutoff: 16:00\ncouriers：中通、圆通\nsize_chart: S 84\n M 88\nsame_day: maybe")
    assert data == {"cutoff": "16:00", "couriers": "中通、圆通", "size_chart": "S 84\nM 88", "same_day": "maybe"}
    assert [p.split(":")[0] for p in data_problems("shipping", data)] == ["same_day"]
    assert KNOWLEDGE.shipping.cutoff == time(16) and KNOWLEDGE.shipping.remote_fee == Decimal("15")
    assert province_matches("新疆维吾尔自治区", ("新疆",)) and not province_matches("浙江省", ("新疆",))


def test_retrieval_ranks_the_entry_sharing_words_and_returns_nothing_for_unrelated_text():
    ranked = rank_entries("牛仔裤什么面料", KNOWLEDGE.entries)
    assert ranked[0].entry.id == "jeans"
    assert rank_entries("asdfgh", KNOWLEDGE.entries) == []


def test_asks_found_beside_the_main_intent():
    asks = find_asks("今天能发吗？发西藏，要发票，货到付款")
    assert (asks.province, asks.invoice, asks.cash_on_delivery, asks.same_day) == ("西藏", True, True, True)
