"""SLA clocks of a case: time spent in each step, not counting time waiting on the buyer, against the step's limit.

A case's history is a list of `ClockEvent`s: `step` (the case entered a step; opening enters `confirm`), `wait_buyer`
(the clock stops), `resume` (it runs again; entering a new step also resumes). Given the history and `now`, `clocks`
says for every step how long it ran, how long is left and whether it is ok, due soon, breached, paused or done.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from kefu.domain.cases.policy import CasePolicy
from kefu.domain.cases.steps import CLOSED, WORKING_STEPS

STEP, WAIT_BUYER, RESUME = "step", "wait_buyer", "resume"
OK, DUE_SOON, BREACHED, PAUSED, DONE, NOT_STARTED = "ok", "due_soon", "breached", "paused", "done", "not_started"
# Worst first: the state a list shows for the case.
STATE_ORDER = (BREACHED, DUE_SOON, OK, PAUSED, DONE, NOT_STARTED)


@dataclass(frozen=True)
class ClockEvent:
    """One clock-relevant event of a case's history."""

    at: datetime
    kind: str  # step | wait_buyer | resume (other kinds are ignored)
    step: str | None = None


@dataclass(frozen=True)
class StepClock:
    """One step's clock: time used (pauses excluded), its limit, time left (negative once breached)."""

    step: str
    state: str
    used: timedelta
    limit: timedelta
    paused_for: timedelta

    @property
    def remaining(self) -> timedelta:
        return self.limit - self.used

    @property
    def breached(self) -> bool:
        return self.used > self.limit


@dataclass(frozen=True)
class CaseClock:
    """All step clocks of a case and the one that counts now."""

    steps: tuple[StepClock, ...]
    current: StepClock | None  # None once closed

    @property
    def state(self) -> str:
        """The case's SLA state for lists: the current step's, or breached if any finished step overran."""
        if self.current is not None:
            return self.current.state
        return BREACHED if any(c.breached for c in self.steps) else DONE

    @property
    def ever_breached(self) -> bool:
        return any(c.breached for c in self.steps)


def clocks(history: Iterable[ClockEvent], now: datetime, policy: CasePolicy) -> CaseClock:
    """Every step's clock from the case's history at `now` (events after `now` are ignored)."""
    used = {step: timedelta(0) for step in WORKING_STEPS}
    paused = {step: timedelta(0) for step in WORKING_STEPS}
    started: set[str] = set()
    step: str | None = None
    waiting = False
    mark: datetime | None = None

    def advance(to: datetime) -> None:
        if step in used and mark is not None and to > mark:
            (paused if waiting else used)[step] += to - mark

    for event in sorted((e for e in history if e.at <= now), key=lambda e: e.at):
        if event.kind == STEP and event.step:
            advance(event.at)
            step, waiting, mark = event.step, False, event.at
            if step in used:
                started.add(step)
        elif event.kind == WAIT_BUYER and not waiting:
            advance(event.at)
            waiting, mark = True, event.at
        elif event.kind == RESUME and waiting:
            advance(event.at)
            waiting, mark = False, event.at
    advance(now)

    result = []
    current = None
    for name in WORKING_STEPS:
        limit = timedelta(hours=policy.sla_hours.get(name, 0))
        clock_used = used[name]
        if name not in started:
            state = NOT_STARTED
        elif name != step:
            state = DONE
        elif clock_used > limit:
            state = BREACHED
        elif waiting:
            state = PAUSED
        elif limit - clock_used < limit * policy.sla_warning_share:
            state = DUE_SOON
        else:
            state = OK
        clock = StepClock(name, state, clock_used, limit, paused[name])
        result.append(clock)
        if name == step and step != CLOSED:
            current = clock
    return CaseClock(tuple(result), current)


def due_at(clock: StepClock, now: datetime) -> datetime | None:
    """When the running step breaches if nothing pauses it (None while paused or when done)."""
    if clock.state in (OK, DUE_SOON, BREACHED):
        return now + clock.remaining
    return None
