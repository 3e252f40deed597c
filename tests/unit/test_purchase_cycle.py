from datetime import UTC, datetime, timedelta

from kefu.config import SHOP_RULE_DEFAULTS
from kefu.domain.growth.purchase_cycle import CycleRules, gaps_in_days, purchase_cycle, shop_cycle_days

RULES = CycleRules.from_config(SHOP_RULE_DEFAULTS["segments"]["cycle"])
START = datetime(2026, 1, 1, tzinfo=UTC)


def _times(*days: float) -> list[datetime]:
    return [START + timedelta(days=d) for d in days]


def test_own_rhythm_once_there_are_enough_gaps():
    cycle = purchase_cycle(_times(0, 30, 60, 90), 90, RULES, now=START + timedelta(days=100))
    assert cycle.basis == "own" and cycle.cycle_days == 30
    assert cycle.next_purchase_at == START + timedelta(days=120)
    assert cycle.stage == "ahead" and cycle.overdue_days == -20


def test_few_gaps_blend_with_the_shop_and_one_order_uses_the_shop():
    blended = purchase_cycle(_times(0, 30), 90, RULES, now=START)
    assert blended.basis == "blended" and blended.cycle_days == 70.0  # 1/3·30 + 2/3·90
    single = purchase_cycle(_times(0), 60, RULES, now=START)
    assert single.basis == "shop" and single.cycle_days == 60


def test_stages_from_how_many_cycles_overdue():
    times = _times(0, 30, 60, 90)  # cycle 30, next at day 120
    assert purchase_cycle(times, 90, RULES, now=START + timedelta(days=125)).stage == "due"
    assert purchase_cycle(times, 90, RULES, now=START + timedelta(days=140)).stage == "winback"
    assert purchase_cycle(times, 90, RULES, now=START + timedelta(days=215)).stage == "lost"


def test_same_hour_repeats_are_one_order_and_shop_cycle_needs_history():
    assert gaps_in_days([START, START + timedelta(minutes=20), START + timedelta(days=10)]) == [
        (timedelta(days=10) - timedelta(minutes=20)).total_seconds() / 86400]
    assert shop_cycle_days([10.0] * 5, RULES) == RULES.shop_cycle_days
    assert shop_cycle_days([10.0] * 19 + [40.0] * 21, RULES) == 40.0
    assert purchase_cycle([], 90, RULES, now=START) is None
