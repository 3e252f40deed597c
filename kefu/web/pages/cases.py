"""Complaint case pages: the case list by step, SLA, severity and ladder tier; one case walked through its five steps;
owner approval, the call script, evidence and export; opening a case from an alert; the promise list."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from kefu.domain.cases import ladder, sla
from kefu.domain.cases.call_script import OUTCOMES
from kefu.domain.cases.steps import SEVERITIES, SOURCES, STEPS, WORKING_STEPS, step_number
from kefu.services import cases as svc
from kefu.services import evidence, promises
from kefu.services.watch import AlertNotFound, alert_row
from kefu.web.auth import SignedInUser, current_user
from kefu.web.shop_choice import choose_shop
from kefu.web.templating import render

router = APIRouter(include_in_schema=False)


def _now() -> datetime:
    return datetime.now(UTC)


@router.get("/cases", response_class=HTMLResponse)
def cases_page(request: Request, step: str = "", sla_state: str = "", severity: str = "", tier: str = "",
               status: str = "open", approval: str = "", user: SignedInUser = Depends(current_user)) -> HTMLResponse:
    step = step if step in STEPS else ""
    sla_state = sla_state if sla_state in svc.SLA_FILTERS else ""
    severity = severity if severity in SEVERITIES else ""
    tier_number = int(tier) if tier.isdigit() and int(tier) in ladder.TIERS else None
    status = status if status in ("open", "closed", "all") else "open"
    with request.app.state.store.session() as session:
        choice = choose_shop(request, session)
        result = svc.list_cases(session, shop_id=choice.shop_id, step=step or None, sla_state=sla_state or None,
                                severity=severity or None, tier=tier_number, status=status,
                                awaiting_owner=approval == "pending", now=_now())
    return render(request, "cases/list.html", {
        "shop_choice": choice, "tz": choice.timezone, "result": result, "steps": WORKING_STEPS,
        "step": step, "sla_state": sla_state, "severity": severity, "tier": tier_number or "", "status": status,
        "sla_filters": svc.SLA_FILTERS, "severities": SEVERITIES, "tiers": ladder.TIERS,
        "approval": "pending" if approval == "pending" else "",
    })


@router.get("/cases/promises", response_class=HTMLResponse)
def promises_page(request: Request, status: str = "", user: SignedInUser = Depends(current_user)) -> HTMLResponse:
    status = status if status in promises.STATUSES else ""
    with request.app.state.store.session() as session:
        choice = choose_shop(request, session)
        rows = promises.list_promises(session, shop_id=choice.shop_id, status=status or None)
    return render(request, "cases/promises.html", {"shop_choice": choice, "tz": choice.timezone, "rows": rows,
                                                   "status": status, "statuses": promises.STATUSES})


@router.post("/cases/promises/{promise_id}/{outcome}")
def close_promise(promise_id: str, outcome: str, request: Request,
                  user: SignedInUser = Depends(current_user)) -> Response:
    if outcome not in (promises.KEPT, promises.BROKEN):
        raise HTTPException(status_code=404, detail="kept or broken")
    with request.app.state.store.session() as session:
        try:
            promise = promises.close_promise(session, promise_id, outcome, by=user.username, now=_now())
        except promises.PromiseNotFound:
            raise HTTPException(status_code=404, detail="no such promise") from None
        back = f"/cases/{promise.case_id}#promises" if promise.case_id and request.query_params.get("back") == "case" \
            else "/cases/promises"
    return RedirectResponse(back, status_code=303)


@router.get("/cases/new", response_class=HTMLResponse)
def new_case_page(request: Request, source: str = "manual", source_id: str = "", customer_id: str = "",
                  order_id: str = "", summary: str = "", user: SignedInUser = Depends(current_user)) -> HTMLResponse:
    with request.app.state.store.session() as session:
        choice = choose_shop(request, session)
    return render(request, "cases/new.html", {
        "shop_choice": choice, "sources": SOURCES, "form": {"source": source if source in SOURCES else "manual",
                                                            "source_id": source_id, "customer_id": customer_id,
                                                            "order_id": order_id, "summary": summary}})


@router.post("/cases")
def create_case(request: Request, summary: str = Form(""), source: str = Form("manual"), source_id: str = Form(""),
                customer_id: str = Form(""), order_id: str = Form(""),
                user: SignedInUser = Depends(current_user)) -> Response:
    with request.app.state.store.session() as session:
        choice = choose_shop(request, session)
        if choice.shop_id is None:
            raise HTTPException(status_code=400, detail="no shop yet / 还没有店铺")
        try:
            case_id = svc.open_case(session, shop_id=choice.shop_id, customer_id=customer_id.strip() or None,
                                    source=source, source_id=source_id.strip() or None, summary=summary,
                                    order_id=order_id.strip() or None, opened_by=user.username, now=_now())
        except svc.CaseError as exc:
            session.rollback()
            return render(request, "cases/new.html", {
                "shop_choice": choice, "sources": SOURCES, "error": str(exc),
                "form": {"source": source, "source_id": source_id, "customer_id": customer_id,
                         "order_id": order_id, "summary": summary}}, status_code=400)
    return RedirectResponse(f"/cases/{case_id}", status_code=303)


@router.post("/cases/from-alert/{alert_id}")
def case_from_alert(alert_id: str, request: Request, user: SignedInUser = Depends(current_user)) -> Response:
    """The alert page's "open case" button: a case on the alert's buyer and order, its rule as the summary."""
    with request.app.state.store.session() as session:
        try:
            row = alert_row(session, alert_id)
        except AlertNotFound:
            raise HTTPException(status_code=404, detail="no such alert") from None
        a = row.alert
        summary = a.rule or a.kind
        case_id = svc.open_case(session, shop_id=a.shop_id, customer_id=a.customer_id, source="alert",
                                source_id=a.id, summary=summary, order_id=a.order_id, opened_by=user.username,
                                now=_now())
    return RedirectResponse(f"/cases/{case_id}", status_code=303)


def _detail(request: Request, session: Session, case_id: str, user: SignedInUser, *, error: str | None = None,
            status_code: int = 200) -> HTMLResponse:
    try:
        view = svc.case_view(session, case_id, now=_now(), agent=user.display_name or user.username)
    except svc.CaseNotFound:
        raise HTTPException(status_code=404, detail="no such case") from None
    choice = choose_shop(request, session, view.case.shop_id)
    return render(request, "cases/detail.html", {
        "shop_choice": choice, "tz": choice.timezone, "v": view, "c": view.case, "error": error,
        "steps": WORKING_STEPS, "step_no": step_number(view.case.step), "severities": SEVERITIES,
        "offer_kinds": ladder.OFFER_KINDS, "acceptance": ladder.ACCEPTANCE, "outcomes": OUTCOMES,
        "action_kinds": svc.ACTION_KINDS, "is_owner": user.is_owner, "sla_state": view.clock.state,
        "paused": sla.PAUSED,
    }, status_code=status_code)


@router.get("/cases/{case_id}", response_class=HTMLResponse)
def case_page(case_id: str, request: Request, user: SignedInUser = Depends(current_user)) -> HTMLResponse:
    with request.app.state.store.session() as session:
        return _detail(request, session, case_id, user)


def _act(request: Request, case_id: str, user: SignedInUser, action: Callable[[Session], Any],
         anchor: str = "") -> Response:
    """Run one change; back to the case on success, the case page with the reason (400) when it cannot be done."""
    with request.app.state.store.session() as session:
        try:
            action(session)
        except (svc.CaseError, ValueError) as exc:
            session.rollback()
            return _detail(request, session, case_id, user, error=str(exc), status_code=400)
        except svc.ApprovalRequired as exc:
            raise HTTPException(status_code=403, detail=str(exc)) from None
        except (svc.CaseNotFound, promises.PromiseNotFound):
            raise HTTPException(status_code=404, detail="no such case") from None
    return RedirectResponse(f"/cases/{case_id}{anchor}", status_code=303)


@router.post("/cases/{case_id}/confirm")
def confirm(case_id: str, request: Request, buyer_account: str = Form(""), demands: str = Form(""),
            user: SignedInUser = Depends(current_user)) -> Response:
    return _act(request, case_id, user, lambda s: svc.confirm_case(
        s, case_id, buyer_account=buyer_account, demands=demands, actor=user.username, now=_now()))


@router.post("/cases/{case_id}/analyse")
def analyse(case_id: str, request: Request, severity: str = Form(""), decider: str = Form(""),
            advance: str = Form(""), user: SignedInUser = Depends(current_user)) -> Response:
    def run(s: Session) -> None:
        case = svc.analyse_case(s, case_id, severity=severity, decider=decider, actor=user.username, now=_now())
        if advance and case.step == "analyse":
            svc.move_case(s, case_id, "negotiate", actor=user.username, now=_now())
    return _act(request, case_id, user, run)


@router.post("/cases/{case_id}/offers")
def add_offer(case_id: str, request: Request, kind: str = Form(""), description: str = Form(""),
              cost: str = Form("0"), buyer_accepts: str = Form("unknown"),
              user: SignedInUser = Depends(current_user)) -> Response:
    return _act(request, case_id, user, lambda s: svc.add_offer(
        s, case_id, kind=kind, description=description, cost=cost, buyer_accepts=buyer_accepts,
        actor=user.username, now=_now()), "#ladder")


@router.post("/cases/{case_id}/offers/{offer_id}/acceptance")
def offer_acceptance(case_id: str, offer_id: str, request: Request, buyer_accepts: str = Form(""),
                     user: SignedInUser = Depends(current_user)) -> Response:
    return _act(request, case_id, user, lambda s: svc.set_acceptance(
        s, offer_id, buyer_accepts, actor=user.username, now=_now()), "#ladder")


@router.post("/cases/{case_id}/offers/{offer_id}/{decision}")
def offer_decision(case_id: str, offer_id: str, decision: str, request: Request,
                   user: SignedInUser = Depends(current_user)) -> Response:
    if decision == "choose":
        return _act(request, case_id, user, lambda s: svc.choose_offer(s, offer_id, actor=user.username, now=_now()))
    if decision not in ("approve", "reject"):
        raise HTTPException(status_code=404, detail="approve, reject or choose")
    return _act(request, case_id, user, lambda s: svc.decide_offer(
        s, offer_id, approve=decision == "approve", actor=user.username, actor_role=user.role, now=_now()), "#ladder")


@router.post("/cases/{case_id}/actions")
def add_action(case_id: str, request: Request, kind: str = Form(""), amount: str = Form(""),
               reference: str = Form(""), status: str = Form("pending"), note: str = Form(""),
               user: SignedInUser = Depends(current_user)) -> Response:
    return _act(request, case_id, user, lambda s: svc.record_action(
        s, case_id, kind=kind, amount=amount, reference=reference, status=status, note=note, actor=user.username,
        now=_now()), "#execute")


@router.post("/cases/{case_id}/actions/{action_id}/status")
def action_status(case_id: str, action_id: str, request: Request, status: str = Form(""),
                  user: SignedInUser = Depends(current_user)) -> Response:
    return _act(request, case_id, user, lambda s: svc.set_action_status(
        s, action_id, status, actor=user.username, now=_now()), "#execute")


@router.post("/cases/{case_id}/executed")
def executed(case_id: str, request: Request, user: SignedInUser = Depends(current_user)) -> Response:
    return _act(request, case_id, user, lambda s: svc.finish_execution(s, case_id, actor=user.username, now=_now()))


@router.post("/cases/{case_id}/satisfaction")
def satisfaction(case_id: str, request: Request, score: str = Form(""), note: str = Form(""),
                 user: SignedInUser = Depends(current_user)) -> Response:
    return _act(request, case_id, user, lambda s: svc.record_satisfaction(
        s, case_id, score=score, note=note, actor=user.username, now=_now()))


@router.post("/cases/{case_id}/waiting")
def waiting(case_id: str, request: Request, waiting: str = Form(""),
            user: SignedInUser = Depends(current_user)) -> Response:
    return _act(request, case_id, user, lambda s: svc.set_waiting(
        s, case_id, waiting == "1", actor=user.username, now=_now()))


@router.post("/cases/{case_id}/move")
def move(case_id: str, request: Request, step: str = Form(""), user: SignedInUser = Depends(current_user)) -> Response:
    return _act(request, case_id, user, lambda s: svc.move_case(s, case_id, step, actor=user.username, now=_now()))


@router.post("/cases/{case_id}/calls")
def add_call(case_id: str, request: Request, outcome: str = Form(""), minutes: str = Form(""), note: str = Form(""),
             user: SignedInUser = Depends(current_user)) -> Response:
    return _act(request, case_id, user, lambda s: svc.record_call(
        s, case_id, outcome=outcome, minutes=minutes, note=note, actor=user.username, now=_now()), "#call")


@router.post("/cases/{case_id}/notes")
def add_note(case_id: str, request: Request, text: str = Form(""), kind: str = Form("transcript"),
             user: SignedInUser = Depends(current_user)) -> Response:
    return _act(request, case_id, user, lambda s: svc.add_note(
        s, case_id, text=text, kind=kind, actor=user.username, now=_now()), "#evidence")


@router.post("/cases/{case_id}/keep-chat")
def keep_chat(case_id: str, request: Request, user: SignedInUser = Depends(current_user)) -> Response:
    return _act(request, case_id, user, lambda s: svc.keep_chat(s, case_id, actor=user.username, now=_now()),
                "#evidence")


def _export(request: Request, case_id: str) -> dict[str, Any]:
    with request.app.state.store.session() as session:
        try:
            return evidence.export_case(session, case_id, now=_now())
        except svc.CaseNotFound:
            raise HTTPException(status_code=404, detail="no such case") from None


@router.get("/cases/{case_id}/export.json")
def export_json(case_id: str, request: Request, user: SignedInUser = Depends(current_user)) -> Response:
    data = _export(request, case_id)
    return Response(json.dumps(data, ensure_ascii=False, indent=2), media_type="application/json",
                    headers={"Content-Disposition": f'attachment; filename="case-{case_id}.json"'})


@router.get("/cases/{case_id}/export.md")
def export_md(case_id: str, request: Request, user: SignedInUser = Depends(current_user)) -> Response:
    return PlainTextResponse(evidence.export_markdown(_export(request, case_id)), media_type="text/markdown",
                             headers={"Content-Disposition": f'attachment; filename="case-{case_id}.md"'})


@router.get("/cases/{case_id}/export.html", response_class=HTMLResponse)
def export_html(case_id: str, request: Request, user: SignedInUser = Depends(current_user)) -> HTMLResponse:
    data = _export(request, case_id)
    with request.app.state.store.session() as session:
        choice = choose_shop(request, session, data["case"]["shop_id"])
    return render(request, "cases/export.html", {"d": data, "shop_choice": choice, "tz": choice.timezone})
