"""Dashboard: orders and revenue per day (Chart.js), totals, top customers, the 80/20 line, regions."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kefu.services import stats
from kefu.store.tables import Order
from kefu.web.auth import SignedInUser, current_user
from kefu.web.shop_choice import choose_shop
from kefu.web.templating import render

router = APIRouter(include_in_schema=False)

CHART_DAYS = 90
RECENT_DAYS = 30


def chart_data(days: list) -> dict:
    """The chart's series as plain JSON: dates, order counts and revenue in yuan as strings (exact)."""
    return {
        "labels": [d.date.isoformat() for d in days],
        "orders": [d.orders for d in days],
        "revenue": [f"{Decimal(d.revenue):.2f}" for d in days],
    }


def recent_totals(days: list, last: int = RECENT_DAYS) -> dict:
    window = days[-last:]
    revenue = sum((Decimal(d.revenue) for d in window), Decimal(0))
    orders = sum(d.orders for d in window)
    return {"orders": orders, "revenue": revenue, "aov": (revenue / orders) if orders else None}


def figures_end(session: Session, shop_id: str, timezone: str) -> date:
    """The last day the figures run to: today, or the day of the shop's newest order when imports stop earlier."""
    today = datetime.now(ZoneInfo(timezone)).date()
    newest = session.scalar(select(func.max(Order.created_at)).where(Order.shop_id == shop_id))
    if newest is None:
        return today
    if isinstance(newest, str):  # SQLite hands back text from an aggregate
        newest = datetime.fromisoformat(newest)
    if newest.tzinfo is None:
        newest = newest.replace(tzinfo=ZoneInfo("UTC"))
    return min(today, newest.astimezone(ZoneInfo(timezone)).date())


@router.get("/", response_class=HTMLResponse)
def dashboard(request: Request, user: SignedInUser = Depends(current_user)) -> HTMLResponse:
    with request.app.state.store.session() as session:
        choice = choose_shop(request, session)
        context = {"shop_choice": choice, "tz": choice.timezone}
        if choice.current is not None:
            end = figures_end(session, choice.shop_id, choice.timezone)
            days = stats.daily_orders(session, choice.shop_id, days=CHART_DAYS, today=end)
            context.update(
                end=end,
                counts=stats.store_counts(session, choice.shop_id),
                split=stats.value_split(session, choice.shop_id),
                regions=stats.region_split(session, choice.shop_id)[:10],
                recent=recent_totals(days),
                chart_json=json.dumps(chart_data(days), ensure_ascii=False),
            )
    return render(request, "dashboard.html", context)
