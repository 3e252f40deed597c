"""Courier scoreboard: how fast, reliable and cheap each carrier is per destination province, and which one to use.

Pure: the caller hands in per-parcel facts and the shop's rules (`kefu.config.shop_rules`); nothing here reads a
clock or a store. Hours run from the pickup scan to the signature, over delivered parcels only. p90 is the
nearest-rank 90th percentile (the smallest value with at least 90 % of parcels at or below it).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from kefu.domain.carriers import carrier_for
from kefu.domain.rules.watch import province_key
from kefu.domain.tracking import ParcelState

PRIORITIES = ("cheapest", "fastest", "most_reliable")
DEFAULT_MIN_SAMPLE = 20

# States that count as a delivery exception even when no alert was raised for the parcel.
EXCEPTION_STATES = frozenset({ParcelState.PROBLEM, ParcelState.REJECTED, ParcelState.RETURNING,
                              ParcelState.RETURN_SIGNED})


@dataclass(frozen=True)
class ParcelFact:
    """What the scoreboard needs to know about one parcel."""

    carrier: str | None  # carrier code (zhongtong) or name (中通快递)
    province: str | None  # destination province however written
    picked_up_at: datetime | None = None
    signed_at: datetime | None = None
    state: str | None = None  # a ParcelState value
    had_exception: bool = False  # an exception, rejection, return or stall was raised for it
    complaints: int = 0  # complaints linked to the parcel (courier conflicts for now)


@dataclass(frozen=True)
class CourierPolicy:
    """The shop's courier numbers: prices per parcel, province overrides and the minimum sample."""

    prices: Mapping[str, Decimal] = field(default_factory=dict)  # carrier code → yuan per parcel
    province_prices: Mapping[str, Mapping[str, Decimal]] = field(default_factory=dict)  # province → carrier → yuan
    min_sample: int = DEFAULT_MIN_SAMPLE

    def price(self, carrier: str, province: str | None) -> Decimal | None:
        """Yuan per parcel for the carrier to the province: the province's own price, else the carrier's, else None."""
        key = province_key(province)
        if key is not None and carrier in self.province_prices.get(key, {}):
            return self.province_prices[key][carrier]
        return self.prices.get(carrier)


@dataclass(frozen=True)
class CourierScore:
    """One carrier's figures to one province (province None in a carrier's all-province total)."""

    carrier: str
    province: str | None
    parcels: int
    delivered: int
    median_hours: float | None
    p90_hours: float | None
    exceptions: int
    complaints: int
    price: Decimal | None

    @property
    def exception_rate(self) -> float:
        return self.exceptions / self.parcels if self.parcels else 0.0

    @property
    def delivered_rate(self) -> float:
        return self.delivered / self.parcels if self.parcels else 0.0

    @property
    def complaint_rate(self) -> float:
        return self.complaints / self.parcels if self.parcels else 0.0


@dataclass(frozen=True)
class Scoreboard:
    """Every carrier × province row, each carrier's all-province total, and the policy they were scored with."""

    rows: list[CourierScore]
    totals: dict[str, CourierScore]
    policy: CourierPolicy

    @property
    def carriers(self) -> list[str]:
        return sorted(self.totals)

    @property
    def provinces(self) -> list[str]:
        return sorted({r.province for r in self.rows if r.province})

    def row(self, carrier: str, province: str | None) -> CourierScore | None:
        key = province_key(province)
        return next((r for r in self.rows if r.carrier == carrier and r.province == key), None)


@dataclass(frozen=True)
class Ranked:
    """One recommended carrier: its place, the figures it was judged on and why."""

    rank: int
    carrier: str
    score: CourierScore  # the figures used: the province's, or the carrier's all-province total on fallback
    price: Decimal | None  # the price to the asked province (a fallback still pays the province's price)
    basis: str  # "province" or "all_provinces"
    province_parcels: int  # parcels to the asked province, even when too few to judge on
    reason: str  # the priority the rank follows: cheapest | fastest | most_reliable


@dataclass(frozen=True)
class Recommendation:
    province: str | None
    priority: str
    min_sample: int
    ranked: list[Ranked]
    too_few: list[CourierScore]  # carriers left out: fewer parcels than min_sample even over all provinces

    @property
    def best(self) -> Ranked | None:
        return self.ranked[0] if self.ranked else None


