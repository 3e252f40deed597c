"""Suggesting a substitute SKU for a missing one: the same product in another colour or size that is in stock."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class SkuOption:
    """A SKU of the product that could replace the missing one, with the units not promised to anyone."""

    sku_id: str
    product_id: str
    properties: str
    available: int


def property_values(properties: str | None) -> dict[str, str]:
    """`颜色分类：白色;尺码：XL` → {"颜色分类": "白色", "尺码": "XL"} (a value without a name is kept under "")."""
    values: dict[str, str] = {}
    for part in (properties or "").replace("；", ";").split(";"):
        name, colon, value = part.replace(":", "：").partition("：")
        if part.strip():
            values[name.strip() if colon else ""] = (value if colon else name).strip()
    return values


def describe(properties: str | None) -> str:
    """What a buyer reads: `白色 / XL`."""
    return " / ".join(v for v in property_values(properties).values() if v) or "默认款"


def _shared(a: dict[str, str], b: dict[str, str]) -> int:
    return sum(1 for name, value in a.items() if b.get(name) == value)


def suggest_substitutes(missing: SkuOption, candidates: Iterable[SkuOption], quantity: int, *,
                        limit: int = 3) -> tuple[SkuOption, ...]:
    """SKUs of the same product with at least `quantity` units free, closest first: those keeping the most of the
    missing SKU's properties (the same size in another colour before another size and colour), then the most stock."""
    wanted = property_values(missing.properties)
    fitting = [c for c in candidates
               if c.product_id == missing.product_id and c.sku_id != missing.sku_id and c.available >= quantity]
    fitting.sort(key=lambda c: (-_shared(wanted, property_values(c.properties)), -c.available, c.properties))
    return tuple(fitting[:limit])


def matching_hint(options: Iterable[SkuOption], hint: str | None) -> SkuOption | None:
    """The first option whose properties mention what the buyer asked for ("白色", "XL"); None when none does."""
    if not hint:
        return None
    folded = hint.upper()
    for option in options:
        values = [v.upper() for v in property_values(option.properties).values()]
        if folded in values or any(folded in v for v in values):
            return option
    return None
