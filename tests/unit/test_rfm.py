from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from kefu.config import SHOP_RULE_DEFAULTS
from kefu.domain.growth.rfm import BuyerFigures, RfmRules, frequency_score, money_scores, recency_score, score_customers

NOW = datetime(2026, 11, 22, tzinfo=UTC)
RULES = RfmRules.from_config(SHOP_RULE_DEFAULTS["segments"])


@pytest.mark.parametrize(("days", "score"), [(0, 5), (30, 5), (31, 4), (90, 4), (91, 3), (180, 3), (365, 2), (366, 1)])
def test_recency_scores_on_configured_day_bounds(days, score):
    assert recency_score(days, RULES.recency_days) == score


@pytest.mark.parametrize(("orders", "score"), [(1, 1), (2, 2), (3, 3), (4, 3), (5, 4), (7, 4), (8, 5), (30, 5)])
def test_frequency_scores_on_configured_order_counts(orders, score):
    assert frequency_score(orders, RULES.frequency_orders) == score


def test_money_is_scored_by_quintile_and_equal_spends_share_a_score():
    spends = [Decimal(v) for v in (10, 20, 30, 40, 50, 60, 70, 80, 90, 100)]
    assert money_scores(spends) == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert len(set(money_scores([Decimal(5)] * 7))) == 1
    assert money_scores([Decimal(1)]) == [3]


def test_groups_follow_the_first_matching_rule():
    buyers = [
        BuyerFigures("champ", NOW - timedelta(days=3), 9, Decimal(5000)),
        BuyerFigures("new", NOW - timedelta(days=5), 1, Decimal(10)),
        BuyerFigures("risk", NOW - timedelta(days=300), 3, Decimal(100)),
        BuyerFigures("lost", NOW - timedelta(days=500), 1, Decimal(20)),
        BuyerFigures("never", None, 0, Decimal(0)),
    ]
    by_id = {s.customer_id: s for s in score_customers(buyers, RULES, NOW)}
    assert by_id["champ"].code == "555" and by_id["champ"].group == "champions"
    assert by_id["new"].group == "new"
    assert by_id["risk"].group == "at_risk"
    assert by_id["lost"].group == "lost"
    assert by_id["never"].code == "000" and by_id["never"].group == "prospects"


def test_bad_thresholds_are_refused_with_the_setting_named():
    config = {**SHOP_RULE_DEFAULTS["segments"], "recency_days": [90, 30, 180, 365]}
    with pytest.raises(ValueError, match="segments.recency_days"):
        RfmRules.from_config(config)
