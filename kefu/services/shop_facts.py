"""What the shop can keep, from its knowledge base, as the promise guard's `ShopFacts`: `load_shop_facts(session, shop_id)`.

The shipping entry gives the cut-off time, ship-promise hours, same-day shipping, couriers, free shipping and its
excluded (remote) provinces, cash on delivery and invoices; promotion entries give the gifts on offer. A fact the
knowledge base does not record is left to the guard's default (which is the cautious one).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import time
from typing import Any

from sqlalchemy.orm import Session

from kefu.config import shop_rules
from kefu.domain.desk.knowledge import Knowledge, as_bool, as_list
from kefu.services.knowledge import knowledge_of
from kefu.store.tables import Shop


@dataclass(frozen=True)
class DeskShopFacts:
    """The same facts when the promise guard module is not installed (the desk still shows them)."""

    ship_cutoff: time | None = None
    ship_promise_hours: int | None = None
    same_day_shipping: bool | None = None
    free_shipping: bool | None = None
    free_shipping_excluded_provinces: tuple[str, ...] = ()
    cash_on_delivery: bool | None = None
    invoices: bool | None = None
    gifts: tuple[str, ...] = ()
    couriers: tuple[str, ...] = ()
    ships_on_weekends: bool | None = None
    backed_guarantees: tuple[str, ...] = ()
    timezone: str | None = None


# Our value for each fact under the names a ShopFacts may use for it.
_ALIASES: dict[str, tuple[str, ...]] = {
    "ship_cutoff": ("ship_cutoff", "cutoff", "ship_cutoff_time", "cutoff_time", "ship_cut_off"),
    "ship_promise_hours": ("ship_promise_hours", "promise_hours", "ship_within_hours"),
    "same_day_shipping": ("same_day_shipping", "same_day", "ships_same_day"),
    "free_shipping": ("free_shipping", "free_shipping_offered"),
    "free_shipping_excluded_provinces": ("free_shipping_excluded_provinces", "excluded_provinces", "remote_provinces",
                                         "free_shipping_excluded", "no_free_shipping_provinces"),
    "cash_on_delivery": ("cash_on_delivery", "cod", "supports_cod"),
    "invoices": ("invoices", "invoice", "issues_invoices", "invoice_available"),
    "gifts": ("gifts", "gifts_on_offer", "gift_items"),
    "couriers": ("couriers", "carriers", "courier_list"),
    "ships_on_weekends": ("ships_on_weekends",),
    "backed_guarantees": ("backed_guarantees", "guarantees"),
    "timezone": ("timezone",),
}


def desk_facts(knowledge: Knowledge, timezone: str | None = None) -> DeskShopFacts:
    """The guard's facts from the shop's knowledge (pure)."""
    policy = knowledge.shipping
    gifts: list[str] = []
    for entry in knowledge.of_kind("promotion"):
        gifts.extend(as_list(entry.data.get("gift")))
    guarantees: list[str] = []
    for entry in knowledge.of_kind("brand"):
        guarantees.extend(as_list(entry.data.get("guarantees")))
    weekends = next((as_bool(e.data.get("ships_on_weekends")) for e in knowledge.of_kind("shipping")
                     if e.data.get("ships_on_weekends")), None)
    return DeskShopFacts(
        ship_cutoff=policy.cutoff,
        ship_promise_hours=policy.ship_promise_hours,
        same_day_shipping=policy.same_day if policy.same_day is not None else (True if policy.cutoff else None),
        free_shipping=policy.free_shipping,
        free_shipping_excluded_provinces=policy.excluded_provinces,
        cash_on_delivery=policy.cash_on_delivery,
        invoices=policy.invoice,
        gifts=tuple(gifts),
        couriers=policy.couriers,
        ships_on_weekends=weekends,
        backed_guarantees=tuple(guarantees),
        timezone=timezone,
    )


def _fit(value: Any, annotation: Any) -> Any:
    """Our value in the shape the field's annotation asks for (text clock, frozenset, list)."""
    hint = str(annotation)
    if isinstance(value, time) and "time" not in hint and "str" in hint:
        return f"{value.hour:02d}:{value.minute:02d}"
    if isinstance(value, tuple):
        if "frozenset" in hint:
            return frozenset(value)
        if hint.startswith("list") or "List" in hint:
            return list(value)
    return value


def as_guard_facts(facts: DeskShopFacts, facts_class: type, base: Any = None) -> Any:
    """Our facts laid over `base` (the guard's ShopFacts from shop configuration), filling only fields it has; a fact
    the knowledge base leaves empty keeps the configured (or the guard's default) value."""
    fields = {f.name: f for f in dataclasses.fields(facts_class)}
    kwargs: dict[str, Any] = {}
    for ours, names in _ALIASES.items():
        value = getattr(facts, ours)
        if value is None or value == ():
            continue
        for name in names:
            if name in fields and name not in kwargs:
                kwargs[name] = _fit(value, fields[name].type)
                break
    return dataclasses.replace(base, **kwargs) if base is not None else facts_class(**kwargs)


def load_shop_facts(session: Session, shop_id: str):
    """The promise guard's `ShopFacts` for a shop: its configured facts (rules ``promise_guard``) with the knowledge
    base's laid over them; a `DeskShopFacts` while the guard is not installed."""
    shop = session.get(Shop, shop_id)
    rules = shop_rules(shop.settings if shop else None)
    facts = desk_facts(knowledge_of(session, shop_id), rules.get("timezone"))
    try:
        from kefu.domain.promise_guard import ShopFacts
    except ImportError:
        return facts
    from_rules = getattr(ShopFacts, "from_rules", None)
    base = from_rules(rules) if from_rules else None
    return as_guard_facts(facts, ShopFacts, base)
