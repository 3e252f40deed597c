"""The five steps of a complaint case and which moves between them are allowed."""

from __future__ import annotations

CONFIRM, ANALYSE, NEGOTIATE, EXECUTE, FOLLOW_UP, CLOSED = (
    "confirm", "analyse", "negotiate", "execute", "follow_up", "closed")
WORKING_STEPS = (CONFIRM, ANALYSE, NEGOTIATE, EXECUTE, FOLLOW_UP)
STEPS = WORKING_STEPS + (CLOSED,)
SOURCES = ("message", "review", "alert", "manual")
SEVERITIES = ("low", "medium", "high", "critical")


class StepError(ValueError):
    """A move the case's steps do not allow."""


def next_step(step: str) -> str:
    """The step after this one (follow-up closes the case)."""
    if step not in STEPS:
        raise StepError(f"unknown step {step!r}; steps are {list(STEPS)}")
    if step == CLOSED:
        raise StepError("the case is closed / 工单已关闭")
    return STEPS[STEPS.index(step) + 1]


def check_move(current: str, target: str) -> None:
    """A case moves one step forward, back to any earlier working step (the buyer changed their mind), or is closed
    early from any step; anything else raises StepError naming both steps."""
    if target not in STEPS:
        raise StepError(f"unknown step {target!r}; steps are {list(STEPS)}")
    if current == CLOSED:
        raise StepError("the case is closed / 工单已关闭")
    if target == CLOSED or target == next_step(current):
        return
    if STEPS.index(target) < STEPS.index(current):
        return
    raise StepError(f"cannot move from {current} to {target} / 不能从{current}跳到{target}")


def step_number(step: str) -> int:
    """1–5 for the working steps, 6 for closed."""
    return STEPS.index(step) + 1
