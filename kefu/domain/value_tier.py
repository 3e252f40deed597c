"""Pure 80/20 value tiers: rank customers by spend, cut the ranking into top / middle / low, and the Pareto view."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

TOP = "top"
MIDDLE = "middle"
LOW = "low"
NONE = "none"
TIERS = (TOP, MIDDLE, LOW, NONE)

# Shares are held as integer parts per million so SQL and Python cut the ranking at exactly the same place.
PPM = 1_000_000
DEFAULT_SHARES = {"top": 0.20, "middle": 0.30}


@dataclass(frozen=True)
class TierShares:
    """Share of spending customers in the top and middle tiers, in parts per million."""

    top_ppm: int
    middle_ppm: int

    @property
    def upper_ppm(self) -> int:
        """Top and middle together."""
        return self.top_ppm + self.middle_ppm


@dataclass(frozen=True)
class TierCutoffs:
    """How many spending customers (by rank) are top, and how many are top or middle."""

    top: int
    upper: int


@dataclass(frozen=True)
class ParetoView:
    """The 80/20 view: how much of the revenue the top tier brings."""

    customers_with_spend: int
    top_count: int
    top_revenue: Decimal
    total_revenue: Decimal

    @property
    def top_revenue_share(self) -> float:
        """Top tier's share of revenue, 0.0–1.0 (0.0 when there is no revenue)."""
        if self.total_revenue <= 0:
            return 0.0
        return float(self.top_revenue / self.total_revenue)


def _share_ppm(value: Any, field: str) -> int:
    try:
        share = Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise ValueError(f"value_tiers.{field}: not a number: {value!r}") from exc
    if not share.is_finite() or share < 0 or share > 1:
        raise ValueError(f"value_tiers.{field}: must be between 0 and 1, got {value!r}")
    return int((share * PPM).to_integral_value())


def tier_shares(rules: Mapping[str, Any] | None = None) -> TierShares:
    """The shares from a shop's `value_tiers` rule ({"top": 0.2, "middle": 0.3}); ValueError naming a bad key."""
    merged = {**DEFAULT_SHARES, **(rules or {})}
    top = _share_ppm(merged["top"], "top")
    middle = _share_ppm(merged["middle"], "middle")
    if top + middle > PPM:
        raise ValueError("value_tiers: top + middle must not exceed 1")
    return TierShares(top, middle)


def _ceil_share(count: int, ppm: int) -> int:
    return -(-count * ppm // PPM)


def tier_cutoffs(customers_with_spend: int, shares: TierShares) -> TierCutoffs:
    """Rank cut-offs: the first ceil(n × top) spenders are top, up to ceil(n × (top + middle)) are middle."""
    return TierCutoffs(
        top=_ceil_share(customers_with_spend, shares.top_ppm),
        upper=_ceil_share(customers_with_spend, shares.upper_ppm),
    )


@dataclass(frozen=True)
class TierFloors:
    """The least spend that still reaches the top and the middle tier (None when the tier is empty)."""

    top: Decimal | None
    middle: Decimal | None


def tier_floors(spends: Iterable[Decimal], shares: TierShares) -> TierFloors:
    """Spend floors: the spend of the last customer inside ceil(n × top) and ceil(n × (top + middle)) of the n spenders."""
    ranked = sorted((spend for spend in spends if spend > 0), reverse=True)
    cutoffs = tier_cutoffs(len(ranked), shares)
    return TierFloors(
        top=ranked[cutoffs.top - 1] if cutoffs.top else None,
        middle=ranked[cutoffs.upper - 1] if cutoffs.upper else None,
    )


def tier_for_spend(spend: Decimal, floors: TierFloors) -> str:
    """A customer's tier: customers spending the same always share a tier, so a tie at a cut-off goes up together."""
    if spend <= 0:
        return NONE
    if floors.top is not None and spend >= floors.top:
        return TOP
    if floors.middle is not None and spend >= floors.middle:
        return MIDDLE
    return LOW


def assign_tiers(spend_by_customer: Mapping[str, Decimal], shares: TierShares | None = None) -> dict[str, str]:
    """Each customer's tier (top / middle / low / none) from everyone's spend."""
    floors = tier_floors(spend_by_customer.values(), shares or tier_shares())
    return {customer: tier_for_spend(spend, floors) for customer, spend in spend_by_customer.items()}


def pareto_view(spend_by_customer: Mapping[str, Decimal], shares: TierShares | None = None) -> ParetoView:
    """What share of revenue the top tier brings, computed from everyone's spend."""
    floors = tier_floors(spend_by_customer.values(), shares or tier_shares())
    spenders = [spend for spend in spend_by_customer.values() if spend > 0]
    top = [spend for spend in spenders if tier_for_spend(spend, floors) == TOP]
    return ParetoView(
        customers_with_spend=len(spenders),
        top_count=len(top),
        top_revenue=sum(top, Decimal("0")),
        total_revenue=sum(spenders, Decimal("0")),
    )
