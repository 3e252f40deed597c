"""A customer's purchase cycle and predicted next purchase ("potential needs"), and who is due for a win-back."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from statistics import median
from typing import Any


@dataclass(frozen=True)
class CycleRules:
    """From configuration (`SHOP_RULE_DEFAULTS["segments"]["cycle"]`)."""

    min_gaps_for_own_cycle: int  # a customer's own rhythm is trusted from this many gaps between paid orders
    shop_cycle_days: float  # used when neither the customer nor the shop has enough history
    winback_after_cycles: float  # overdue by this many cycles: a win-back candidate
    lost_after_cycles: float  # overdue beyond this: lost, not worth a message

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> CycleRules:
        return cls(
            min_gaps_for_own_cycle=int(config["min_gaps_for_own_cycle"]),
            shop_cycle_days=float(config["shop_cycle_days"]),
            winback_after_cycles=float(config["winback_after_cycles"]),
            lost_after_cycles=float(config["lost_after_cycles"]),
        )


@dataclass(frozen=True)
class PurchaseCycle:
    """The rhythm behind a prediction: `basis` says whose rhythm it is ("own", "blended" or "shop")."""

    cycle_days: float
    basis: str
    last_paid_at: datetime
    next_purchase_at: datetime
    overdue_days: float  # ≤ 0 while the next purchase is still ahead
    stage: str  # "ahead" | "due" | "winback" | "lost"


def gaps_in_days(paid_times: Sequence[datetime]) -> list[float]:
    """Days between consecutive paid orders (same-day repeats within an hour count as one order)."""
    ordered = sorted(paid_times)
    gaps = []
    for earlier, later in zip(ordered, ordered[1:]):
        seconds = (later - earlier).total_seconds()
        if seconds >= 3600:
            gaps.append(seconds / 86400)
    return gaps


def shop_cycle_days(all_gaps: Sequence[float], rules: CycleRules) -> float:
    """The shop's typical gap between repeat orders: the median of every repeat gap, else the configured figure."""
    return round(median(all_gaps), 1) if len(all_gaps) >= 20 else rules.shop_cycle_days


def purchase_cycle(paid_times: Sequence[datetime], shop_cycle: float, rules: CycleRules,
                   now: datetime) -> PurchaseCycle | None:
    """Predict the next purchase from the customer's own gaps, blended with the shop's while they are few."""
    if not paid_times:
        return None
    gaps = gaps_in_days(paid_times)
    if len(gaps) >= rules.min_gaps_for_own_cycle:
        cycle, basis = median(gaps), "own"
    elif gaps:
        weight = len(gaps) / rules.min_gaps_for_own_cycle
        cycle, basis = weight * median(gaps) + (1 - weight) * shop_cycle, "blended"
    else:
        cycle, basis = shop_cycle, "shop"
    cycle = max(cycle, 1.0)
    last = max(paid_times)
    next_at = last + timedelta(days=cycle)
    overdue = (now - next_at).total_seconds() / 86400
    cycles_over = overdue / cycle
    if overdue <= 0:
        stage = "ahead"
    elif cycles_over > rules.lost_after_cycles:
        stage = "lost"
    elif cycles_over >= rules.winback_after_cycles:
        stage = "winback"
    else:
        stage = "due"
    return PurchaseCycle(cycle_days=round(cycle, 1), basis=basis, last_paid_at=last, next_purchase_at=next_at,
                         overdue_days=round(overdue, 1), stage=stage)
