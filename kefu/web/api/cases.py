"""REST: complaint cases (list, open, one case with its ladder and SLA, the step actions, export) and promises."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel, Field

from kefu.domain.cases.steps import SEVERITIES, STEPS
from kefu.services import cases as svc
from kefu.services import evidence, promises
from kefu.web.auth import SignedInUser, current_user
from kefu.web.shop_choice import choose_shop

router = APIRouter(tags=["cases"])


def _now() -> datetime:
    return datetime.now(UTC)


class NewCase(BaseModel):
    summary: str
    source: Literal["message", "review", "alert", "manual"] = "manual"
    source_id: str | None = None
    customer_id: str | None = None
    order_id: str | None = None
    shop: str | None = Field(None, description="shop id or name; default: the workbench's current shop")


class NewOffer(BaseModel):
    kind: str = Field(description="apology, exchange, reship, partial_refund, refund, coupon, gift or other")
    description: str
    cost: str = Field("0", description="yuan, e.g. 30 or 29.90 (negative when the buyer pays more)")
    buyer_accepts: Literal["yes", "no", "unknown"] = "unknown"


class StepAction(BaseModel):
    """One step of the case; which fields count depends on `action`."""

    action: Literal["confirm", "analyse", "acceptance", "approve", "reject", "choose", "record_action",
                    "action_status", "executed", "satisfaction", "wait", "resume", "move", "call", "note", "keep_chat"]
    buyer_account: str | None = None
    demands: str | None = None
    severity: str | None = None
    decider: str | None = None
    offer_id: str | None = None
    buyer_accepts: str | None = None
    kind: str | None = None
    amount: str | None = None
    reference: str | None = None
    status: str | None = None
    action_id: str | None = None
    note: str | None = None
    score: int | None = None
    step: str | None = None
    outcome: str | None = None
    minutes: int | None = None
    text: str | None = None


def _case_out(session, case_id: str) -> dict[str, Any]:
    view = svc.case_view(session, case_id, now=_now())
    data = svc.case_json(view.case, view.clock)
    data["offers"] = [{**svc.offer_json(v.offer), "net": str(v.placement.net), "provisional": v.placement.provisional,
                       "reason": v.placement.reason} for v in view.offers]
    data["call_suggested"] = view.advice.suggested
    data["call_script"] = [{"phase": line.phase, "say": line.say, "hint": line.hint} for line in view.script]
    return data


@router.get("/cases", summary="投诉工单列表 / List complaint cases")
def get_cases(request: Request, step: str | None = Query(None, description=", ".join(STEPS)),
              sla_state: str | None = Query(None, description="breached, due_soon, ok or paused"),
              severity: str | None = Query(None, description=", ".join(SEVERITIES)),
              tier: int | None = Query(None, ge=1, le=5), status: str = Query("open", description="open, closed, all"),
              customer_id: str | None = None, shop: str | None = None,
              awaiting_owner: bool = Query(False, description="only cases with an offer waiting for the owner"),
              user: SignedInUser = Depends(current_user)) -> dict:
    with request.app.state.store.session() as session:
        choice = choose_shop(request, session, shop)
        page = svc.list_cases(session, shop_id=choice.shop_id, step=step, sla_state=sla_state, severity=severity,
                              tier=tier, status=status, customer_id=customer_id, awaiting_owner=awaiting_owner,
                              now=_now())
        return {"items": [{**svc.case_json(r.case), "sla_state": r.sla_state, "top_tier": r.top_tier,
                           "pending_approval": r.pending_approval, "buyer_nick": r.buyer_nick,
                           "order_no": r.order_no} for r in page.items],
                "total": page.total, "open_by_step": page.counts}


@router.post("/cases", status_code=201, summary="开投诉工单 / Open a complaint case")
def post_case(body: NewCase, request: Request, user: SignedInUser = Depends(current_user)) -> dict:
    with request.app.state.store.session() as session:
        choice = choose_shop(request, session, body.shop)
        if choice.shop_id is None:
            raise HTTPException(status_code=422, detail="no shop yet / 还没有店铺")
        try:
            case_id = svc.open_case(session, shop_id=choice.shop_id, customer_id=body.customer_id,
                                    source=body.source, source_id=body.source_id, summary=body.summary,
                                    order_id=body.order_id, opened_by=user.username, now=_now())
        except svc.CaseError as exc:
            raise HTTPException(status_code=422, detail=str(exc)) from None
        session.flush()
        return _case_out(session, case_id)


@router.get("/cases/{case_id}", summary="一个投诉工单 / One case with its ladder, SLA and call script")
def get_case(case_id: str, request: Request, user: SignedInUser = Depends(current_user)) -> dict:
    with request.app.state.store.session() as session:
        try:
            return _case_out(session, case_id)
        except svc.CaseNotFound:
            raise HTTPException(status_code=404, detail=f"no case {case_id}") from None


@router.post("/cases/{case_id}/offers", status_code=201, summary="提出方案 / Propose a resolution (placed on the ladder)")
def post_offer(case_id: str, body: NewOffer, request: Request, user: SignedInUser = Depends(current_user)) -> dict:
    with request.app.state.store.session() as session:
        try:
            offer = svc.add_offer(session, case_id, kind=body.kind, description=body.description, cost=body.cost,
                                  buyer_accepts=body.buyer_accepts, actor=user.username, now=_now())
        except svc.CaseNotFound:
            raise HTTPException(status_code=404, detail=f"no case {case_id}") from None
        except svc.CaseError as exc:
            raise HTTPException(status_code=422, detail=str(exc)) from None
        return svc.offer_json(offer)


@router.post("/cases/{case_id}/steps", summary="推进工单 / Act on a case (confirm, analyse, choose, execute, follow up…)")
def post_step(case_id: str, body: StepAction, request: Request, user: SignedInUser = Depends(current_user)) -> dict:
    now, actor = _now(), user.username
    actions = {
        "confirm": lambda s: svc.confirm_case(s, case_id, buyer_account=body.buyer_account or "",
                                              demands=body.demands or "", actor=actor, now=now),
        "analyse": lambda s: svc.analyse_case(s, case_id, severity=body.severity or "", decider=body.decider,
                                              actor=actor, now=now),
        "acceptance": lambda s: svc.set_acceptance(s, body.offer_id or "", body.buyer_accepts or "", actor=actor,
                                                   now=now),
        "approve": lambda s: svc.decide_offer(s, body.offer_id or "", approve=True, actor=actor, actor_role=user.role,
                                              now=now),
        "reject": lambda s: svc.decide_offer(s, body.offer_id or "", approve=False, actor=actor, actor_role=user.role,
                                             now=now),
        "choose": lambda s: svc.choose_offer(s, body.offer_id or "", actor=actor, now=now),
        "record_action": lambda s: svc.record_action(s, case_id, kind=body.kind or "", amount=body.amount,
                                                     reference=body.reference, status=body.status or "pending",
                                                     note=body.note, actor=actor, now=now),
        "action_status": lambda s: svc.set_action_status(s, body.action_id or "", body.status or "", actor=actor,
                                                         now=now),
        "executed": lambda s: svc.finish_execution(s, case_id, actor=actor, now=now),
        "satisfaction": lambda s: svc.record_satisfaction(s, case_id, score=body.score, note=body.note, actor=actor,
                                                          now=now),
        "wait": lambda s: svc.set_waiting(s, case_id, True, actor=actor, now=now),
        "resume": lambda s: svc.set_waiting(s, case_id, False, actor=actor, now=now),
        "move": lambda s: svc.move_case(s, case_id, body.step or "", actor=actor, now=now),
        "call": lambda s: svc.record_call(s, case_id, outcome=body.outcome or "", minutes=body.minutes,
                                          note=body.note, actor=actor, now=now),
        "keep_chat": lambda s: svc.keep_chat(s, case_id, actor=actor, now=now),
        "note": lambda s: svc.add_note(s, case_id, text=body.text or "", kind=body.kind or "transcript", actor=actor,
                                       now=now),
    }
    with request.app.state.store.session() as session:
        try:
            actions[body.action](session)
            return _case_out(session, case_id)
        except svc.CaseNotFound as exc:
            raise HTTPException(status_code=404, detail=str(exc)) from None
        except svc.ApprovalRequired as exc:
            raise HTTPException(status_code=403, detail=str(exc)) from None
        except (svc.CaseError, ValueError) as exc:
            raise HTTPException(status_code=422, detail=str(exc)) from None


@router.get("/cases/{case_id}/export", summary="导出工单证据 / Export the case file (JSON with SHA-256 per snapshot)")
def get_export(case_id: str, request: Request, user: SignedInUser = Depends(current_user)) -> dict:
    with request.app.state.store.session() as session:
        try:
            return evidence.export_case(session, case_id, now=_now())
        except svc.CaseNotFound:
            raise HTTPException(status_code=404, detail=f"no case {case_id}") from None


@router.get("/promises", summary="承诺列表 / Promises made to buyers")
def get_promises(request: Request, status: str | None = Query(None, description="open, overdue, kept or broken"),
                 customer_id: str | None = None, case_id: str | None = None, shop: str | None = None,
                 user: SignedInUser = Depends(current_user)) -> dict:
    with request.app.state.store.session() as session:
        choice = choose_shop(request, session, shop)
        rows = promises.list_promises(session, shop_id=choice.shop_id, status=status, customer_id=customer_id,
                                      case_id=case_id)
        return {"items": [promises.promise_json(p) for p in rows]}


@router.post("/promises/{promise_id}/{outcome}", summary="标记承诺 / Mark a promise kept or broken")
def post_promise(promise_id: str, outcome: Literal["kept", "broken"], request: Request,
                 user: SignedInUser = Depends(current_user)) -> dict:
    with request.app.state.store.session() as session:
        try:
            return promises.promise_json(promises.close_promise(session, promise_id, outcome, by=user.username,
                                                                now=_now()))
        except promises.PromiseNotFound:
            raise HTTPException(status_code=404, detail=f"no promise {promise_id}") from None
