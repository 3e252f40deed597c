"""Segments page: RFM groups with their size and value, saved segments counted live, and a form to save one."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from kefu.domain.growth.segment_filter import SegmentDefinitionError
from kefu.services.segments import group_report, refresh_scores, save_segment, saved_segments
from kefu.web.auth import SignedInUser, current_user
from kefu.web.i18n import language_of, translator
from kefu.web.shop_choice import choose_shop
from kefu.web.templating import render

router = APIRouter(include_in_schema=False)

GROUP_ORDER = ("champions", "loyal", "cant_lose", "at_risk", "new", "promising", "hibernating", "lost", "others",
               "prospects")


def _split(text: str) -> list[str]:
    return [p for p in (x.strip() for x in text.replace("，", ",").replace("、", ",").split(",")) if p]


@router.get("/segments", response_class=HTMLResponse)
def segments_page(request: Request, error: str = "", user: SignedInUser = Depends(current_user)) -> HTMLResponse:
    now = datetime.now(UTC)
    with request.app.state.store.session() as session:
        choice = choose_shop(request, session)
        groups = group_report(session, choice.shop_id) if choice.shop_id else []
        saved = saved_segments(session, choice.shop_id, now) if choice.shop_id else []
    t = translator(language_of(request))
    chart = {"labels": [t(f"segments.group.{g.group}") for g in groups], "customers": [g.customers for g in groups],
             "spend": [float(g.spend) for g in groups]}
    return render(request, "growth/segments.html", {
        "shop_choice": choice, "groups": groups, "saved": saved, "group_names": GROUP_ORDER, "error": error,
        "chart_json": json.dumps(chart, ensure_ascii=False),
    })


@router.post("/segments/refresh")
def refresh(request: Request, user: SignedInUser = Depends(current_user)) -> Response:
    with request.app.state.store.session() as session:
        choice = choose_shop(request, session)
        if choice.shop_id:
            refresh_scores(session, choice.shop_id, datetime.now(UTC))
    return RedirectResponse("/segments", status_code=303)


@router.post("/segments")
def save(request: Request, name: str = Form(""), rfm_groups: list[str] = Form(default=[]),
         value_tiers: list[str] = Form(default=[]), provinces: str = Form(""), categories: str = Form(""),
         cycle_stages: list[str] = Form(default=[]), min_spent: str = Form(""), min_orders: str = Form(""),
         birthday_within_days: str = Form(""), marketing_consent: str = Form(""),
         user: SignedInUser = Depends(current_user)) -> Response:
    raw = {"rfm_groups": rfm_groups, "value_tiers": value_tiers, "provinces": _split(provinces),
           "categories": _split(categories), "cycle_stages": cycle_stages, "min_spent": min_spent,
           "min_orders": min_orders, "birthday_within_days": birthday_within_days,
           "marketing_consent": True if marketing_consent else None}
    with request.app.state.store.session() as session:
        choice = choose_shop(request, session)
        try:
            save_segment(session, choice.shop_id, name, raw, by=user.username, now=datetime.now(UTC))
        except (SegmentDefinitionError, ValueError) as exc:
            session.rollback()
            return segments_page(request, error=str(exc), user=user)
    return RedirectResponse("/segments", status_code=303)
