"""Response KPIs as pure formulas: reply rounds, the 3-minute response rate, first-response time, inquiry → order conversion.

A *round* starts with a buyer message that has no open round (the first message, or the first after a seller answer)
and ends at the seller's first answer typed by a person; auto-replies (自动回复) neither answer a round nor count.
A round counts for the response rate when it starts inside the service hours (default 08:00–24:00 shop time, the
Taobao 3-minute rule) and inside the lookback window (default 30 days). An unanswered round counts as missed once the
target has passed, and is pending (left out) before that. An *inquiry* is a buyer's first message of a local day in a
conversation; it converted when that buyer orders within the configured window after asking. Every number comes from
the shop's rules (``desk.response`` and ``desk.conversion_window_hours``).
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class ChatEvent:
    """A message as the KPIs see it."""

    conversation_id: str
    sender: str  # buyer | seller
    sent_at: datetime  # UTC
    author: str | None = None
    auto_reply: bool = False
    customer_id: str | None = None


@dataclass(frozen=True)
class ResponseRules:
    """The numbers of the response KPIs (from configuration)."""

    target_seconds: int = 180
    hours_start: time = time(8, 0)
    hours_end: time | None = None  # None = midnight (24:00)
    timezone: str = "Asia/Shanghai"
    lookback_days: int = 30
    conversion_window_hours: float = 72.0

    @classmethod
    def from_rules(cls, rules: Mapping[str, Any]) -> "ResponseRules":
        """From a shop's merged rules (``shop_rules(settings)``): the ``desk`` key and the shop timezone."""
        desk = rules.get("desk", {}) or {}
        response = desk.get("response", {}) or {}
        return cls(
            target_seconds=int(response.get("target_seconds", 180)),
            hours_start=_clock(response.get("hours_start", "08:00")) or time(0, 0),
            hours_end=_clock(response.get("hours_end", "24:00")),
            timezone=str(rules.get("timezone", "Asia/Shanghai")),
            lookback_days=int(response.get("lookback_days", 30)),
            conversion_window_hours=float(desk.get("conversion_window_hours", 72)),
        )


def _clock(text: str | None) -> time | None:
    """"08:00" → 08:00; "24:00" → None (midnight at the end of the day)."""
    if text is None:
        return None
    hours, _, minutes = str(text).partition(":")
    if int(hours) >= 24:
        return None
    return time(int(hours), int(minutes or 0))


@dataclass(frozen=True)
class Round:
    """From a buyer's first unanswered message to the seller's first answer by a person."""

    conversation_id: str
    started_at: datetime
    answered_at: datetime | None
    agent: str | None
    customer_id: str | None = None

    @property
    def response_seconds(self) -> float | None:
        if self.answered_at is None:
            return None
        return (self.answered_at - self.started_at).total_seconds()


def rounds_of(events: Iterable[ChatEvent]) -> list[Round]:
    """Every round in the events (any order): one per buyer message that found no open round."""
    by_conversation: dict[str, list[ChatEvent]] = defaultdict(list)
    for event in events:
        by_conversation[event.conversation_id].append(event)
    rounds: list[Round] = []
    for conversation_id, items in by_conversation.items():
        items.sort(key=lambda e: (e.sent_at, e.sender != "buyer"))
        open_start: ChatEvent | None = None
        for event in items:
            if event.sender == "buyer":
                if open_start is None:
                    open_start = event
            elif not event.auto_reply and open_start is not None:
                rounds.append(Round(conversation_id, open_start.sent_at, event.sent_at, event.author,
                                    open_start.customer_id))
                open_start = None
        if open_start is not None:
            rounds.append(Round(conversation_id, open_start.sent_at, None, None, open_start.customer_id))
    rounds.sort(key=lambda r: (r.started_at, r.conversation_id))
    return rounds


def local_moment(moment: datetime, rules: ResponseRules) -> datetime:
    return moment.astimezone(ZoneInfo(rules.timezone))


def in_service_hours(moment: datetime, rules: ResponseRules) -> bool:
    """Whether a UTC moment falls inside the counted hours, shop time (start inclusive, end exclusive)."""
    clock = local_moment(moment, rules).time()
    if clock < rules.hours_start:
        return False
    return rules.hours_end is None or clock < rules.hours_end


class RoundState:
    WITHIN = "within"
    LATE = "late"
    MISSED = "missed"  # never answered, target passed
    PENDING = "pending"  # never answered yet, target not passed
    NOT_COUNTED = "not_counted"  # outside service hours or the lookback


def round_state(round_: Round, rules: ResponseRules, now: datetime) -> str:
    """How one round counts for the response rate at `now`."""
    if round_.started_at > now or round_.started_at < now - timedelta(days=rules.lookback_days):
        return RoundState.NOT_COUNTED
    if not in_service_hours(round_.started_at, rules):
        return RoundState.NOT_COUNTED
    seconds = round_.response_seconds
    if seconds is None or (round_.answered_at is not None and round_.answered_at > now):
        waited = (now - round_.started_at).total_seconds()
        return RoundState.MISSED if waited > rules.target_seconds else RoundState.PENDING
    return RoundState.WITHIN if seconds <= rules.target_seconds else RoundState.LATE


