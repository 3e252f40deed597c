"""Response KPI formulas on hand-computed cases: rounds, the 3-minute rate, hours, midnight, auto-replies, conversion."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta, timezone

import pytest

from kefu.config import shop_rules
from kefu.domain.desk.response import (
    ChatEvent,
    Inquiry,
    ResponseRules,
    RoundState,
    conversion,
    daily_figures,
    figures_by_agent,
    in_service_hours,
    inquiries_of,
    response_figures,
    round_state,
    rounds_of,
)

BJ = timezone(timedelta(hours=8))
RULES = ResponseRules()


def bj(day: int, hour: int, minute: int, second: int = 0) -> datetime:
    """A Beijing wall-clock time in March 2025, as UTC."""
    return datetime(2025, 3, day, hour, minute, second, tzinfo=BJ).astimezone(UTC)


def buyer(at, conv="c1", customer="u1"):
    return ChatEvent(conv, "buyer", at, customer_id=customer)


def seller(at, conv="c1", agent="小美", auto=False):
    return ChatEvent(conv, "seller", at, author=agent, auto_reply=auto)


NOW = bj(20, 12, 0)


def test_a_round_runs_from_the_first_unanswered_buyer_message_to_the_first_human_answer():
    events = [buyer(bj(10, 10, 0)), buyer(bj(10, 10, 1)), seller(bj(10, 10, 0, 30), auto=True),
              seller(bj(10, 10, 2, 30)), seller(bj(10, 10, 3)), buyer(bj(10, 11, 0)), seller(bj(10, 11, 5))]
    rounds = rounds_of(events)
    assert [(r.response_seconds, r.agent) for r in rounds] == [(150.0, "小美"), (300.0, "小美")]
    figures = response_figures(rounds, RULES, NOW)
    assert (figures.rounds, figures.within, figures.late, figures.rate) == (2, 1, 1, 0.5)
    assert figures.median_seconds == 225.0
    assert figures.first_response_median_seconds == 150.0  # the day's first round only


def test_auto_replies_alone_leave_the_round_unanswered_and_it_counts_as_missed():
    rounds = rounds_of([buyer(bj(10, 9, 0)), seller(bj(10, 9, 0, 5), auto=True)])
    assert rounds[0].answered_at is None
    assert round_state(rounds[0], RULES, NOW) == RoundState.MISSED
    assert response_figures(rounds, RULES, NOW).rate == 0.0


def test_an_unanswered_round_is_pending_until_the_target_passes():
    rounds = rounds_of([buyer(NOW - timedelta(seconds=100))])
    assert round_state(rounds[0], RULES, NOW) == RoundState.PENDING
    figures = response_figures(rounds, RULES, NOW)
    assert (figures.rounds, figures.pending, figures.rate) == (0, 1, None)
    assert round_state(rounds[0], RULES, NOW + timedelta(seconds=81)) == RoundState.MISSED


def test_rounds_that_start_outside_service_hours_do_not_count():
    events = [buyer(bj(10, 7, 59), conv="early"), seller(bj(10, 8, 30), conv="early"),
              buyer(bj(10, 8, 0), conv="open"), seller(bj(10, 8, 1), conv="open")]
    figures = response_figures(rounds_of(events), RULES, NOW)
    assert (figures.rounds, figures.within) == (1, 1)  # 07:59 is before 08:00; 08:00 sharp counts


def test_a_round_across_midnight_counts_by_its_start_and_its_full_wait():
    events = [buyer(bj(10, 23, 58)), seller(bj(11, 0, 0, 30)),  # 2.5 minutes, across midnight: within
              buyer(bj(11, 23, 59), conv="c2"), seller(bj(12, 0, 4), conv="c2"),  # 5 minutes: late
              buyer(bj(12, 0, 10), conv="c3"), seller(bj(12, 0, 11), conv="c3")]  # 00:10 is outside 08–24
    rounds = rounds_of(events)
    assert [round_state(r, RULES, NOW) for r in rounds] == [RoundState.WITHIN, RoundState.LATE, RoundState.NOT_COUNTED]
    days = daily_figures(rounds, RULES, NOW)
    assert [(d.day.day, d.rounds, d.within) for d in days] == [(10, 1, 1), (11, 1, 0)]


def test_the_lookback_window_and_configured_numbers():
    rules = ResponseRules.from_rules(shop_rules({"desk": {"response": {"target_seconds": 60, "hours_start": "09:00",
                                                                        "hours_end": "21:00", "lookback_days": 7}}}))
    assert (rules.target_seconds, rules.hours_start, rules.hours_end, rules.lookback_days) == (60, time(9), time(21), 7)
    events = [buyer(bj(10, 10, 0), conv="old"), seller(bj(10, 10, 0, 30), conv="old"),  # ten days before NOW
              buyer(bj(19, 10, 0)), seller(bj(19, 10, 1, 30)),  # 90 s > 60 s target
              buyer(bj(19, 21, 0), conv="late"), seller(bj(19, 21, 0, 10), conv="late")]  # 21:00 is closed
    figures = response_figures(rounds_of(events), rules, NOW)
    assert (figures.rounds, figures.within, figures.late) == (1, 0, 1)
    assert not in_service_hours(bj(19, 21, 0), rules) and in_service_hours(bj(19, 20, 59), rules)


def test_per_agent_figures_cover_the_rounds_each_agent_answered():
    events = [buyer(bj(10, 10, 0)), seller(bj(10, 10, 1), agent="小美"),
              buyer(bj(10, 10, 0), conv="c2"), seller(bj(10, 10, 10), conv="c2", agent="阿强"),
              buyer(bj(10, 10, 0), conv="c3")]
    agents = figures_by_agent(rounds_of(events), RULES, NOW)
    assert {a: (f.rounds, f.within) for a, f in agents.items()} == {"小美": (1, 1), "阿强": (1, 0)}
    assert response_figures(rounds_of(events), RULES, NOW).missed == 1  # the unanswered one is the shop's


def test_conversion_counts_an_order_inside_the_window_after_the_ask():
    rules = ResponseRules(conversion_window_hours=24)
    asked = bj(15, 10, 0)
    inquiries = [Inquiry("c1", "u1", asked, "小美"), Inquiry("c2", "u2", asked, "小美"), Inquiry("c3", "u3", asked, None),
                 Inquiry("c4", None, asked, "阿强")]
    orders = {"u1": [asked + timedelta(hours=23)], "u2": [asked - timedelta(hours=1), asked + timedelta(hours=25)],
              "u3": [asked]}
    figures = conversion(inquiries, orders, rules)
    assert (figures.inquiries, figures.converted) == (4, 2)
    assert figures.rate == pytest.approx(0.5)
    assert figures.by_agent == {"小美": (2, 1), "阿强": (1, 0)}


def test_one_inquiry_per_conversation_and_local_day():
    events = [buyer(bj(15, 10, 0)), seller(bj(15, 10, 1)), buyer(bj(15, 15, 0)), seller(bj(15, 15, 1)),
              buyer(bj(16, 9, 0)), seller(bj(16, 9, 1))]
    inquiries = inquiries_of(rounds_of(events), RULES, NOW)
    assert [i.asked_at for i in inquiries] == [bj(15, 10, 0), bj(16, 9, 0)]
