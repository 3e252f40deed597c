"""Care visits (回访), pure: when each kind is due, and the talking points an agent opens with."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

KINDS = ("after_signing", "came_online", "birthday", "winback")
# What each kind of visit is, for the outbox: a check-in about an order is transactional; the rest need consent.
PURPOSE = {"after_signing": "transactional", "came_online": "service", "birthday": "marketing", "winback": "marketing"}
PERSONALITY_HINTS = {
    "dominant": "说重点、给结论，不绕弯子 / be brief and decisive",
    "expressive": "多夸奖、多倾听 / praise and listen",
    "amiable": "亲切耐心，帮他拿主意 / be warm, help them choose",
    "analytical": "给数据和细节，承诺要精确 / give data and precise commitments",
}


@dataclass(frozen=True)
class CareRules:
    """From configuration (`SHOP_RULE_DEFAULTS["care"]`)."""

    after_signing_days: int
    birthday_days_before: int
    online_min_paid_orders: int
    online_cooldown_days: int
    lookback_days: int  # signings older than this are not visited any more
    winback_min_paid_orders: int = 2
    winback_tiers: tuple[str, ...] = ("top", "middle")

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> CareRules:
        numbers = {name: int(config[name]) for name in cls.__dataclass_fields__
                   if name != "winback_tiers" and name in config}
        return cls(**numbers, winback_tiers=tuple(config.get("winback_tiers", ("top", "middle"))))


@dataclass(frozen=True)
class ProfileFacts:
    """What the talking points are made from."""

    nickname: str | None
    last_items: Sequence[str] = ()
    hobbies: str | None = None
    latest_note: str | None = None
    personality_type: str | None = None
    cycle_stage: str | None = None
    next_purchase_at: datetime | None = None
    days_to_birthday: int | None = None
    open_case: str | None = None  # the open complaint's summary
    value_tier: str | None = None


def talking_points(facts: ProfileFacts) -> list[str]:
    """Short openers, the most important first: an open complaint always leads."""
    points = []
    if facts.open_case:
        points.append(f"先跟进未结束的投诉：{facts.open_case} / settle the open complaint first")
    if facts.last_items:
        points.append(f"问问「{facts.last_items[0]}」用得怎么样 / ask how {facts.last_items[0]} works for them")
    if facts.days_to_birthday is not None and facts.days_to_birthday <= 14:
        when = "今天" if facts.days_to_birthday == 0 else f"{facts.days_to_birthday} 天后"
        points.append(f"{when}生日，送上祝福 / birthday {'today' if facts.days_to_birthday == 0 else 'soon'}")
    if facts.cycle_stage in ("due", "winback") and facts.next_purchase_at is not None:
        points.append(f"按回购周期该补货了（预计 {facts.next_purchase_at:%m-%d}） / due to buy again")
    if facts.hobbies:
        points.append(f"爱好：{facts.hobbies} / hobbies")
    if facts.latest_note:
        points.append(f"备注：{facts.latest_note[:60]} / note")
    if facts.personality_type in PERSONALITY_HINTS:
        points.append(PERSONALITY_HINTS[facts.personality_type])
    if facts.value_tier == "top":
        points.append("头部 20% 客户，优先照顾 / a top-20% customer")
    return points
