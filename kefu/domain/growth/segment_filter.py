"""A saved segment's definition: which keys a seller may filter on, checked before it is stored or counted."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

LIST_KEYS = {
    "rfm_groups": "RFM 分组 / RFM groups",
    "value_tiers": "价值层级 / value tiers",
    "provinces": "省份 / provinces",
    "categories": "购买过的类目 / categories bought",
    "personality_types": "性格类型 / personality types",
    "cycle_stages": "回购阶段 / purchase-cycle stages",
    "tags": "标签 / tags",
}
NUMBER_KEYS = {"min_spent", "max_spent", "min_orders", "birthday_within_days"}
FLAG_KEYS = {"marketing_consent"}
CYCLE_STAGES = {"ahead", "due", "winback", "lost"}


@dataclass(frozen=True)
class SegmentDefinition:
    """A checked definition; empty lists and None mean "any"."""

    rfm_groups: tuple[str, ...] = ()
    value_tiers: tuple[str, ...] = ()
    provinces: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    personality_types: tuple[str, ...] = ()
    cycle_stages: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    min_spent: Decimal | None = None
    max_spent: Decimal | None = None
    min_orders: int | None = None
    birthday_within_days: int | None = None
    marketing_consent: bool | None = None

    def as_json(self) -> dict[str, Any]:
        """The stored form: only the keys that filter something."""
        out: dict[str, Any] = {}
        for key in LIST_KEYS:
            if getattr(self, key):
                out[key] = list(getattr(self, key))
        for key in NUMBER_KEYS | FLAG_KEYS:
            value = getattr(self, key)
            if value is not None:
                out[key] = str(value) if isinstance(value, Decimal) else value
        return out


class SegmentDefinitionError(ValueError):
    """A definition key or value that cannot be used, named."""


def parse_definition(raw: Mapping[str, Any]) -> SegmentDefinition:
    """Check every key and value; unknown keys and bad numbers raise with the key named."""
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if value in (None, "", [], ()):
            continue
        if key in LIST_KEYS:
            items = [value] if isinstance(value, str) else list(value)
            values[key] = tuple(str(v).strip() for v in items if str(v).strip())
        elif key in ("min_spent", "max_spent"):
            try:
                values[key] = Decimal(str(value))
            except InvalidOperation:
                raise SegmentDefinitionError(f"{key}: '{value}' is not an amount / 不是金额") from None
        elif key in ("min_orders", "birthday_within_days"):
            try:
                number = int(value)
            except (TypeError, ValueError):
                raise SegmentDefinitionError(f"{key}: '{value}' is not a whole number / 不是整数") from None
            if number < 0 or (key == "birthday_within_days" and number > 366):
                raise SegmentDefinitionError(f"{key}: {number} is out of range / 超出范围")
            values[key] = number
        elif key in FLAG_KEYS:
            values[key] = value if isinstance(value, bool) else str(value).lower() in {"1", "true", "yes", "on"}
        else:
            raise SegmentDefinitionError(f"unknown segment key '{key}' / 未知的筛选条件")
    bad = set(values.get("cycle_stages", ())) - CYCLE_STAGES
    if bad:
        raise SegmentDefinitionError(f"cycle_stages: unknown stage {sorted(bad)} / 未知阶段")
    return SegmentDefinition(**values)


def days_until_birthday(birthday_month: int, birthday_day: int, today_month: int, today_day: int,
                        today_year: int) -> int:
    """Days from today to the next birthday (0 on the day; 29 Feb counts as 28 Feb in other years)."""
    from datetime import date

    def on(year: int) -> date:
        day = birthday_day
        if birthday_month == 2 and birthday_day == 29:
            try:
                return date(year, 2, 29)
            except ValueError:
                day = 28
        return date(year, birthday_month, day)

    today = date(today_year, today_month, today_day)
    upcoming = on(today_year)
    if upcoming < today:
        upcoming = on(today_year + 1)
    return (upcoming - today).days
