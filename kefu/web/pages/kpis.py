"""Response KPIs page: the 3-minute response rate, response times and inquiry → order conversion, per shop and agent."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from kefu.services.response_kpis import shop_kpis
from kefu.web.auth import SignedInUser, current_user
from kefu.web.shop_choice import choose_shop
from kefu.web.templating import render

router = APIRouter(include_in_schema=False)


def minutes(seconds: float | None) -> str:
    """"2m 05s" for a response time; an em dash without one."""
    if seconds is None:
        return "—"
    whole = int(round(seconds))
    return f"{whole // 60}m {whole % 60:02d}s" if whole >= 60 else f"{whole}s"


@router.get("/kpis", response_class=HTMLResponse)
def kpis_page(request: Request, user: SignedInUser = Depends(current_user)) -> HTMLResponse:
    with request.app.state.store.session() as session:
        choice = choose_shop(request, session)
        report = shop_kpis(session, choice.shop_id, now=datetime.now(UTC)) if choice.shop_id else None
    chart = None
    if report is not None:
        chart = {
            "days": [d.day.isoformat() for d in report.daily],
            "rate": [round(d.rate * 100, 1) if d.rate is not None else None for d in report.daily],
            "rounds": [d.rounds for d in report.daily],
            "agents": list(report.agents),
            "agent_rate": [round(f.rate * 100, 1) if f.rate is not None else None for f in report.agents.values()],
        }
    return render(request, "kpis/page.html", {"shop_choice": choice, "report": report, "minutes": minutes,
                                              "chart_json": json.dumps(chart, ensure_ascii=False) if chart else "null"})
