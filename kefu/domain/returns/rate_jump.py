"""Return-rate jumps: a product whose return rate in the last period rose well above its own history.

Pure: the caller counts sold lines and returns per product and period (oldest first, the last one the period just
ended); the thresholds come from configuration (`returns.rate_jump`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kefu.config import SHOP_RULE_DEFAULTS


@dataclass(frozen=True)
class PeriodCount:
    """Sold lines and returns of one product in one period."""

    sold: int
    returned: int

    @property
    def rate(self) -> float:
        return self.returned / self.sold if self.sold else 0.0


@dataclass(frozen=True)
class JumpSettings:
    period_days: int
    history_periods: int
    min_sold: int
    min_returns: int
    ratio: float
    min_increase: float

    @classmethod
    def from_rules(cls, rules: Mapping[str, Any] | None) -> JumpSettings:
        merged = {**SHOP_RULE_DEFAULTS["returns"]["rate_jump"], **(((rules or {}).get("returns") or {}).get("rate_jump") or {})}
        try:
            settings = cls(int(merged["period_days"]), int(merged["history_periods"]), int(merged["min_sold"]),
                           int(merged["min_returns"]), float(merged["ratio"]), float(merged["min_increase"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"returns.rate_jump: numbers expected ({exc})") from exc
        if settings.period_days < 1 or settings.history_periods < 1:
            raise ValueError("returns.rate_jump: period_days and history_periods must be at least 1")
        return settings


@dataclass(frozen=True)
class RateJump:
    """A product whose last-period return rate jumped: the figures and the rule text that raised it."""

    product_key: str
    current: PeriodCount
    baseline_rate: float
    baseline_sold: int
    baseline_returned: int
    rule: str

    @property
    def current_rate(self) -> float:
        return self.current.rate


def rate_jump(product_key: str, periods: Sequence[PeriodCount], settings: JumpSettings) -> RateJump | None:
    """The jump of one product, or None. The baseline pools the earlier periods (sold-weighted), so one tiny month
    cannot make a jump by itself; a product with no history uses a zero baseline only when it sold enough before."""
    if not periods:
        return None
    current = periods[-1]
    history = periods[-1 - settings.history_periods:-1]
    if current.sold < settings.min_sold or current.returned < settings.min_returns:
        return None
    sold = sum(p.sold for p in history)
    returned = sum(p.returned for p in history)
    if sold < settings.min_sold:
        return None  # not enough history to call anything a jump
    baseline = returned / sold
    increase = current.rate - baseline
    if increase < settings.min_increase:
        return None
    if baseline > 0 and current.rate < baseline * settings.ratio:
        return None
    text = (f"退货率跳升: {current.rate:.0%} vs 此前 {baseline:.0%} "
            f"(规则 ratio={settings.ratio:g}, min_increase={settings.min_increase:g}, min_returns={settings.min_returns})")
    return RateJump(product_key, current, baseline, sold, returned, text[:200])


def rate_jumps(counts: Mapping[str, Sequence[PeriodCount]], settings: JumpSettings) -> list[RateJump]:
    """Every product's jump, biggest rise first."""
    found = [jump for key, periods in counts.items() if (jump := rate_jump(key, periods, settings)) is not None]
    return sorted(found, key=lambda j: (-(j.current_rate - j.baseline_rate), j.product_key))
