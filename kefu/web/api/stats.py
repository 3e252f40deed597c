"""REST: the dashboard's figures — counts, the 80/20 split with top customers, orders and revenue per day, regions."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Depends, Query, Request

from kefu.services import stats
from kefu.store.tables import Customer
from kefu.web.api.serialize import customer_json, money
from kefu.web.auth import SignedInUser, current_user
from kefu.web.shop_choice import choose_shop

router = APIRouter(tags=["stats"])


def plain(value: Any) -> Any:
    """Service results as JSON: dataclasses to dicts, money as "0.00" strings, dates ISO, customers masked."""
    if isinstance(value, Customer):
        return customer_json(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        data = {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
        for name in dir(type(value)):  # derived figures (properties) belong in the answer too
            if isinstance(getattr(type(value), name, None), property):
                data[name] = plain(getattr(value, name))
        return data
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, Decimal):
        return money(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value


@router.get("/stats", summary="店铺统计 / Shop figures for the dashboard")
def get_stats(
    request: Request,
    shop: str | None = Query(None, description="shop id or name; default: the workbench's current shop"),
    days: int = Query(90, ge=1, le=730, description="how many days of daily figures"),
    user: SignedInUser = Depends(current_user),
) -> dict:
    with request.app.state.store.session() as session:
        choice = choose_shop(request, session, shop)
        answer: dict[str, Any] = {
            "shop": {"id": choice.current.id, "name": choice.current.name, "platform": choice.current.platform}
            if choice.current else None,
            "shops": [{"id": s.id, "name": s.name, "platform": s.platform} for s in choice.shops],
            "counts": plain(stats.store_counts(session, choice.shop_id)),
        }
        if choice.current is not None:
            answer["value_split"] = plain(stats.value_split(session, choice.shop_id))
            answer["daily"] = plain(stats.daily_orders(session, choice.shop_id, days=days))
            answer["regions"] = plain(stats.region_split(session, choice.shop_id))
        return answer
