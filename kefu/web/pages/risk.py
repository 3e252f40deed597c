"""Risk page: buyers whose 差评师 risk is medium or high, the signals that explain it, and the evidence pack."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from kefu.services.extortion_risk import assess_buyer, evidence_pack, evidence_pack_json, high_risk_buyers
from kefu.store.tables import Customer
from kefu.web.auth import SignedInUser, current_user
from kefu.web.shop_choice import choose_shop
from kefu.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/risk", response_class=HTMLResponse)
def risk_page(request: Request, error: str = "", user: SignedInUser = Depends(current_user)) -> HTMLResponse:
    with request.app.state.store.session() as session:
        choice = choose_shop(request, session)
        rows = high_risk_buyers(session, choice.shop_id) if choice.shop_id else []
    return render(request, "growth/risk.html", {"shop_choice": choice, "rows": rows, "error": error})


@router.post("/risk/assess")
def assess(request: Request, nick: str = Form(...), user: SignedInUser = Depends(current_user)) -> Response:
    with request.app.state.store.session() as session:
        choice = choose_shop(request, session)
        customer = session.scalar(select(Customer).where(Customer.shop_id == choice.shop_id,
                                                         Customer.buyer_nick == nick.strip()))
        if customer is None:
            return risk_page(request, error=f"找不到客户 {nick} / no customer named {nick}", user=user)
        assess_buyer(session, customer.id, trigger="manual", now=datetime.now(UTC))
    return RedirectResponse("/risk", status_code=303)


@router.get("/risk/{customer_id}/evidence.json")
def evidence(customer_id: str, request: Request, user: SignedInUser = Depends(current_user)) -> Response:
    with request.app.state.store.session() as session:
        customer = session.get(Customer, customer_id)
        choice = choose_shop(request, session)
        if customer is None or customer.shop_id not in {s.id for s in choice.shops}:
            raise HTTPException(status_code=404, detail="no such customer")
        pack = evidence_pack(session, customer_id, now=datetime.now(UTC))
    name = f"evidence-{customer_id[:12]}.json"
    return Response(evidence_pack_json(pack), media_type="application/json; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