def _money(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return amount if amount.is_finite() and amount >= 0 else None


def carrier_key(name: str | None) -> str | None:
    """kefu's carrier code for a code or name (中通快递 → zhongtong); an unknown name lower-cased; None when blank."""
    if not name or not name.strip():
        return None
    carrier = carrier_for(name)
    return carrier.code if carrier else name.strip().lower()


def _price_table(raw: Any) -> dict[str, Decimal]:
    table: dict[str, Decimal] = {}
    for name, value in (raw or {}).items() if isinstance(raw, Mapping) else ():
        code, price = carrier_key(str(name)), _money(value)
        if code and price is not None:
            table[code] = price
    return table


def courier_policy(rules: Mapping[str, Any]) -> CourierPolicy:
    """The courier policy from a shop's rules (`shop_rules(...)`); unreadable prices are left unknown."""
    provinces: dict[str, dict[str, Decimal]] = {}
    raw_provinces = rules.get("courier_province_prices") or {}
    for name, table in raw_provinces.items() if isinstance(raw_provinces, Mapping) else ():
        key = province_key(str(name))
        if key:
            provinces.setdefault(key, {}).update(_price_table(table))
    score = rules.get("courier_score") or {}
    try:
        min_sample = max(1, int(score.get("min_sample", DEFAULT_MIN_SAMPLE)))
    except (TypeError, ValueError):
        min_sample = DEFAULT_MIN_SAMPLE
    return CourierPolicy(prices=_price_table(rules.get("courier_prices")), province_prices=provinces,
                         min_sample=min_sample)


def median(values: list[float]) -> float | None:
    return float(statistics.median(values)) if values else None


def p90(values: list[float]) -> float | None:
    """Nearest-rank 90th percentile."""
    if not values:
        return None
    ordered = sorted(values)
    return float(ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)])


def _is_exception(fact: ParcelFact) -> bool:
    if fact.had_exception:
        return True
    try:
        return ParcelState(fact.state) in EXCEPTION_STATES if fact.state else False
    except ValueError:
        return False


def _transit_hours(fact: ParcelFact) -> float | None:
    if fact.state != ParcelState.SIGNED or fact.picked_up_at is None or fact.signed_at is None:
        return None
    hours = (fact.signed_at - fact.picked_up_at).total_seconds() / 3600
    return hours if hours >= 0 else None


def _score(carrier: str, province: str | None, facts: list[ParcelFact], price: Decimal | None) -> CourierScore:
    hours = [h for h in map(_transit_hours, facts) if h is not None]
    return CourierScore(
        carrier=carrier, province=province, parcels=len(facts),
        delivered=sum(1 for f in facts if f.state == ParcelState.SIGNED),
        median_hours=median(hours), p90_hours=p90(hours),
        exceptions=sum(1 for f in facts if _is_exception(f)),
        complaints=sum(max(0, f.complaints) for f in facts), price=price,
    )


def score(facts: Iterable[ParcelFact], policy: CourierPolicy) -> Scoreboard:
    """Figures per carrier × province (parcels without a carrier are left out; without a province: province None
    rows are not made, they count only in the carrier's total)."""
    by_cell: dict[tuple[str, str | None], list[ParcelFact]] = {}
    by_carrier: dict[str, list[ParcelFact]] = {}
    for fact in facts:
        carrier = carrier_key(fact.carrier)
        if carrier is None:
            continue
        province = province_key(fact.province)
        by_carrier.setdefault(carrier, []).append(fact)
        if province is not None:
            by_cell.setdefault((carrier, province), []).append(fact)
    rows = [_score(c, p, group, policy.price(c, p))
            for (c, p), group in sorted(by_cell.items(), key=lambda item: (item[0][0], item[0][1] or ""))]
    totals = {c: _score(c, None, group, policy.prices.get(c)) for c, group in sorted(by_carrier.items())}
    return Scoreboard(rows=rows, totals=totals, policy=policy)


_INF = float("inf")


def _sort_key(priority: str, item: Ranked) -> tuple:
    s = item.score
    median_h = s.median_hours if s.median_hours is not None else _INF
    p90_h = s.p90_hours if s.p90_hours is not None else _INF
    price = float(item.price) if item.price is not None else _INF
    if priority == "cheapest":
        return (price, s.exception_rate, median_h, item.carrier)
    if priority == "fastest":
        return (median_h, p90_h, s.exception_rate, price, item.carrier)
    return (s.exception_rate, s.complaint_rate, -s.delivered_rate, p90_h, price, item.carrier)


def recommend(board: Scoreboard, province: str | None, priority: str, *,
              min_sample: int | None = None) -> Recommendation:
    """The carriers ranked for a destination province by priority (cheapest | fastest | most_reliable).

    A carrier is judged on its parcels to the province when it has at least `min_sample` of them; otherwise on its
    all-province figures (basis "all_provinces"), and left out entirely when even those are too few. Without a
    province every carrier is judged on its all-province figures.
    """
    if priority not in PRIORITIES:
        raise ValueError(f"priority: one of {', '.join(PRIORITIES)}")
    minimum = max(1, min_sample if min_sample is not None else board.policy.min_sample)
    key = province_key(province)
    candidates: list[Ranked] = []
    too_few: list[CourierScore] = []
    for carrier, total in board.totals.items():
        cell = board.row(carrier, key) if key else None
        here = cell.parcels if cell else 0
        price = board.policy.price(carrier, key)
        if cell is not None and cell.parcels >= minimum:
            candidates.append(Ranked(0, carrier, cell, price, "province", here, priority))
        elif total.parcels >= minimum:
            candidates.append(Ranked(0, carrier, total, price, "all_provinces", here, priority))
        else:
            too_few.append(total)
    ordered = sorted(candidates, key=lambda item: _sort_key(priority, item))
    ranked = [Ranked(i + 1, r.carrier, r.score, r.price, r.basis, r.province_parcels, r.reason)
              for i, r in enumerate(ordered)]
    return Recommendation(province=key, priority=priority, min_sample=minimum, ranked=ranked, too_few=too_few)
