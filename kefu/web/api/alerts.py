"""REST: the parcel-watch alert queue, and acknowledging or resolving one alert."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Query, Request

from kefu.services.watch import (
    STATUS_FILTERS,
    AlertNotFound,
    acknowledge_alert,
    alert_json,
    alert_row,
    list_alerts,
    resolve_alert,
)
from kefu.web.auth import SignedInUser, current_user
from kefu.web.shop_choice import choose_shop

router = APIRouter(tags=["alerts"])


@router.get("/alerts", summary="提醒列表 / List alerts")
def get_alerts(
    request: Request,
    kind: str | None = Query(None, description="fake_shipping, stall, exception, rejected, returning, returned, signed, "
                                               "ship_promise_due, ship_promise_broken or courier_conflict"),
    status: str = Query("live", description="live (open or acknowledged), open, acknowledged, resolved or all"),
    carrier: str | None = Query(None, description="carrier code or name (zhongtong, 中通)"),
    province: str | None = Query(None, description="destination province, 新疆 or 新疆维吾尔自治区"),
    customer_id: str | None = None,
    order_id: str | None = None,
    shop: str | None = Query(None, description="shop id or name; default: the workbench's current shop"),
    page: int = Query(1, ge=1),
    per_page: int = Query(50, ge=1, le=200),
    user: SignedInUser = Depends(current_user),
) -> dict:
    if status not in STATUS_FILTERS:
        raise HTTPException(status_code=422, detail=f"status: one of {', '.join(STATUS_FILTERS)}")
    with request.app.state.store.session() as session:
        choice = choose_shop(request, session, shop)
        result = list_alerts(session, shop_id=choice.shop_id, kind=kind, status=status, carrier=carrier,
                             province=province, customer_id=customer_id, order_id=order_id, page=page,
                             per_page=per_page)
        return {"items": [alert_json(r) for r in result.items], "total": result.total, "page": result.page,
                "per_page": result.per_page, "pages": result.pages}


def _act(request: Request, alert_id: str, user: SignedInUser, action) -> dict:
    with request.app.state.store.session() as session:
        try:
            action(session, alert_id, user.username)
            return alert_json(alert_row(session, alert_id))
        except AlertNotFound:
            raise HTTPException(status_code=404, detail=f"no alert {alert_id}") from None


@router.post("/alerts/{alert_id}/acknowledge", summary="确认提醒 / Acknowledge an alert")
def post_acknowledge(alert_id: str, request: Request, user: SignedInUser = Depends(current_user)) -> dict:
    return _act(request, alert_id, user, acknowledge_alert)


@router.post("/alerts/{alert_id}/resolve", summary="解决提醒 / Resolve an alert")
def post_resolve(alert_id: str, request: Request, user: SignedInUser = Depends(current_user)) -> dict:
    return _act(request, alert_id, user, resolve_alert)
