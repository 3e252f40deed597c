"""REST: stock levels, sell-through and stockout cases; running the check, recording a buyer's choice or reply."""

from __future__ import annotations

from datetime import UTC, date, datetime

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel

from kefu.domain.stock.buyer_choice import OPTIONS
from kefu.services.stock_check import run_stock_pass
from kefu.services.stock_levels import shop_sell_through, sku_levels
from kefu.services.stockouts import (
    CaseNotFound,
    ChoiceRefused,
    CaseView,
    case_figures,
    case_view,
    choose,
    list_cases,
    record_reply,
)
from kefu.store.stock_tables import StockoutCase
from kefu.web.auth import SignedInUser, current_user
from kefu.web.shop_choice import choose_shop

router = APIRouter(tags=["stock"])


def _case_json(view: CaseView) -> dict:
    k = view.case
    return {
        "id": k.id, "order_id": k.order_id, "order_no": view.order.order_no, "customer_id": k.customer_id,
        "status": k.status, "choice": k.choice, "decided_by": k.decided_by, "offered": k.offered,
        "restock_date": k.restock_date, "wait_until": k.wait_until, "refund_amount": str(k.refund_amount)
        if k.refund_amount is not None else None, "message_text": k.message_text, "message_status": k.message_status,
        "buyer_reply": k.buyer_reply, "reply_understood": k.reply_understood, "outcome": k.outcome,
        "opened_at": k.opened_at, "decided_at": k.decided_at, "closed_at": k.closed_at,
        "lines": [{"order_line_id": row.order_line_id, "title": line.title, "properties": row.properties,
                   "now_properties": line.sku_properties, "quantity": row.quantity, "missing": row.missing,
                   "action": row.action, "substitutes": [{"sku_id": s.id, "properties": s.properties} for s in subs]}
                  for row, line, subs in view.lines],
    }


@router.get("/stock", summary="库存水平 / Stock levels, safety stock and sell-through")
def get_stock(request: Request, q: str | None = None, low: bool = Query(False, description="only out and low SKUs"),
              days: int | None = Query(None, ge=1, le=3650, description="sell-through period in days (default: the "
                                                                        "shop's sell_through_days)"),
              shop: str | None = Query(None, description="shop id or name; default: the workbench's current shop"),
              user: SignedInUser = Depends(current_user)) -> dict:
    with request.app.state.store.session() as session:
        choice = choose_shop(request, session, shop)
        if choice.shop_id is None:
            return {"skus": [], "sell_through": None, "stockouts": None}
        now = datetime.now(UTC)
        levels = sku_levels(session, choice.shop_id, now=now, q=q)
        rate = shop_sell_through(session, choice.shop_id, now=now, days=days)
        return {
            "skus": [{"sku_id": lv.sku.id, "title": lv.title, "properties": lv.sku.properties,
                      "sku_code": lv.sku.outer_sku_id, "stock": lv.stock, "committed": lv.committed,
                      "available": lv.available, "missing": lv.missing, "incoming": lv.incoming,
                      "safety_stock": lv.safety, "daily_units": round(lv.velocity.mean, 3),
                      "days_of_cover": lv.cover_days, "status": lv.status, "restock_date": lv.sku.restock_date,
                      "best_seller": lv.best_seller, "presale": lv.presale_on}
                     for lv in levels if not low or lv.status in ("out", "low")],
            "sell_through": {"skus": rate.skus, "skus_sold": rate.skus_sold, "sku_rate": rate.sku_rate,
                             "products": rate.products, "products_sold": rate.products_sold,
                             "product_rate": rate.product_rate, "units_sold": rate.units_sold,
                             "units_on_hand": rate.units_on_hand, "unit_rate": rate.unit_rate},
            "stockouts": case_figures(session, choice.shop_id).to_json(),
        }


@router.post("/stock/check", summary="发货前检查 / Check unshipped orders against stock")
def post_check(request: Request, shop: str | None = None, user: SignedInUser = Depends(current_user)) -> dict:
    with request.app.state.store.session() as session:
        choice = choose_shop(request, session, shop)
        if choice.shop_id is None:
            raise HTTPException(status_code=404, detail="no shop")
        return run_stock_pass(session, choice.shop_id, now=datetime.now(UTC), actor=user.username).to_json()


@router.get("/stock/cases", summary="缺货单 / Stockout cases")
def get_cases(request: Request, status: str = Query("live", description="live, done, cancelled or all"),
              shop: str | None = None, user: SignedInUser = Depends(current_user)) -> dict:
    with request.app.state.store.session() as session:
        choice = choose_shop(request, session, shop)
        return {"items": [_case_json(v) for v in list_cases(session, choice.shop_id, status=status)]}


class Choice(BaseModel):
    option: str  # ship_available | substitute | wait | cancel
    substitute_sku_id: str | None = None
    wait_until: date | None = None


class Reply(BaseModel):
    text: str


@router.post("/stock/cases/{case_id}/choose", summary="记录买家选择 / Record the buyer's choice and carry it out")
def post_choose(case_id: str, body: Choice, request: Request, user: SignedInUser = Depends(current_user)) -> dict:
    if body.option not in OPTIONS:
        raise HTTPException(status_code=422, detail=f"option: one of {', '.join(OPTIONS)}")
    with request.app.state.store.session() as session:
        try:
            case = choose(session, case_id, body.option, by=user.username, now=datetime.now(UTC),
                          substitute_sku_id=body.substitute_sku_id, wait_until=body.wait_until)
        except CaseNotFound:
            raise HTTPException(status_code=404, detail=f"no stockout case {case_id}") from None
        except ChoiceRefused as exc:
            raise HTTPException(status_code=409, detail=str(exc)) from None
        return _case_json(case_view(session, case))


@router.post("/stock/cases/{case_id}/reply", summary="读取买家回复 / Read a buyer's reply and carry out its choice")
def post_reply(case_id: str, body: Reply, request: Request, user: SignedInUser = Depends(current_user)) -> dict:
    with request.app.state.store.session() as session:
        try:
            result = record_reply(session, case_id, body.text, now=datetime.now(UTC))
        except CaseNotFound:
            raise HTTPException(status_code=404, detail=f"no stockout case {case_id}") from None
        case = session.get(StockoutCase, case_id)
        return {"understood": result.choice.understood, "option": result.choice.option, "refused": result.refused,
                "case": _case_json(case_view(session, case))}
