"""Stock level figures: safety stock from sales velocity and lead time, days of cover, low/out status.

Safety stock (really the reorder point: the units to hold when a reorder is placed so the shelf does not run empty
before the supplier's goods arrive):

    safety = ceil(z · σ_daily · √L + mean_daily · L)

where `mean_daily` and `σ_daily` are the mean and the (population) standard deviation of units sold per day over the
last `velocity_days` days (days without a sale count as 0), `L` is the SKU's supplier lead time in days (its own
`lead_time_days`, else `default_lead_time_days`), and `z` is the service-level factor (1.65 ≈ 95 % of lead times
without a stockout). `mean_daily · L` covers the expected demand while waiting for the supplier; `z · σ_daily · √L`
covers the variation of that demand. A SKU that did not sell in the window gets `min_safety_stock`.
Every parameter comes from the shop's `stock` configuration (kefu.config.SHOP_RULE_DEFAULTS).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

OUT, LOW, OK, UNTRACKED = "out", "low", "ok", "untracked"


@dataclass(frozen=True)
class StockPolicy:
    """The shop's stock numbers, from configuration."""

    z: float
    velocity_days: int
    default_lead_time_days: int
    min_safety_stock: int
    sell_through_days: int
    best_seller_units: int  # sold at least this many units in velocity_days: a best seller (pre-sale switch)
    wait_ships_available_now: bool  # a buyer who waits gets the in-stock part now (split shipment)
    substitute_suggestions: int
    low_stock_alerts: bool
    alert_due_hours: float


def stock_policy(shop: Mapping[str, Any]) -> StockPolicy:
    """The policy from a shop's merged rules (`shop_rules(...)`)."""
    s = shop["stock"]
    return StockPolicy(
        z=float(s["safety_z"]), velocity_days=int(s["velocity_days"]),
        default_lead_time_days=int(s["default_lead_time_days"]), min_safety_stock=int(s["min_safety_stock"]),
        sell_through_days=int(s["sell_through_days"]), best_seller_units=int(s["best_seller_units"]),
        wait_ships_available_now=bool(s["wait_ships_available_now"]),
        substitute_suggestions=int(s["substitute_suggestions"]), low_stock_alerts=bool(s["low_stock_alerts"]),
        alert_due_hours=float(s["alert_due_hours"]),
    )


@dataclass(frozen=True)
class Velocity:
    """Units sold per day over a window."""

    days: int
    units: int
    mean: float
    sigma: float


def velocity(daily_units: Sequence[int], days: int) -> Velocity:
    """Mean and population standard deviation of units per day; `daily_units` lists only the days with sales (or
    all days), the missing days up to `days` count as zero."""
    if days <= 0:
        return Velocity(0, 0, 0.0, 0.0)
    values = list(daily_units)[:days]
    values += [0] * (days - len(values))
    total = sum(values)
    mean = total / days
    variance = sum((v - mean) ** 2 for v in values) / days
    return Velocity(days, total, mean, math.sqrt(variance))


def safety_stock(speed: Velocity, lead_time_days: int | None, policy: StockPolicy) -> int:
    """ceil(z·σ_daily·√L + mean_daily·L), at least `min_safety_stock` (see the module docstring)."""
    lead = lead_time_days if lead_time_days and lead_time_days > 0 else policy.default_lead_time_days
    value = policy.z * speed.sigma * math.sqrt(lead) + speed.mean * lead
    return max(policy.min_safety_stock, math.ceil(value - 1e-9))


def days_of_cover(available: int | None, speed: Velocity) -> float | None:
    """How many days the free stock lasts at the current pace; None when nothing sells (it lasts indefinitely)."""
    if available is None or speed.mean <= 0:
        return None
    return max(available, 0) / speed.mean


def level_status(stock: int | None, available: int | None, safety: int | None) -> str:
    """out when nothing is free for a new order, low at or under the safety stock, else ok; untracked without stock."""
    if stock is None or available is None:
        return UNTRACKED
    if available <= 0:
        return OUT
    if safety is not None and available <= safety:
        return LOW
    return OK


@dataclass(frozen=True)
class SellThrough:
    """动销率 over a period: the share of SKUs and of products that sold at least once, and of units that sold."""

    skus: int
    skus_sold: int
    products: int
    products_sold: int
    units_sold: int
    units_on_hand: int

    @property
    def sku_rate(self) -> float | None:
        return self.skus_sold / self.skus if self.skus else None

    @property
    def product_rate(self) -> float | None:
        return self.products_sold / self.products if self.products else None

    @property
    def unit_rate(self) -> float | None:
        """units sold / (units sold + units on hand)."""
        total = self.units_sold + self.units_on_hand
        return self.units_sold / total if total else None


def sell_through(sku_products: Mapping[str, str], units_sold: Mapping[str, int], on_hand: Mapping[str, int | None]
                 ) -> SellThrough:
    """From each SKU's product, its units sold in the period and its stock on hand now."""
    sold = {sku for sku, n in units_sold.items() if n > 0 and sku in sku_products}
    products = set(sku_products.values())
    return SellThrough(
        skus=len(sku_products), skus_sold=len(sold), products=len(products),
        products_sold=len({sku_products[s] for s in sold}),
        units_sold=sum(n for sku, n in units_sold.items() if sku in sku_products and n > 0),
        units_on_hand=sum(max(n or 0, 0) for sku, n in on_hand.items() if sku in sku_products),
    )
