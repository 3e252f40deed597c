"""Which shop the workbench shows: the one chosen in the shop switcher (kept in the session), else the first."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request
from sqlalchemy.orm import Session

from kefu.config import shop_rules
from kefu.services.shops import list_shops
from kefu.store.tables import Shop

SESSION_KEY = "shop_id"


@dataclass(frozen=True)
class ShopChoice:
    """The shops there are and the one being looked at (None when there is no shop yet)."""

    shops: list[Shop]
    current: Shop | None

    @property
    def shop_id(self) -> str | None:
        return self.current.id if self.current else None

    @property
    def timezone(self) -> str:
        return shop_rules(self.current.settings if self.current else None)["timezone"]

    @property
    def currency(self) -> str:
        return shop_rules(self.current.settings if self.current else None)["currency"]


def choose_shop(request: Request, session: Session, wanted: str | None = None) -> ShopChoice:
    """The shop named by `wanted` (id or name, e.g. ?shop=), else the session's choice, else the first by name."""
    shops = list_shops(session)
    remembered = request.session.get(SESSION_KEY) if "session" in request.scope else None
    for key in (wanted, remembered):
        if key:
            for shop in shops:
                if key in (shop.id, shop.name):
                    return ShopChoice(shops, shop)
    return ShopChoice(shops, shops[0] if shops else None)


def remember_shop(request: Request, shop_id: str) -> None:
    request.session[SESSION_KEY] = shop_id
