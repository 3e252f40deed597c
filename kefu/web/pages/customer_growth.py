"""The growth card on the customer 360: RFM group, purchase cycle and next purchase, 差评师 risk, gifts and visits."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select

from kefu.services.extortion_risk import latest_risk
from kefu.services.gifts import gift_history
from kefu.services.segments import score_of
from kefu.store.growth_tables import CareVisit
from kefu.store.tables import Customer
from kefu.web.auth import SignedInUser, current_user
from kefu.web.shop_choice import choose_shop
from kefu.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/customers/{customer_id}/growth", response_class=HTMLResponse)
def growth_card(customer_id: str, request: Request, user: SignedInUser = Depends(current_user)) -> HTMLResponse:
    with request.app.state.store.session() as session:
        customer = session.get(Customer, customer_id)
        choice = choose_shop(request, session)
        if customer is None or customer.shop_id not in {s.id for s in choice.shops}:
            raise HTTPException(status_code=404, detail="no such customer")
        visits = session.scalars(select(CareVisit).where(CareVisit.customer_id == customer_id)
                                 .order_by(CareVisit.due_at.desc()).limit(5)).all()
        context = {"c": customer, "score": score_of(session, customer_id), "risk": latest_risk(session, customer_id),
                   "gifts": gift_history(session, customer_id)[:5], "visits": visits, "tz": choice.timezone}
        return render(request, "growth/_customer_card.html", context)
