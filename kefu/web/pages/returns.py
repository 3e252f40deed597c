"""Returns workbench: the request list (status, refund due, overdue), a request with its decision and rules, the
agent's accept/refuse/exchange/override, the return's inspection, new requests, TOP refund uploads, reasons report."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from kefu.config import shop_rules
from kefu.domain.returns.decision import KINDS, OUTCOMES
from kefu.domain.returns.policy import CONDITIONS, policy_for
from kefu.domain.returns.reasons import REASONS
from kefu.ingest.refunds_file import UnreadableRefunds
from kefu.services.return_reasons import reason_report
from kefu.services.returns import (
    STATUS_FILTERS,
    ReturnNotFound,
    ReturnsError,
    act,
    apply_decision,
    create_request,
    customer_returns,
    due_state,
    get_request,
    import_refunds,
    list_requests,
    mark_refunded,
    record_return,
    rules_of,
)
from kefu.web.auth import SignedInUser, current_user
from kefu.web.i18n import language_of, translate
from kefu.web.shop_choice import choose_shop
from kefu.web.templating import is_htmx, render
from kefu.web.uploads import safe_file_name

router = APIRouter(include_in_schema=False)

PER_PAGE = 50
MAX_UPLOAD_BYTES = 20 << 20
# The reasons buyers pick in Taobao's refund form, offered when an agent enters a request.
REASON_CHOICES = ("7天无理由退换货", "尺码拍错", "不喜欢/效果不好", "质量问题", "商品与描述不符", "颜色与图片不符",
                  "卖家发错货", "少件/漏发", "物流破损", "其他")


def _warning_days(choice) -> int:
    return int(shop_rules(choice.current.settings if choice.current else None)["returns"].get("refund_warning_days", 2))


@router.get("/returns", response_class=HTMLResponse)
def returns_page(request: Request, status: str = "active", q: str = "", page: int = 1, imported: str = "",
                 user: SignedInUser = Depends(current_user)) -> HTMLResponse:
    status = status if status in STATUS_FILTERS else "active"
    with request.app.state.store.session() as session:
        choice = choose_shop(request, session)
        result = list_requests(session, choice.shop_id, status=status, query=q, page=page,
                               per_page=PER_PAGE) if choice.shop_id else None
    context = {"shop_choice": choice, "tz": choice.timezone, "result": result, "status": status, "q": q,
               "statuses": STATUS_FILTERS, "params": {k: v for k, v in {"status": status, "q": q}.items() if v},
               "imported": _imported(imported)}
    if is_htmx(request) and request.headers.get("hx-target") == "returns-table":
        return render(request, "returns/_table.html", context)
    return render(request, "returns/list.html", context)


def _imported(text: str) -> dict | None:
    """The upload summary carried in the redirect's query (ignored when it is not one)."""
    try:
        value = json.loads(text) if text.startswith("{") else None
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


@router.get("/returns/new", response_class=HTMLResponse)
def new_request_page(request: Request, order_no: str = "", user: SignedInUser = Depends(current_user)) -> HTMLResponse:
    with request.app.state.store.session() as session:
        choice = choose_shop(request, session)
    return render(request, "returns/new.html", {"shop_choice": choice, "reasons": REASON_CHOICES, "kinds": KINDS,
                                                "form": {"order_no": order_no, "kind": "return_refund"}, "error": None})


@router.get("/returns/customer/{customer_id}", response_class=HTMLResponse)
def customer_card(customer_id: str, request: Request, user: SignedInUser = Depends(current_user)) -> HTMLResponse:
    """The customer 360's returns card (loaded by HTMX)."""
    with request.app.state.store.session() as session:
        choice = choose_shop(request, session)
        latest, total = customer_returns(session, customer_id)
        return render(request, "returns/_customer.html", {"tz": choice.timezone, "latest": latest, "total": total,
                                                          "customer_id": customer_id})


def _local_moment(text: str, tz: str) -> datetime | None:
    text = text.strip()
    if not text:
        return None
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(tz)) if len(text) > 10 else datetime.combine(
            moment.date(), time(12), tzinfo=ZoneInfo(tz))
    return moment.astimezone(UTC)


