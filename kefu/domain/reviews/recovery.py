"""Bad-review recovery: the five steps in order, what each needs before the next, and deadlines in the window."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

# The seeds' five steps: call and apologise; find the cause with the buyer; agree a remedy (never tied to the review);
# ask whether the buyer is satisfied, and only then, politely, about updating the review; record the cause.
STEPS: tuple[str, ...] = ("apologise", "find_cause", "remedy", "satisfaction", "record_cause")
DONE = "done"
CASE_RESULTS = ("neutral", "bad")  # ratings that open a case (a flagged good review may be opened by hand)


class StepRefused(ValueError):
    """A step that cannot be taken now; the message says why in Chinese and English."""


@dataclass(frozen=True)
class StepDeadline:
    step: str
    due_at: datetime


def window_end(review_created: datetime, modify_window_days: int) -> datetime:
    """The last moment the buyer can still change the review."""
    return review_created + timedelta(days=modify_window_days)


def step_deadlines(review_created: datetime, step_days: Mapping[str, float], modify_window_days: int) -> list[StepDeadline]:
    """Each step's due time: review time + its configured days, never past the modification window."""
    end = window_end(review_created, modify_window_days)
    return [StepDeadline(step, min(end, review_created + timedelta(days=float(step_days.get(step, modify_window_days)))))
            for step in STEPS]  # fmt: skip


def next_step(step: str) -> str:
    """The step after this one (DONE after the last)."""
    if step == DONE:
        return DONE
    position = STEPS.index(step)
    return STEPS[position + 1] if position + 1 < len(STEPS) else DONE


def check_can_complete(step: str, *, cause: str | None, remedy: str | None, buyer_satisfied: bool | None,
                       ask_update: bool) -> None:  # fmt: skip
    """Raise StepRefused when the step's facts are missing or out of order."""
    if step == DONE:
        raise StepRefused("案件已完成 / the case is already done")
    if step == "find_cause" and not cause:
        raise StepRefused("请先和买家一起找到原因 / choose the cause found with the buyer first")
    if step == "remedy" and not (remedy or "").strip():
        raise StepRefused("请写下与买家商定的补救方案 / write down the remedy agreed with the buyer")
    if step == "satisfaction":
        if buyer_satisfied is None:
            raise StepRefused("请先问买家是否满意 / ask whether the buyer is satisfied first")
        if ask_update and not buyer_satisfied:
            raise StepRefused("买家满意之后才能请对方考虑修改评价 / only a satisfied buyer may be asked about the review")
    if step == "record_cause" and not cause:
        raise StepRefused("请记录原因 / record the cause")


def days_left(deadline: datetime, now: datetime) -> int:
    """Whole days until the deadline (negative when past)."""
    seconds = (deadline - now).total_seconds()
    return int(seconds // 86400)
