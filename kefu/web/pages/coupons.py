"""Coupons page: follow-up campaigns for a segment under a budget, run through the outbox, with redemptions and ROI."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from kefu.services.coupons import (
    CampaignError,
    campaign_report,
    campaigns,
    create_campaign,
    match_campaign_redemptions,
    run_campaign,
)
from kefu.services.segments import saved_segments
from kefu.web.auth import SignedInUser, current_user
from kefu.web.shop_choice import choose_shop
from kefu.web.templating import render

router = APIRouter(include_in_schema=False)


def _page(request: Request, *, notice: str = "", error: str = "") -> HTMLResponse:
    now = datetime.now(UTC)
    with request.app.state.store.session() as session:
        choice = choose_shop(request, session)
        reports = [campaign_report(session, c.id, now) for c in campaigns(session, choice.shop_id)] if choice.shop_id else []
        segments = saved_segments(session, choice.shop_id, now) if choice.shop_id else []
    return render(request, "growth/coupons.html", {"shop_choice": choice, "reports": reports, "segments": segments,
                                                   "notice": notice, "error": error})


@router.get("/coupons", response_class=HTMLResponse)
def coupons_page(request: Request, user: SignedInUser = Depends(current_user)) -> HTMLResponse:
    return _page(request)


@router.post("/coupons")
def create(request: Request, name: str = Form(...), segment_id: str = Form(...), amount: str = Form(...),
           threshold: str = Form(...), valid_days: int = Form(14), per_customer_limit: int = Form(1),
           budget: str = Form(...), message_cost: str = Form("0"), user: SignedInUser = Depends(current_user)) -> Response:
    with request.app.state.store.session() as session:
        choice = choose_shop(request, session)
        try:
            create_campaign(session, choice.shop_id, name=name, amount=Decimal(amount), threshold=Decimal(threshold),
                            valid_days=valid_days, per_customer_limit=per_customer_limit, budget=Decimal(budget),
                            segment_id=segment_id or None, message_cost=Decimal(message_cost or "0"),
                            by=user.username, now=datetime.now(UTC))
        except InvalidOperation:
            session.rollback()
            return _page(request, error="金额格式不对 / an amount is not a number")
        except CampaignError as exc:
            session.rollback()
            return _page(request, error=str(exc))
    return RedirectResponse("/coupons", status_code=303)


@router.post("/coupons/{campaign_id}/run")
def run(campaign_id: str, request: Request, user: SignedInUser = Depends(current_user)) -> Response:
    with request.app.state.store.session() as session:
        try:
            done = run_campaign(session, campaign_id, now=datetime.now(UTC), by=user.username)
        except CampaignError as exc:
            session.rollback()
            return _page(request, error=str(exc))
    notice = f"issued {done.issued} · suppressed {done.suppressed} · skipped {done.skipped}"
    if done.stopped_for_budget:
        notice += " · budget reached / 预算用完，已停止"
    return _page(request, notice=notice)


@router.post("/coupons/{campaign_id}/match")
def match(campaign_id: str, request: Request, user: SignedInUser = Depends(current_user)) -> Response:
    with request.app.state.store.session() as session:
        found = match_campaign_redemptions(session, campaign_id)
    return _page(request, notice=f"+{found}")
