"""Orders pages: the filtered list (HTMX table) and one order with lines, parcels and the masked receiver."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse

from kefu.domain import order_status as st
from kefu.services.orders_view import order_detail, search_orders, status_counts
from kefu.store.tables import Customer
from kefu.web.auth import SignedInUser, current_user
from kefu.web.shop_choice import choose_shop
from kefu.web.templating import is_htmx, render

router = APIRouter(include_in_schema=False)

PER_PAGE = 50

# The status tabs: (key in the catalog, statuses joined as the filter value)
STATUS_TABS = [
    ("tab.all", ""),
    ("tab.unpaid", st.WAIT_BUYER_PAY),
    ("tab.to_ship", f"{st.WAIT_SELLER_SEND_GOODS},{st.SELLER_CONSIGNED_PART}"),
    ("tab.shipped", f"{st.WAIT_BUYER_CONFIRM_GOODS},{st.TRADE_BUYER_SIGNED}"),
    ("tab.finished", st.TRADE_FINISHED),
    ("tab.closed", f"{st.TRADE_CLOSED},{st.TRADE_CLOSED_BY_TAOBAO}"),
]


def tab_counts(counts: dict[str, int]) -> list[tuple[str, str, int]]:
    """Each tab with how many orders it holds."""
    total = sum(counts.values())
    return [(key, value, sum(counts.get(s, 0) for s in value.split(",")) if value else total) for key, value in STATUS_TABS]


@router.get("/orders", response_class=HTMLResponse)
def orders_page(
    request: Request, status: str = "", q: str = "", customer: str = "", page: int = 1,
    user: SignedInUser = Depends(current_user),
) -> HTMLResponse:
    with request.app.state.store.session() as session:
        buyer = session.get(Customer, customer) if customer else None
        choice = choose_shop(request, session, buyer.shop_id if buyer else None)
        result = search_orders(session, shop_id=choice.shop_id, status=status or None, q=q or None,
                               customer_id=buyer.id if buyer else None, page=page, per_page=PER_PAGE)
        tabs = tab_counts(status_counts(session, choice.shop_id))
    context = {"shop_choice": choice, "result": result, "status": status, "q": q, "tabs": tabs, "buyer": buyer,
               "params": {k: v for k, v in {"status": status, "q": q, "customer": customer}.items() if v},
               "tz": choice.timezone}
    if is_htmx(request) and request.headers.get("hx-target") == "orders-table":
        return render(request, "orders/_table.html", context)
    return render(request, "orders/list.html", context)


@router.get("/orders/{order_id}", response_class=HTMLResponse)
def order_page(order_id: str, request: Request, user: SignedInUser = Depends(current_user)) -> HTMLResponse:
    with request.app.state.store.session() as session:
        detail = order_detail(session, order_id)
        if detail is None:
            raise HTTPException(status_code=404, detail="no such order")
        choice = choose_shop(request, session, detail.order.shop_id)
    return render(request, "orders/detail.html", {"d": detail, "o": detail.order, "shop_choice": choice,
                                                  "tz": choice.timezone})