@dataclass(frozen=True)
class ResponseFigures:
    """Counted rounds, how many were answered within the target, and response times in seconds."""

    rounds: int = 0
    within: int = 0
    late: int = 0
    missed: int = 0
    pending: int = 0
    median_seconds: float | None = None
    mean_seconds: float | None = None
    first_response_median_seconds: float | None = None

    @property
    def rate(self) -> float | None:
        """Within target / counted rounds; None without rounds."""
        return self.within / self.rounds if self.rounds else None


def _first_of_day(rounds: Sequence[Round], rules: ResponseRules) -> list[Round]:
    """The first round of each conversation and local day (the buyer's first ask that day)."""
    seen: set[tuple[str, date]] = set()
    firsts = []
    for round_ in sorted(rounds, key=lambda r: r.started_at):
        key = (round_.conversation_id, local_moment(round_.started_at, rules).date())
        if key not in seen:
            seen.add(key)
            firsts.append(round_)
    return firsts


def response_figures(rounds: Sequence[Round], rules: ResponseRules, now: datetime) -> ResponseFigures:
    """The response KPIs over rounds (all of them counted by the rules at `now`)."""
    states = [(r, round_state(r, rules, now)) for r in rounds]
    counted = [(r, s) for r, s in states if s != RoundState.NOT_COUNTED]
    answered = [r.response_seconds for r, s in counted if s in (RoundState.WITHIN, RoundState.LATE)]
    firsts = [r.response_seconds for r in _first_of_day([r for r, s in counted if s in (RoundState.WITHIN, RoundState.LATE)], rules)]
    pending = sum(1 for _, s in counted if s == RoundState.PENDING)
    return ResponseFigures(
        rounds=len(counted) - pending,
        within=sum(1 for _, s in counted if s == RoundState.WITHIN),
        late=sum(1 for _, s in counted if s == RoundState.LATE),
        missed=sum(1 for _, s in counted if s == RoundState.MISSED),
        pending=pending,
        median_seconds=statistics.median(answered) if answered else None,
        mean_seconds=statistics.fmean(answered) if answered else None,
        first_response_median_seconds=statistics.median(firsts) if firsts else None,
    )


def figures_by_agent(rounds: Sequence[Round], rules: ResponseRules, now: datetime) -> dict[str, ResponseFigures]:
    """The KPIs of each agent over the rounds that agent answered (unanswered rounds belong to the shop only)."""
    by_agent: dict[str, list[Round]] = defaultdict(list)
    for round_ in rounds:
        if round_.agent:
            by_agent[round_.agent].append(round_)
    return {agent: response_figures(items, rules, now) for agent, items in sorted(by_agent.items())}


@dataclass(frozen=True)
class DayFigures:
    day: date
    rounds: int
    within: int

    @property
    def rate(self) -> float | None:
        return self.within / self.rounds if self.rounds else None


def daily_figures(rounds: Sequence[Round], rules: ResponseRules, now: datetime) -> list[DayFigures]:
    """Counted rounds and rounds within target per local day, oldest first (the /kpis chart)."""
    days: dict[date, list[int]] = {}
    for round_ in rounds:
        state = round_state(round_, rules, now)
        if state in (RoundState.NOT_COUNTED, RoundState.PENDING):
            continue
        day = local_moment(round_.started_at, rules).date()
        counts = days.setdefault(day, [0, 0])
        counts[0] += 1
        counts[1] += state == RoundState.WITHIN
    return [DayFigures(day, n, w) for day, (n, w) in sorted(days.items())]


@dataclass(frozen=True)
class Inquiry:
    """A buyer's first ask of a local day in a conversation, and who answered it."""

    conversation_id: str
    customer_id: str | None
    asked_at: datetime
    agent: str | None


def inquiries_of(rounds: Sequence[Round], rules: ResponseRules, now: datetime) -> list[Inquiry]:
    """One inquiry per conversation and local day inside the lookback."""
    since = now - timedelta(days=rules.lookback_days)
    return [Inquiry(r.conversation_id, r.customer_id, r.started_at, r.agent)
            for r in _first_of_day(rounds, rules) if since <= r.started_at <= now]


@dataclass(frozen=True)
class ConversionFigures:
    inquiries: int = 0
    converted: int = 0
    by_agent: dict[str, tuple[int, int]] = field(default_factory=dict)  # agent → (inquiries, converted)

    @property
    def rate(self) -> float | None:
        return self.converted / self.inquiries if self.inquiries else None


def conversion(inquiries: Sequence[Inquiry], orders_by_customer: Mapping[str, Sequence[datetime]],
               rules: ResponseRules) -> ConversionFigures:
    """Inquiries followed by an order of the same buyer within the window (asked_at ≤ ordered ≤ asked_at + window)."""
    window = timedelta(hours=rules.conversion_window_hours)
    converted = 0
    per_agent: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for inquiry in inquiries:
        times = orders_by_customer.get(inquiry.customer_id or "", ())
        hit = any(inquiry.asked_at <= t <= inquiry.asked_at + window for t in times)
        converted += hit
        if inquiry.agent:
            per_agent[inquiry.agent][0] += 1
            per_agent[inquiry.agent][1] += hit
    return ConversionFigures(len(inquiries), converted, {a: (n, c) for a, (n, c) in sorted(per_agent.items())})
