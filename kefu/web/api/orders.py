"""REST: orders, filtered and paginated, and one order with its lines and parcels."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Query, Request

from kefu.services.orders_view import order_detail, search_orders
from kefu.web.api.serialize import ORDER_PII, order_detail_json, order_page_json
from kefu.web.auth import SignedInUser, current_user
from kefu.web.reveal import audit_api_reveal
from kefu.web.shop_choice import choose_shop

router = APIRouter(tags=["orders"])


@router.get("/orders", summary="订单列表 / List orders")
def list_orders(
    request: Request,
    status: str | None = Query(None, description="TOP status, or several separated by commas"),
    q: str | None = Query(None, description="order number (or its start) or buyer nick"),
    customer_id: str | None = None,
    shop: str | None = Query(None, description="shop id or name; default: the workbench's current shop"),
    page: int = Query(1, ge=1),
    per_page: int = Query(50, ge=1, le=200),
    reveal: bool = Query(False, description="receiver name/phone/address in clear (audited)"),
    user: SignedInUser = Depends(current_user),
) -> dict:
    with request.app.state.store.session() as session:
        choice = choose_shop(request, session, shop)
        result = search_orders(session, shop_id=choice.shop_id, status=status, q=q, customer_id=customer_id, page=page,
                               per_page=per_page)
        if reveal:
            audit_api_reveal(session, user, "order", [o.id for o in result.items], list(ORDER_PII))
        return order_page_json(result, reveal=reveal)


@router.get("/orders/{order_id}", summary="订单详情 / One order with lines and shipments")
def get_order(order_id: str, request: Request, reveal: bool = False, user: SignedInUser = Depends(current_user)) -> dict:
    with request.app.state.store.session() as session:
        detail = order_detail(session, order_id)
        if detail is None:
            raise HTTPException(status_code=404, detail=f"no order {order_id}")
        if reveal:
            audit_api_reveal(session, user, "order", [order_id], list(ORDER_PII))
        return order_detail_json(detail, reveal=reveal)
