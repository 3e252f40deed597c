"""Courier scoreboard page: figures per carrier × province, a recommendation for a province and priority, a chart."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from kefu.domain.rules.courier_score import PRIORITIES
from kefu.services.courier_scoreboard import (
    carrier_label,
    chart_data,
    reason_text,
    scoreboard_view,
)
from kefu.web.auth import SignedInUser, current_user
from kefu.web.i18n import language_of, translator
from kefu.web.shop_choice import choose_shop
from kefu.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/couriers", response_class=HTMLResponse)
def couriers_page(request: Request, province: str = "", priority: str = "cheapest",
                  user: SignedInUser = Depends(current_user)) -> HTMLResponse:
    priority = priority if priority in PRIORITIES else PRIORITIES[0]
    t = translator(language_of(request))
    with request.app.state.store.session() as session:
        choice = choose_shop(request, session)
        view = scoreboard_view(session, choice.shop_id, province=province.strip() or None, priority=priority,
                               now=datetime.now(UTC))
    rec = view.recommendation
    provinces = sorted({*view.board.provinces, *view.board.policy.province_prices, *([rec.province] if rec.province else [])})
    context = {
        "shop_choice": choice, "board": view.board, "rec": rec, "priorities": PRIORITIES, "priority": priority,
        "province": rec.province or "", "provinces": provinces, "label": carrier_label,
        "reasons": [reason_text(r, rec, t) for r in rec.ranked],
        "too_few": "、".join(f"{carrier_label(s.carrier)} ({s.parcels})" for s in rec.too_few),
        "chart_json": json.dumps(chart_data(view.board), ensure_ascii=False),
    }
    return render(request, "couriers/page.html", context)
