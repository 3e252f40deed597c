"""REST: return requests with their decisions and rules, the agent's actions, the inspection, and the reasons report."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel, Field

from kefu.services.return_reasons import reason_report
from kefu.services.returns import (
    STATUS_FILTERS,
    ReturnNotFound,
    ReturnsError,
    act,
    apply_decision,
    create_request,
    get_request,
    list_requests,
    mark_refunded,
    record_return,
    request_json,
)
from kefu.web.auth import SignedInUser, current_user
from kefu.web.shop_choice import choose_shop

router = APIRouter(tags=["returns"])


class NewReturn(BaseModel):
    order_no: str = Field(description="订单编号 / tid")
    sub_order_no: str | None = Field(None, description="子订单编号 / oid")
    reason: str | None = Field(None, description="退款原因, e.g. 尺码拍错, 质量问题, 7天无理由退换货")
    description: str | None = Field(None, description="退款说明 (phone numbers are redacted)")
    kind: str = Field("return_refund", description="refund_only | return_refund | exchange")
    requested_at: datetime | None = None
    refund_fee: Decimal | None = None
    prefers_exchange: bool = False
    buyer_confirmed_non_returnable: bool = False
    freight_insurance: bool | None = None


class Action(BaseModel):
    outcome: str = Field(description="accept | refuse | exchange")
    reason: str | None = Field(None, description="required when going against the engine's decision (an override)")


class Inspection(BaseModel):
    checklist: dict[str, bool] = Field(default_factory=dict, description="check → passed, e.g. {\"tags_on\": true}")
    condition: str | None = Field(None, description="as_new | tried_on | light_wear | damaged")
    resellable: bool | None = None
    received_at: datetime | None = None


def _shop_id(request: Request, session, shop: str | None) -> str:
    choice = choose_shop(request, session, shop)
    if choice.shop_id is None:
        raise HTTPException(status_code=404, detail="no shop yet / 还没有店铺")
    return choice.shop_id


def _request(session, request_id: str):
    try:
        return get_request(session, request_id)
    except ReturnNotFound:
        raise HTTPException(status_code=404, detail=f"no return request {request_id}") from None


@router.get("/returns", summary="退货申请列表 / List return requests")
def get_returns(
    request: Request,
    status: str = Query("active", description="active, open, accepted, exchange, overdue, due_soon, refused, "
                                              "refunded, closed or all"),
    q: str | None = Query(None, description="refund id, order number, buyer nick or title"),
    shop: str | None = Query(None, description="shop id or name; default: the workbench's current shop"),
    page: int = Query(1, ge=1), per_page: int = Query(50, ge=1, le=200),
    user: SignedInUser = Depends(current_user),
) -> dict:
    if status not in STATUS_FILTERS:
        raise HTTPException(status_code=422, detail=f"status: one of {', '.join(STATUS_FILTERS)}")
    with request.app.state.store.session() as session:
        result = list_requests(session, _shop_id(request, session, shop), status=status, query=q, page=page,
                               per_page=per_page)
        return {"items": [request_json(r.request) for r in result.items], "total": result.total, "page": result.page,
                "per_page": result.per_page, "pages": result.pages, "counts": result.counts}


@router.post("/returns", status_code=201, summary="录入退货申请 / Enter a return request")
def post_return(body: NewReturn, request: Request, shop: str | None = None,
                user: SignedInUser = Depends(current_user)) -> dict:
    with request.app.state.store.session() as session:
        try:
            created = create_request(
                session, _shop_id(request, session, shop), order_no=body.order_no, sub_order_no=body.sub_order_no,
                reason=body.reason, description=body.description, kind=body.kind, requested_at=body.requested_at,
                refund_fee=body.refund_fee, prefers_exchange=body.prefers_exchange,
                buyer_confirmed_non_returnable=body.buyer_confirmed_non_returnable,
                freight_insurance=body.freight_insurance, by=user.username)
        except ReturnsError as exc:
            raise HTTPException(status_code=422, detail=str(exc)) from None
        return request_json(created)


@router.get("/returns/reasons", summary="退货原因报表 / Return reasons per product")
def get_reasons(request: Request, shop: str | None = None, periods: int = Query(6, ge=1, le=24),
                user: SignedInUser = Depends(current_user)) -> dict:
    with request.app.state.store.session() as session:
        return reason_report(session, _shop_id(request, session, shop), periods=periods).to_json()


@router.get("/returns/{request_id}", summary="退货申请与判定依据 / One request with its decision and rules")
def get_return(request_id: str, request: Request, user: SignedInUser = Depends(current_user)) -> dict:
    with request.app.state.store.session() as session:
        return request_json(_request(session, request_id))


def _run(request: Request, request_id: str, action) -> dict:
    with request.app.state.store.session() as session:
        req = _request(session, request_id)
        try:
            action(session, req)
        except ReturnsError as exc:
            raise HTTPException(status_code=422, detail=str(exc)) from None
        return request_json(req)


@router.post("/returns/{request_id}/decide", summary="重新判定 / Decide again under the current rules")
def post_decide(request_id: str, request: Request, user: SignedInUser = Depends(current_user)) -> dict:
    return _run(request, request_id, lambda session, req: apply_decision(session, req, now=datetime.now(UTC)))


@router.post("/returns/{request_id}/act", summary="受理/拒绝/换货（可改判，须填理由）/ Accept, refuse or exchange")
def post_act(request_id: str, body: Action, request: Request, user: SignedInUser = Depends(current_user)) -> dict:
    return _run(request, request_id, lambda session, req: act(session, req.id, body.outcome, by=user.username,
                                                              reason=body.reason))


@router.post("/returns/{request_id}/received", summary="收到退货并验货 / Record the return's arrival and inspection")
def post_received(request_id: str, body: Inspection, request: Request,
                  user: SignedInUser = Depends(current_user)) -> dict:
    return _run(request, request_id, lambda session, req: record_return(
        session, req.id, checklist=body.checklist, condition=body.condition, resellable=body.resellable,
        received_at=body.received_at, by=user.username))


@router.post("/returns/{request_id}/refunded", summary="已退款 / Mark refunded")
def post_refunded(request_id: str, request: Request, user: SignedInUser = Depends(current_user)) -> dict:
    return _run(request, request_id, lambda session, req: mark_refunded(session, req.id, by=user.username))
