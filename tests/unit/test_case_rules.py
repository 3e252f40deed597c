"""Complaint case rules without a database: steps, SLA clocks that pause, the settlement ladder, severity, call script."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kefu.config import SHOP_RULE_DEFAULTS, shop_rules
from kefu.domain.cases import ladder, sla
from kefu.domain.cases.call_script import APOLOGY, EMPATHY, LISTEN_PHRASES, call_script
from kefu.domain.cases.policy import CasePolicyError, case_policy
from kefu.domain.cases.severity import SeverityFacts, call_advice, judge_severity
from kefu.domain.cases.steps import StepError, check_move, next_step

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
H = timedelta(hours=1)
POLICY = case_policy(shop_rules(None))


def ev(hours: float, kind: str, step: str | None = None) -> sla.ClockEvent:
    return sla.ClockEvent(T0 + hours * H, kind, step)


# ---------------------------------------------------------------- steps

def test_steps_move_forward_one_at_a_time_back_freely_and_close_from_anywhere():
    assert next_step("confirm") == "analyse" and next_step("follow_up") == "closed"
    check_move("confirm", "analyse")
    check_move("execute", "analyse")  # the buyer changed their mind
    check_move("analyse", "closed")
    with pytest.raises(StepError, match="confirm to execute"):
        check_move("confirm", "execute")
    with pytest.raises(StepError, match="closed"):
        check_move("closed", "confirm")
    with pytest.raises(StepError, match="unknown step"):
        check_move("confirm", "investigate")


# ---------------------------------------------------------------- SLA

def test_the_clock_stops_while_waiting_on_the_buyer():
    history = [ev(0, "step", "confirm"), ev(0.5, "step", "analyse"), ev(1, "wait_buyer"), ev(21, "resume")]
    clock = sla.clocks(history, T0 + 22 * H, POLICY)
    analyse = clock.current
    assert analyse.step == "analyse" and analyse.used == 1.5 * H and analyse.paused_for == 20 * H
    assert analyse.state == sla.OK  # 1.5 of 4 hours
    confirm = clock.steps[0]
    assert (confirm.state, confirm.used) == (sla.DONE, 0.5 * H)
    assert [c.state for c in clock.steps[2:]] == [sla.NOT_STARTED] * 3


def test_states_ok_due_soon_breached_paused_and_the_worst_for_lists():
    start = [ev(0, "step", "confirm")]
    assert sla.clocks(start, T0 + 1 * H, POLICY).state == sla.OK
    assert sla.clocks(start, T0 + 1.6 * H, POLICY).state == sla.DUE_SOON  # < 25% of 2 h left
    assert sla.clocks(start, T0 + 2.5 * H, POLICY).state == sla.BREACHED
    assert sla.clocks(start + [ev(1, "wait_buyer")], T0 + 50 * H, POLICY).state == sla.PAUSED
    # a breach while waiting still shows as a breach
    assert sla.clocks(start + [ev(3, "wait_buyer")], T0 + 50 * H, POLICY).state == sla.BREACHED
    closed = start + [ev(3, "step", "analyse"), ev(4, "step", "closed")]
    result = sla.clocks(closed, T0 + 50 * H, POLICY)
    assert result.current is None and result.state == sla.BREACHED and result.ever_breached


def test_entering_a_step_resumes_the_clock_and_future_events_are_ignored():
    history = [ev(0, "step", "confirm"), ev(0.2, "wait_buyer"), ev(5, "step", "analyse"), ev(100, "step", "closed")]
    clock = sla.clocks(history, T0 + 6 * H, POLICY)
    assert clock.current.step == "analyse" and clock.current.used == 1 * H and clock.current.state == sla.OK
    assert sla.due_at(clock.current, T0 + 6 * H) == T0 + 9 * H


@given(st.lists(st.tuples(st.floats(0, 100), st.sampled_from(["wait_buyer", "resume"])), max_size=12),
       st.floats(0, 200))
def test_used_plus_paused_is_the_time_in_the_step(events, at):
    history = [ev(0, "step", "confirm")] + [ev(h, kind) for h, kind in events]
    current = sla.clocks(history, T0 + at * H, POLICY).current
    assert abs((current.used + current.paused_for).total_seconds() - at * 3600) < 1e-3


def test_sla_hours_come_from_the_shops_configuration():
    policy = case_policy(shop_rules({"cases": {"sla_hours": {"confirm": 10}}}))
    assert policy.sla_hours["confirm"] == 10 and policy.sla_hours["analyse"] == 4
    assert sla.clocks([ev(0, "step", "confirm")], T0 + 5 * H, policy).state == sla.OK
    with pytest.raises(CasePolicyError, match="cases.sla_hours: unknown step"):
        case_policy(shop_rules({"cases": {"sla_hours": {"investigate": 1}}}))
    with pytest.raises(CasePolicyError, match="cases.a_little_share"):
        case_policy(shop_rules({"cases": {"a_little_share": 2}}))
    with pytest.raises(CasePolicyError, match="cases.approval_tiers"):
        case_policy(shop_rules({"cases": {"approval_tiers": [6]}}))


# ---------------------------------------------------------------- ladder

PAID = Decimal("200")  # margin 30% = 60; a little = 10% = 20


@pytest.mark.parametrize(("cost", "accepts", "tier", "beyond", "approval"), [
    ("0", "yes", 1, False, False),  # exchange at no cost
    ("-15", "yes", 1, False, False),  # an upgrade the buyer pays for
    ("30", "yes", 2, False, False),
    ("60", "yes", 2, False, False),  # exactly the margin
    ("75", "yes", 3, False, False),  # lose 15 ≤ 20
    ("80", "yes", 3, False, False),  # lose exactly 20
    ("81", "yes", 3, True, True),  # lose 21: beyond a little
    ("10", "no", 4, False, True),
    ("61", "no", 5, False, True),
    ("30", "unknown", 2, False, False),
])
def test_every_resolution_lands_on_one_of_five_tiers(cost, accepts, tier, beyond, approval):
    placement = ladder.place(Decimal(cost), accepts, paid=PAID, policy=POLICY)
    assert (placement.tier, placement.beyond_policy, placement.needs_approval) == (tier, beyond, approval)
    assert placement.provisional == (accepts == "unknown")
    assert placement.net == Decimal("60.00") - Decimal(cost)


def test_the_ladder_uses_the_shops_margin_and_a_little_and_approval_tiers():
    generous = case_policy(shop_rules({"cases": {"margin_share": 0.5, "a_little_share": 0.2, "approval_tiers": [5]}}))
    assert ladder.place(Decimal("90"), "yes", paid=PAID, policy=generous).tier == 2  # margin 100
    assert ladder.place(Decimal("10"), "no", paid=PAID, policy=generous).needs_approval is False
    assert ladder.place(Decimal("50"), "yes", paid=None, policy=POLICY).tier == 3  # no order: no margin
    assert ladder.place(Decimal("50"), "yes", paid=PAID, policy=POLICY, margin=Decimal("40")).tier == 3
    with pytest.raises(ValueError, match="acceptance"):
        ladder.place(Decimal("1"), "maybe", paid=PAID, policy=POLICY)


def test_options_put_the_buyers_satisfaction_first():
    options = [("no", 4, Decimal("5")), ("unknown", 2, Decimal("30")), ("yes", 3, Decimal("70")),
               ("yes", 1, Decimal("0")), ("no", 5, Decimal("100"))]
    ordered = ladder.sort_options(options, key=lambda o: o)
    assert ordered == [("yes", 1, Decimal("0")), ("yes", 3, Decimal("70")), ("unknown", 2, Decimal("30")),
                       ("no", 4, Decimal("5")), ("no", 5, Decimal("100"))]


# ---------------------------------------------------------------- severity and calls

def test_severity_rises_with_anger_amount_public_reviews_and_repeats():
    assert judge_severity(SeverityFacts(), POLICY) == "low"
    assert judge_severity(SeverityFacts(anger=0.4), POLICY) == "medium"
    assert judge_severity(SeverityFacts(anger=0.9), POLICY) == "high"
    assert judge_severity(SeverityFacts(paid=Decimal("600")), POLICY) == "medium"
    assert judge_severity(SeverityFacts(paid=Decimal("2500"), source="review"), POLICY) == "critical"
    assert judge_severity(SeverityFacts(repeat=True, topics=("logistics.damaged",)), POLICY) == "high"


def test_a_call_is_suggested_when_anger_is_high_or_the_case_severe():
    assert call_advice(0.8, "low", POLICY).suggested
    assert call_advice(None, "critical", POLICY).reasons == ("severity critical",)
    assert not call_advice(0.2, "medium", POLICY).suggested
    assert SHOP_RULE_DEFAULTS["cases"]["call_anger"] == POLICY.call_anger


def test_the_call_script_listens_empathises_apologises_then_offers_in_order():
    script = call_script(shop_name="小美的店", agent="小美", buyer="tb_kitty", summary="杯子碎了",
                         offers=("补发一件", "退款"), order_no="4001")
    phases = [line.phase for line in script]
    assert phases == ["greet", "listen", "listen", "empathise", "apologise", "offer", "offer", "confirm", "close"]
    text = "\n".join(line.say for line in script)
    for phrase in (*LISTEN_PHRASES, EMPATHY, APOLOGY):
        assert phrase in text
    assert text.index("补发一件") < text.index("退款") and "4001" in text and "tb_kitty" in text
    assert [line.phase for line in call_script(shop_name="s", agent="a", buyer=None, summary="x")][5] == "offer"
