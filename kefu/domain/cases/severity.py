"""How severe a complaint is, and when to pick up the phone instead of typing."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from kefu.domain.cases.policy import CasePolicy
from kefu.domain.cases.steps import SEVERITIES

# Topics that put the buyer's safety or the shop's standing at stake.
SERIOUS_TOPICS = frozenset({"quality_problem", "logistics.damaged", "service.attitude"})


@dataclass(frozen=True)
class SeverityFacts:
    """What is known about a complaint when it is judged."""

    anger: float | None = None  # 0–1
    paid: Decimal | None = None
    source: str = "manual"  # a public review weighs more than a private message
    repeat: bool = False  # the buyer complained before
    topics: tuple[str, ...] = ()


def judge_severity(facts: SeverityFacts, policy: CasePolicy) -> str:
    """low / medium / high / critical: one level per reason found, starting at low."""
    level = 0
    anger = facts.anger or 0.0
    if anger >= policy.call_anger:
        level += 2
    elif anger >= policy.call_anger / 2:
        level += 1
    paid = facts.paid or Decimal("0")
    critical = policy.severity_amounts.get("critical")
    high = policy.severity_amounts.get("high")
    if critical is not None and paid >= critical:
        level += 2
    elif high is not None and paid >= high:
        level += 1
    if facts.source == "review":
        level += 1
    if facts.repeat:
        level += 1
    if SERIOUS_TOPICS & set(facts.topics):
        level += 1
    return SEVERITIES[min(level, len(SEVERITIES) - 1)]


@dataclass(frozen=True)
class CallAdvice:
    """Whether to phone the buyer, and why."""

    suggested: bool
    reasons: tuple[str, ...]


def call_advice(anger: float | None, severity: str | None, policy: CasePolicy) -> CallAdvice:
    """Suggest a call when anger is at the configured level or the case is at a configured severity."""
    reasons = []
    if anger is not None and anger >= policy.call_anger:
        reasons.append(f"anger {anger:.2f} ≥ {policy.call_anger:.2f}")
    if severity in policy.call_severities:
        reasons.append(f"severity {severity}")
    return CallAdvice(bool(reasons), tuple(reasons))
