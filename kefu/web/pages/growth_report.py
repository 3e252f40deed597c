"""Growth report page: segments, coupon ROI, gifts, risk, listing findings and stock alerts, with charts."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from kefu.services.growth_report import growth_report
from kefu.web.auth import SignedInUser, current_user
from kefu.web.i18n import language_of, translator
from kefu.web.shop_choice import choose_shop
from kefu.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/growth", response_class=HTMLResponse)
def report_page(request: Request, user: SignedInUser = Depends(current_user)) -> HTMLResponse:
    t = translator(language_of(request))
    with request.app.state.store.session() as session:
        choice = choose_shop(request, session)
        report = growth_report(session, choice.shop_id, datetime.now(UTC)) if choice.shop_id else None
    chart = report.chart() if report else {}
    if report:
        chart["groups"]["labels"] = [t(f"segments.group.{g}") for g in chart["groups"]["labels"]]
        chart["risk"] = {t(f"risk.level.{k}"): v for k, v in chart["risk"].items()}
    return render(request, "growth/report.html", {"shop_choice": choice, "report": report,
                                                  "chart_json": json.dumps(chart, ensure_ascii=False)})