@router.post("/returns", response_class=HTMLResponse)
def create_request_form(
    request: Request, order_no: str = Form(""), sub_order_no: str = Form(""), reason: str = Form(""),
    description: str = Form(""), kind: str = Form("return_refund"), requested_at: str = Form(""),
    refund_fee: str = Form(""), prefers_exchange: str = Form(""), buyer_confirmed: str = Form(""),
    freight_insurance: str = Form(""), user: SignedInUser = Depends(current_user),
) -> Response:
    form = {"order_no": order_no, "sub_order_no": sub_order_no, "reason": reason, "description": description,
            "kind": kind, "requested_at": requested_at, "refund_fee": refund_fee, "prefers_exchange": prefers_exchange,
            "buyer_confirmed": buyer_confirmed, "freight_insurance": freight_insurance}
    with request.app.state.store.session() as session:
        choice = choose_shop(request, session)
        try:
            if choice.shop_id is None:
                raise ReturnsError("还没有店铺 / no shop yet")
            fee = Decimal(refund_fee.strip()) if refund_fee.strip() else None
            created = create_request(
                session, choice.shop_id, order_no=order_no, sub_order_no=sub_order_no, reason=reason,
                description=description, kind=kind, requested_at=_local_moment(requested_at, choice.timezone),
                refund_fee=fee, prefers_exchange=bool(prefers_exchange), buyer_confirmed_non_returnable=bool(buyer_confirmed),
                freight_insurance=True if freight_insurance else None, by=user.username)
            target = f"/returns/{created.id}"
        except (ReturnsError, ValueError, InvalidOperation) as exc:
            session.rollback()
            message = str(exc) if isinstance(exc, ReturnsError) else f"日期或金额无法识别 / unreadable date or amount: {exc}"
            return render(request, "returns/new.html", {"shop_choice": choice, "reasons": REASON_CHOICES,
                                                        "kinds": KINDS, "form": form, "error": message},
                          status_code=400)
    return RedirectResponse(target, status_code=303)


@router.post("/returns/import", response_class=HTMLResponse)
def upload_refunds(request: Request, file: UploadFile = File(...), user: SignedInUser = Depends(current_user)) -> Response:
    name = safe_file_name(file.filename, 1)
    data = file.file.read(MAX_UPLOAD_BYTES + 1)
    with request.app.state.store.session() as session:
        choice = choose_shop(request, session)
        if choice.shop_id is None:
            raise HTTPException(status_code=400, detail="no shop yet / 还没有店铺")
        try:
            if len(data) > MAX_UPLOAD_BYTES:
                raise UnreadableRefunds(f"{name}: 文件过大 / larger than {MAX_UPLOAD_BYTES >> 20} MB")
            result = import_refunds(session, choice.shop_id, data, name)
            summary = result.to_json()
        except UnreadableRefunds as exc:
            session.rollback()
            summary = {"file": name, "error": str(exc)}
    summary["problems"] = summary.get("problems", [])[:20]
    return RedirectResponse("/returns?" + _query({"imported": json.dumps(summary, ensure_ascii=False)}), status_code=303)


def _query(params: dict[str, str]) -> str:
    from urllib.parse import urlencode
    return urlencode(params)


@router.get("/returns/reasons", response_class=HTMLResponse)
def reasons_page(request: Request, periods: int = 6, user: SignedInUser = Depends(current_user)) -> HTMLResponse:
    periods = max(1, min(int(periods), 24))
    with request.app.state.store.session() as session:
        choice = choose_shop(request, session)
        report = reason_report(session, choice.shop_id, periods=periods) if choice.shop_id else None
    lang = language_of(request)
    chart = None
    if report is not None:
        chart = {
            "labels": [f"{p.start:%m-%d}–{p.end:%m-%d}" for p in report.trend],
            "subjective": [p.subjective for p in report.trend], "objective": [p.objective for p in report.trend],
            "rate": [round(p.rate * 100, 2) for p in report.trend],
            "reasons": {"codes": list(report.by_reason), "values": list(report.by_reason.values()),
                        "names": [translate(lang, f"returns.reason.{code}") for code in report.by_reason]},
        }
    return render(request, "returns/reasons.html", {
        "shop_choice": choice, "report": report, "periods": periods, "reasons": REASONS,
        "chart_json": json.dumps(chart, ensure_ascii=False).replace("</", "<\\/") if chart else None})


