"""Surprise gifts that fit: who may get one, which catalogue items suit them, and why an item is refused.

The seeds' rules: nothing intimate or embarrassing as a surprise (a parcel is often opened at work or by family), fit
the buyer's known gender and the place where the parcel is opened, relate to what the shop sells, scale the cost with
what the customer is worth, and never surprise a customer who has an open complaint. Numbers come from configuration
(`SHOP_RULE_DEFAULTS["gifts"]`); every refusal carries a reason code with Chinese and English text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

SENSITIVITY = ("none", "personal", "intimate")  # personal: cosmetics, fragrance, underwear-adjacent; intimate: never


@dataclass(frozen=True)
class GiftItem:
    """A catalogue item kept for gifts, with who it suits and how sensitive it is to receive unasked."""

    key: str
    name: str
    cost: Decimal
    sensitivity: str = "none"
    suits_gender: str = "any"  # any | female | male
    categories: tuple[str, ...] = ()  # the shop categories it relates to
    in_stock: bool = True


@dataclass(frozen=True)
class GiftRecipient:
    """What the rules need to know about the customer."""

    value_tier: str | None  # top | middle | low | none
    paid_orders: int
    spend_last_year: Decimal
    gender: str | None = None  # female | male | None (unknown)
    open_complaint: bool = False
    address_kind: str = "unknown"  # home | office | school | unknown (where the parcel will be opened)
    categories_bought: tuple[str, ...] = ()
    gifts_last_year: int = 0


@dataclass(frozen=True)
class GiftRules:
    """From configuration."""

    tiers: tuple[str, ...]  # value tiers that may get a surprise at all
    min_paid_orders: int  # a repeat buyer: at least this many paid orders
    cost_share_of_spend: Decimal  # a gift costs at most this share of the customer's spend over the last year
    max_cost_by_tier: Mapping[str, Decimal]
    max_gifts_per_year: int
    must_relate_to_shop: bool = True

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> GiftRules:
        return cls(
            tiers=tuple(config["tiers"]),
            min_paid_orders=int(config["min_paid_orders"]),
            cost_share_of_spend=Decimal(str(config["cost_share_of_spend"])),
            max_cost_by_tier={k: Decimal(str(v)) for k, v in config["max_cost_by_tier"].items()},
            max_gifts_per_year=int(config["max_gifts_per_year"]),
            must_relate_to_shop=bool(config.get("must_relate_to_shop", True)),
        )


@dataclass(frozen=True)
class Reason:
    """Why something was refused or held."""

    code: str
    zh: str
    en: str


@dataclass(frozen=True)
class GiftCheck:
    """Whether an item may go to this customer as a surprise now, and every reason against."""

    item: GiftItem
    allowed: bool
    reasons: tuple[Reason, ...] = ()


@dataclass(frozen=True)
class GiftChoice:
    """The best fitting item (or None), the customer's budget, and what was refused with why."""

    item: GiftItem | None
    budget: Decimal
    held: tuple[Reason, ...] = ()  # reasons that stop any surprise for this customer now
    refused: tuple[GiftCheck, ...] = field(default_factory=tuple)


def gift_budget(recipient: GiftRecipient, rules: GiftRules) -> Decimal:
    """What a surprise may cost: a share of last year's spend, capped by the customer's tier."""
    cap = rules.max_cost_by_tier.get(recipient.value_tier or "none", Decimal("0"))
    return min(cap, (recipient.spend_last_year * rules.cost_share_of_spend).quantize(Decimal("0.01")))


def holds_on_customer(recipient: GiftRecipient, rules: GiftRules) -> tuple[Reason, ...]:
    """Reasons no surprise may go to this customer at the moment, whatever the item."""
    reasons = []
    if recipient.open_complaint:
        reasons.append(Reason("open_complaint", "客户有未结束的投诉，惊喜礼物先暂停",
                              "the customer has an open complaint; surprises wait until it is settled"))
    if (recipient.value_tier or "none") not in rules.tiers:
        reasons.append(Reason("tier", "客户价值层级不在惊喜礼物范围内", "the customer's value tier does not get surprises"))
    if recipient.paid_orders < rules.min_paid_orders:
        reasons.append(Reason("not_repeat", f"付款订单少于 {rules.min_paid_orders} 笔，还不是回头客",
                              f"fewer than {rules.min_paid_orders} paid orders: not yet a repeat buyer"))
    if recipient.gifts_last_year >= rules.max_gifts_per_year:
        reasons.append(Reason("gift_cap", "今年送过的礼物已达上限", "this year's gifts for the customer are used up"))
    return tuple(reasons)


def check_item(item: GiftItem, recipient: GiftRecipient, rules: GiftRules, shop_categories: Sequence[str],
               budget: Decimal) -> GiftCheck:
    """Every reason this item does not fit this customer as an unasked gift."""
    reasons = []
    if item.sensitivity not in SENSITIVITY or item.sensitivity == "intimate":
        reasons.append(Reason("intimate", "私密或令人尴尬的物品不能作为惊喜礼物",
                              "intimate or embarrassing items are never sent as a surprise"))
    elif item.sensitivity == "personal":
        if recipient.gender is None:
            reasons.append(Reason("personal_unknown", "贴身/个人护理类礼物需要确知客户情况，否则不送",
                                  "personal-care gifts need a customer we know well enough; not sent blind"))
        if recipient.address_kind != "home":
            reasons.append(Reason("opened_in_public", "包裹可能在单位或学校拆开，个人类物品不合适",
                                  "the parcel may be opened at work or school: no personal items"))
    if item.suits_gender != "any":
        if recipient.gender is None:
            reasons.append(Reason("gender_unknown", "礼物分性别，但不知道客户性别",
                                  "the gift is gendered and the customer's gender is unknown"))
        elif recipient.gender != item.suits_gender:
            reasons.append(Reason("gender_mismatch", "礼物不适合客户的性别", "the gift does not suit the customer's gender"))
    related = set(shop_categories) | set(recipient.categories_bought)
    if rules.must_relate_to_shop and item.categories and not (set(item.categories) & related):
        reasons.append(Reason("unrelated", "礼物和本店商品无关", "the gift has nothing to do with what the shop sells"))
    if item.cost > budget:
        reasons.append(Reason("over_budget", f"成本 {item.cost} 元超过该客户的礼物预算 {budget} 元",
                              f"costs {item.cost} yuan, over this customer's gift budget of {budget} yuan"))
    if not item.in_stock:
        reasons.append(Reason("out_of_stock", "礼物缺货", "the gift is out of stock"))
    return GiftCheck(item=item, allowed=not reasons, reasons=tuple(reasons))


def choose_gift(recipient: GiftRecipient, catalogue: Sequence[GiftItem], rules: GiftRules,
                shop_categories: Sequence[str]) -> GiftChoice:
    """The most valuable fitting item within budget, preferring items related to what the customer bought."""
    budget = gift_budget(recipient, rules)
    held = holds_on_customer(recipient, rules)
    checks = [check_item(item, recipient, rules, shop_categories, budget) for item in catalogue]
    if held:
        return GiftChoice(item=None, budget=budget, held=held, refused=tuple(c for c in checks if not c.allowed))
    bought = set(recipient.categories_bought)
    fitting = [c.item for c in checks if c.allowed]
    fitting.sort(key=lambda i: (bool(set(i.categories) & bought), i.cost, i.key), reverse=True)
    return GiftChoice(item=fitting[0] if fitting else None, budget=budget,
                      refused=tuple(c for c in checks if not c.allowed))
