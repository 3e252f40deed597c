"""Finding and creating shops by name or Shopify domain."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.ids import new_id
from kefu.store.tables import Shop

DEFAULT_SHOP_NAME = "我的淘宝店"


def get_or_create_shop(session: Session, name: str | None = None, *, platform: str = "taobao", domain: str | None = None) -> Shop:
    """The shop with this name (or Shopify domain), created on first use."""
    if domain:
        shop = session.scalar(select(Shop).where(Shop.domain == domain))
        if shop:
            return shop
        name = name or domain
    name = (name or DEFAULT_SHOP_NAME).strip()
    shop = session.scalar(select(Shop).where(Shop.name == name))
    if shop:
        return shop
    shop = Shop(id=new_id()[:12], name=name, platform=platform, domain=domain, settings={}, created_at=datetime.now(timezone.utc))
    session.add(shop)
    session.flush()
    return shop


def find_shop(session: Session, name: str | None) -> Shop | None:
    """The shop named, or the only shop when no name is given and there is just one."""
    if name:
        return session.scalar(select(Shop).where((Shop.name == name) | (Shop.id == name) | (Shop.domain == name)))
    shops = session.scalars(select(Shop).limit(2)).all()
    return shops[0] if len(shops) == 1 else None


def list_shops(session: Session) -> list[Shop]:
    return list(session.scalars(select(Shop).order_by(Shop.name)))
