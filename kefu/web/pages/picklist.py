"""The printable pick list of paid, unshipped orders, and the buyer-requests part of the order page (loaded by HTMX)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse

from kefu.domain.carriers import CARRIERS
from kefu.domain.privacy import redact_phones
from kefu.services.requirements import pick_list, requirements_of_order
from kefu.services.stockouts import pick_outcomes
from kefu.services.watch import list_alerts
from kefu.store.tables import Order
from kefu.web.auth import SignedInUser, current_user
from kefu.web.shop_choice import choose_shop
from kefu.web.templating import render

router = APIRouter(include_in_schema=False)

CARRIER_NAMES = {c.code: c.name for c in CARRIERS}
ORDER_ALERTS_SHOWN = 20


@router.get("/orders/picklist", response_class=HTMLResponse)
def picklist_page(request: Request, user: SignedInUser = Depends(current_user)) -> HTMLResponse:
    with request.app.state.store.session() as session:
        choice = choose_shop(request, session)
        orders = pick_list(session, choice.shop_id)
        stock_picks = pick_outcomes(session, [p.order.id for p in orders])
    return render(request, "picklist/picklist.html",
                  {"shop_choice": choice, "tz": choice.timezone, "orders": orders, "carrier_names": CARRIER_NAMES,
                   "redact": redact_phones, "stock_picks": stock_picks})


@router.get("/orders/{order_id}/asks", response_class=HTMLResponse)
def order_asks(order_id: str, request: Request, user: SignedInUser = Depends(current_user)) -> HTMLResponse:
    """The buyer's requests and the live alerts of one order, for its page."""
    with request.app.state.store.session() as session:
        order = session.get(Order, order_id)
        if order is None:
            raise HTTPException(status_code=404, detail="no such order")
        requirements = requirements_of_order(session, order)
        alerts = list_alerts(session, order_id=order_id, status="all", per_page=ORDER_ALERTS_SHOWN).items
        tz = choose_shop(request, session, order.shop_id).timezone
    return render(request, "picklist/_order_asks.html",
                  {"requirements": requirements, "alerts": alerts, "tz": tz, "carrier_names": CARRIER_NAMES})