def _detail_context(session, choice, req, error: str | None = None) -> dict:
    policy = policy_for(shop_rules(choice.current.settings if choice.current else None), req.category)
    now = datetime.now(UTC)
    return {"shop_choice": choice, "tz": choice.timezone, "r": req, "rules": rules_of(req), "reasons": REASONS,
            "checklist": policy.checklist, "conditions": CONDITIONS, "outcomes": OUTCOMES, "error": error,
            "due": due_state(req, now, _warning_days(choice)), "detail": _detail_values(req.decision_detail or {})}


def _detail_values(detail: dict) -> dict:
    """The stored decision detail with its times and amounts as values the template filters take."""
    values = dict(detail)
    for key in ("window_ends_at", "goodwill_ends_at", "refund_due_at"):
        values[key] = datetime.fromisoformat(detail[key]) if detail.get(key) else None
    for key in ("window_ends_at", "goodwill_ends_at"):  # shown as the last minute inside (23:59), not the next midnight
        if values[key] is not None:
            values[key] -= timedelta(minutes=1)
    values["refund_amount"] = Decimal(detail["refund_amount"]) if detail.get("refund_amount") else None
    return values


def _load(session, request: Request, request_id: str):
    choice = choose_shop(request, session)
    try:
        req = get_request(session, request_id)
    except ReturnNotFound:
        raise HTTPException(status_code=404, detail="no such return request") from None
    if choice.shop_id != req.shop_id:
        choice = choose_shop(request, session, req.shop_id)
    return choice, req


@router.get("/returns/{request_id}", response_class=HTMLResponse)
def request_page(request_id: str, request: Request, user: SignedInUser = Depends(current_user)) -> HTMLResponse:
    with request.app.state.store.session() as session:
        choice, req = _load(session, request, request_id)
        return render(request, "returns/detail.html", _detail_context(session, choice, req))


def _after(request: Request, request_id: str, run) -> Response:
    with request.app.state.store.session() as session:
        choice, req = _load(session, request, request_id)
        try:
            run(session, req)
        except ReturnsError as exc:
            session.rollback()
            choice, req = _load(session, request, request_id)
            return render(request, "returns/detail.html", _detail_context(session, choice, req, str(exc)),
                          status_code=400)
    return RedirectResponse(f"/returns/{request_id}", status_code=303)


@router.post("/returns/{request_id}/act")
def act_on_request(request_id: str, request: Request, outcome: str = Form(...), reason: str = Form(""),
                   user: SignedInUser = Depends(current_user)) -> Response:
    return _after(request, request_id, lambda session, req: act(session, req.id, outcome, by=user.username,
                                                                reason=reason))


@router.post("/returns/{request_id}/received")
async def return_received(request_id: str, request: Request, user: SignedInUser = Depends(current_user)) -> Response:
    form = await request.form()
    checks = {str(k)[6:]: form.get(k) == "1" for k in form.keys() if str(k).startswith("check_")}
    condition = str(form.get("condition") or "") or None
    resellable_text = str(form.get("resellable") or "")
    resellable = True if resellable_text == "yes" else False if resellable_text == "no" else None
    return _after(request, request_id, lambda session, req: record_return(
        session, req.id, checklist=checks, condition=condition, resellable=resellable, by=user.username))


@router.post("/returns/{request_id}/refunded")
def refunded(request_id: str, request: Request, user: SignedInUser = Depends(current_user)) -> Response:
    return _after(request, request_id, lambda session, req: mark_refunded(session, req.id, by=user.username))


@router.post("/returns/{request_id}/decide")
def decide_again(request_id: str, request: Request, user: SignedInUser = Depends(current_user)) -> Response:
    return _after(request, request_id, lambda session, req: apply_decision(session, req, now=datetime.now(UTC)))
