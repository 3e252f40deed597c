"""The returns policy of one shop and product category, read from configuration (`SHOP_RULE_DEFAULTS["returns"]`).

A category's own numbers (`returns.categories[<category>]`) replace the shop's; a category key also matches a longer
category path ("上衣" matches "女装/上衣"), the longest key winning. Pure: the caller passes the merged shop rules.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from kefu.config import SHOP_RULE_DEFAULTS

EXEMPTIONS = ("made_to_order", "perishable", "digital", "newspaper", "periodical", "buyer_confirmed")
CONDITIONS = ("as_new", "tried_on", "light_wear", "damaged")


class PolicyError(ValueError):
    """A returns setting that cannot be used, named by its key."""


@dataclass(frozen=True)
class ReturnsPolicy:
    """Every number and table the engine needs for one category of one shop."""

    category: str | None
    category_key: str | None  # the configured category that matched, if any
    timezone: str
    no_reason_days: int
    refund_due_days: int
    refund_warning_days: int
    free_shipping: bool
    freight_insurance: bool
    exchange_first: bool
    high_value_tiers: tuple[str, ...]
    goodwill_enabled: bool
    goodwill_extra_days: int
    goodwill_high_value_extra_days: int
    goodwill_require_resellable: bool
    depreciation: Mapping[str, Decimal]
    depreciation_min_fee: Decimal
    checklist_name: str
    checklist: tuple[str, ...]
    exempt_keywords: Mapping[str, str]
    exempt_categories: Mapping[str, str]
    category_exemption: str | None  # the category's own "exempt" setting


def _normal(text: str | None) -> str:
    return "".join(unicodedata.normalize("NFKC", text or "").split())


def _matching_key(keys: list[str], category: str | None) -> str | None:
    name = _normal(category)
    if not name:
        return None
    if category in keys:
        return category
    hits = [key for key in keys if _normal(key) and _normal(key) in name]
    return max(hits, key=lambda k: len(_normal(k))) if hits else None


def _int(section: Mapping[str, Any], key: str, *, minimum: int = 0) -> int:
    value = section.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < minimum:
        raise PolicyError(f"returns.{key}: a whole number ≥ {minimum} expected, got {value!r}")
    return int(value)


def _decimal(value: Any, key: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise PolicyError(f"returns.{key}: a number expected, got {value!r}")
    try:
        number = Decimal(str(value))
    except ArithmeticError as exc:
        raise PolicyError(f"returns.{key}: a number expected, got {value!r}") from exc
    if number < 0:
        raise PolicyError(f"returns.{key}: must not be negative, got {value!r}")
    return number


def policy_for(rules: Mapping[str, Any] | None, category: str | None) -> ReturnsPolicy:
    """The returns policy for a product of `category` under the shop's merged rules (`shop_rules(settings)`)."""
    rules = rules or SHOP_RULE_DEFAULTS
    base: dict[str, Any] = dict(SHOP_RULE_DEFAULTS["returns"])
    base.update(rules.get("returns") or {})
    categories = base.get("categories") or {}
    key = _matching_key(list(categories), category)
    section = {**base, **(categories.get(key) or {})} if key else base
    goodwill = {**SHOP_RULE_DEFAULTS["returns"]["goodwill"], **(section.get("goodwill") or {})}
    checklists = section.get("checklists") or {}
    checklist_name = str(section.get("checklist") or "default")
    checklist = tuple(checklists.get(checklist_name) or checklists.get("default") or ())
    fees = {name: _decimal(rate, f"depreciation.{name}") for name, rate in (section.get("depreciation") or {}).items()}
    exemption = section.get("exempt")
    if exemption is not None and exemption not in EXEMPTIONS:
        raise PolicyError(f"returns.categories.{key}.exempt: one of {', '.join(EXEMPTIONS)}, got {exemption!r}")
    return ReturnsPolicy(
        category=category,
        category_key=key,
        timezone=str(rules.get("timezone") or "Asia/Shanghai"),
        no_reason_days=_int(section, "no_reason_days", minimum=7),  # the law's 7 days is a floor
        refund_due_days=_int(section, "refund_due_days", minimum=1),
        refund_warning_days=_int(section, "refund_warning_days"),
        free_shipping=bool(section.get("free_shipping")),
        freight_insurance=bool(section.get("freight_insurance")),
        exchange_first=bool(section.get("exchange_first")),
        high_value_tiers=tuple(section.get("high_value_tiers") or ()),
        goodwill_enabled=bool(goodwill.get("enabled")),
        goodwill_extra_days=_int(goodwill, "extra_days"),
        goodwill_high_value_extra_days=_int(goodwill, "high_value_extra_days"),
        goodwill_require_resellable=bool(goodwill.get("require_resellable", True)),
        depreciation=fees,
        depreciation_min_fee=_decimal(section.get("depreciation_min_fee", 0), "depreciation_min_fee"),
        checklist_name=checklist_name,
        checklist=checklist,
        exempt_keywords=dict(section.get("exempt_keywords") or {}),
        exempt_categories=dict(section.get("exempt_categories") or {}),
        category_exemption=exemption,
    )


def exemption_for(policy: ReturnsPolicy, *, title: str | None, product_exempt: str | None,
                  buyer_confirmed: bool) -> tuple[str, str] | None:
    """The legal exemption from no-reason returns that applies, with what made it: (code, source) or None.

    Sources: "product" (the product's own attribute), "category", "keyword:<word>" (a title keyword), "buyer" (the
    buyer confirmed at purchase that the item is not returnable).
    """
    if product_exempt:
        return product_exempt, "product"
    if policy.category_exemption:
        return policy.category_exemption, "category"
    key = _matching_key(list(policy.exempt_categories), policy.category)
    if key:
        return policy.exempt_categories[key], "category"
    name = _normal(title)
    for word, code in policy.exempt_keywords.items():
        if _normal(word) and _normal(word) in name:
            return code, f"keyword:{word}"
    if buyer_confirmed:
        return "buyer_confirmed", "buyer"
    return None
