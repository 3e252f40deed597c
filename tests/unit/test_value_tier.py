from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kefu.config import shop_rules
from kefu.domain.value_tier import (
    LOW,
    MIDDLE,
    NONE,
    TOP,
    assign_tiers,
    pareto_view,
    tier_cutoffs,
    tier_floors,
    tier_shares,
)


def spends(*values) -> dict[str, Decimal]:
    return {f"c{i:02d}": Decimal(str(v)) for i, v in enumerate(values)}


def test_ten_spenders_split_two_three_five():
    tiers = assign_tiers(spends(1000, 900, 800, 700, 600, 500, 400, 300, 200, 100, 0, 0))
    assert [tiers[f"c{i:02d}"] for i in range(12)] == [TOP] * 2 + [MIDDLE] * 3 + [LOW] * 5 + [NONE] * 2


def test_shares_round_up_so_a_single_spender_is_top():
    assert assign_tiers(spends(5)) == {"c00": TOP}
    assert tier_cutoffs(3, tier_shares()).top == 1  # 20 % of 3 is 0.6 → 1
    assert tier_cutoffs(3, tier_shares()).upper == 2  # 50 % of 3 is 1.5 → 2


def test_customers_spending_the_same_share_a_tier():
    tiers = assign_tiers(spends(500, 300, 300, 300, 100, 100, 100, 100, 100, 100))
    assert tiers["c00"] == TOP
    assert {tiers["c01"], tiers["c02"], tiers["c03"]} == {TOP}  # the tie at the cut goes up together


def test_nobody_with_spend_is_none():
    assert set(assign_tiers(spends(0, 0)).values()) == {NONE}
    assert assign_tiers({}) == {}


def test_shop_rules_change_the_shares():
    shares = tier_shares(shop_rules({"value_tiers": {"top": 0.1}})["value_tiers"])
    tiers = assign_tiers(spends(*range(100, 0, -10)), shares)  # 10 spenders
    assert list(tiers.values()).count(TOP) == 1
    assert list(tiers.values()).count(MIDDLE) == 3


@pytest.mark.parametrize("rules, field", [({"top": 1.5}, "top"), ({"middle": "lots"}, "middle"), ({"top": 0.7, "middle": 0.5}, "top + middle")])
def test_bad_shares_name_the_field(rules, field):
    with pytest.raises(ValueError, match=field.replace("+", r"\+")):
        tier_shares(rules)


def test_pareto_view():
    view = pareto_view(spends(800, 100, 50, 30, 20, 0))
    assert view.customers_with_spend == 5
    assert view.top_count == 1
    assert view.top_revenue == Decimal("800")
    assert view.total_revenue == Decimal("1000")
    assert view.top_revenue_share == pytest.approx(0.8)
    assert pareto_view({}).top_revenue_share == 0.0


def test_floors():
    floors = tier_floors([Decimal(v) for v in (10, 20, 30, 40, 50)], tier_shares())
    assert floors.top == Decimal(50)
    assert floors.middle == Decimal(30)  # 50 % of 5 is 2.5 → the first 3 are top or middle


@given(st.dictionaries(st.text(min_size=1, max_size=4), st.integers(min_value=0, max_value=50).map(Decimal), max_size=60))
def test_tiers_follow_spend(spend_by_customer):
    tiers = assign_tiers(spend_by_customer)
    rank = {TOP: 3, MIDDLE: 2, LOW: 1, NONE: 0}
    for a, spend_a in spend_by_customer.items():
        assert (tiers[a] == NONE) == (spend_a == 0)
        for b, spend_b in spend_by_customer.items():
            if spend_a >= spend_b:
                assert rank[tiers[a]] >= rank[tiers[b]]
    spenders = sum(1 for v in spend_by_customer.values() if v > 0)
    top = sum(1 for t in tiers.values() if t == TOP)
    if spenders:
        assert top >= tier_cutoffs(spenders, tier_shares()).top
