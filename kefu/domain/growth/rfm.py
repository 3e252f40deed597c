"""RFM scoring: recency, frequency and money scored 1–5 within a shop, and the named group each customer falls in.

Recency and frequency are scored on fixed thresholds (days since the last paid order; paid orders), because most
customers of a small shop have one order and quantiles of such a column are meaningless. Money is scored by the
customer's rank among the shop's paying customers (quintiles), so it adapts to the shop's prices. Every threshold and
the group table come from configuration (`SHOP_RULE_DEFAULTS["segments"]`).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any


@dataclass(frozen=True)
class BuyerFigures:
    """What RFM needs of one customer."""

    customer_id: str
    last_paid_at: datetime | None
    paid_orders: int
    spend: Decimal


@dataclass(frozen=True)
class GroupRule:
    """A named group: the first rule whose score ranges all hold wins."""

    name: str
    recency: tuple[int, int] = (1, 5)
    frequency: tuple[int, int] = (1, 5)
    money: tuple[int, int] = (1, 5)

    def holds(self, r: int, f: int, m: int) -> bool:
        return (self.recency[0] <= r <= self.recency[1] and self.frequency[0] <= f <= self.frequency[1]
                and self.money[0] <= m <= self.money[1])


@dataclass(frozen=True)
class RfmRules:
    """Thresholds and groups, read from configuration."""

    recency_days: tuple[int, ...]  # ascending upper bounds in days for scores 5, 4, 3, 2 (older: 1)
    frequency_orders: tuple[int, ...]  # ascending lower bounds in paid orders for scores 2, 3, 4, 5
    groups: tuple[GroupRule, ...]
    fallback_group: str = "others"
    no_purchase_group: str = "prospects"

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> RfmRules:
        groups = tuple(
            GroupRule(name=g["name"], recency=tuple(g.get("r", (1, 5))), frequency=tuple(g.get("f", (1, 5))),
                      money=tuple(g.get("m", (1, 5))))
            for g in config["groups"]
        )
        recency = tuple(int(d) for d in config["recency_days"])
        frequency = tuple(int(n) for n in config["frequency_orders"])
        if len(recency) != 4 or list(recency) != sorted(recency):
            raise ValueError("segments.recency_days needs four ascending day counts (scores 5, 4, 3, 2)")
        if len(frequency) != 4 or list(frequency) != sorted(frequency):
            raise ValueError("segments.frequency_orders needs four ascending order counts (scores 2, 3, 4, 5)")
        return cls(recency_days=recency, frequency_orders=frequency, groups=groups,
                   fallback_group=config.get("fallback_group", "others"),
                   no_purchase_group=config.get("no_purchase_group", "prospects"))


@dataclass(frozen=True)
class RfmScore:
    """One customer's scores (0 for all three when nothing was ever paid) and group."""

    customer_id: str
    recency: int
    frequency: int
    money: int
    group: str

    @property
    def code(self) -> str:
        """The classic three-digit code, e.g. "545"."""
        return f"{self.recency}{self.frequency}{self.money}"


def recency_score(days_since: float, thresholds: Sequence[int]) -> int:
    """5 when the last paid order is within the first threshold, 1 when older than the last."""
    return 5 - bisect_left(list(thresholds), days_since) if days_since > 0 else 5


def frequency_score(paid_orders: int, thresholds: Sequence[int]) -> int:
    """1 below the first threshold, 5 at or above the last."""
    return 1 + bisect_right(list(thresholds), paid_orders)


def money_scores(spends: Sequence[Decimal]) -> list[int]:
    """Quintile scores 1–5 by rank among the given spends (equal spends share a score; one customer scores 3)."""
    count = len(spends)
    if count == 0:
        return []
    if count == 1:
        return [3]
    ordered = sorted(spends)
    scores = []
    for spend in spends:
        # Mid-rank of the spend among equals, from 0 (least) to 1 (most).
        low, high = bisect_left(ordered, spend), bisect_right(ordered, spend)
        share = ((low + high - 1) / 2) / (count - 1)
        scores.append(min(5, int(share * 5) + 1))
    return scores


def score_customers(figures: Sequence[BuyerFigures], rules: RfmRules, now: datetime) -> list[RfmScore]:
    """Score every customer of one shop; customers who never paid get 000 and the no-purchase group."""
    paying = [f for f in figures if f.paid_orders > 0 and f.last_paid_at is not None]
    money = dict(zip((f.customer_id for f in paying), money_scores([f.spend for f in paying])))
    scored = []
    for f in figures:
        if f.customer_id not in money:
            scored.append(RfmScore(f.customer_id, 0, 0, 0, rules.no_purchase_group))
            continue
        days = (now - f.last_paid_at).total_seconds() / 86400
        r = recency_score(days, rules.recency_days)
        fr = frequency_score(f.paid_orders, rules.frequency_orders)
        m = money[f.customer_id]
        group = next((g.name for g in rules.groups if g.holds(r, fr, m)), rules.fallback_group)
        scored.append(RfmScore(f.customer_id, r, fr, m, group))
    return scored
