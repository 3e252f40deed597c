"""The stock page (/stock): SKU levels with safety stock, days of cover and sell-through, stockout cases with the
buyer's options and the agent's buttons, the cancelled share; stock file upload, the check and the pre-sale switch."""

from __future__ import annotations

import tempfile
from datetime import UTC, date, datetime
from pathlib import Path

from fastapi import APIRouter, Depends, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from kefu.domain.stock.buyer_choice import OPTIONS
from kefu.config import shop_rules
from kefu.domain.stock.levels import LOW, OUT, stock_policy
from kefu.services.import_stock import import_stock_file
from kefu.services.stock_check import run_stock_pass
from kefu.services.stock_demand import shop_demand
from kefu.services.stock_levels import presale_candidates, shop_sell_through, sku_levels
from kefu.services.stockouts import (
    CaseNotFound,
    ChoiceRefused,
    case_figures,
    case_view,
    choose,
    list_cases,
    record_reply,
    switch_to_presale,
)
from kefu.store.stock_tables import StockoutCase
from kefu.web.auth import SignedInUser, current_user
from kefu.web.shop_choice import choose_shop
from kefu.web.templating import is_htmx, render
from kefu.web.uploads import safe_file_name

router = APIRouter(include_in_schema=False)

CASE_FILTERS = ("live", "done", "cancelled", "all")
PERIODS = (7, 30, 90, 365)  # sell-through periods offered on the page (the shop's own default is added)
SHOWN_SKUS = 500


def _now() -> datetime:
    return datetime.now(UTC)


def _page_context(request: Request, session, *, q: str, low: bool, cases: str, days: int | None) -> dict:
    choice = choose_shop(request, session)
    context = {"shop_choice": choice, "tz": choice.timezone, "q": q, "low": low, "cases_filter": cases,
               "case_filters": CASE_FILTERS, "options": OPTIONS, "levels": [], "cases": [], "figures": None,
               "rate": None, "presale_ids": set(), "days": days, "periods": PERIODS}
    if choice.shop_id is None:
        return context
    now = _now()
    demand = shop_demand(session, choice.shop_id)
    levels = sku_levels(session, choice.shop_id, now=now, q=q or None, demand=demand)
    context.update(
        levels=[lv for lv in levels if lv.status in (OUT, LOW)][:SHOWN_SKUS] if low else levels[:SHOWN_SKUS],
        sku_total=len(levels),
        cases=list_cases(session, choice.shop_id, status=cases),
        figures=case_figures(session, choice.shop_id),
        rate=shop_sell_through(session, choice.shop_id, now=now, days=days, demand=demand),
        days=days or stock_policy(shop_rules(choice.current.settings)).sell_through_days,
        presale_ids={lv.sku.id for lv in presale_candidates(levels, today=now.date())},
        counts={status: sum(1 for lv in levels if lv.status == status) for status in (OUT, LOW)},
    )
    return context


@router.get("/stock", response_class=HTMLResponse)
def stock_page(request: Request, q: str = "", low: bool = False, cases: str = "live", days: int | None = None,
               user: SignedInUser = Depends(current_user)) -> HTMLResponse:
    cases = cases if cases in CASE_FILTERS else "live"
    days = days if days and 0 < days <= 3650 else None
    with request.app.state.store.session() as session:
        context = _page_context(request, session, q=q.strip(), low=low, cases=cases, days=days)
        if is_htmx(request) and request.headers.get("hx-target") == "stock-table":
            return render(request, "stock/_levels.html", context)
        return render(request, "stock/page.html", context)


@router.post("/stock/check")
def stock_check(request: Request, user: SignedInUser = Depends(current_user)) -> Response:
    with request.app.state.store.session() as session:
        choice = choose_shop(request, session)
        if choice.shop_id:
            run_stock_pass(session, choice.shop_id, now=_now(), actor=user.username)
    return RedirectResponse("/stock", status_code=303)


def _case_row(request: Request, session, case: StockoutCase, note: str | None = None, ok: bool = True) -> HTMLResponse:
    tz = choose_shop(request, session, case.shop_id).timezone
    return render(request, "stock/_case.html", {"c": case_view(session, case), "tz": tz, "note": note, "ok": ok,
                                                "options": OPTIONS})


@router.post("/stock/cases/{case_id}/choose", response_class=HTMLResponse)
def choose_option(case_id: str, request: Request, option: str = Form(...), substitute_sku_id: str = Form(""),
                  wait_until: str = Form(""), user: SignedInUser = Depends(current_user)) -> Response:
    """An agent clicks the buyer's option (after a chat or a call)."""
    until = None
    if wait_until.strip():
        try:
            until = date.fromisoformat(wait_until.strip())
        except ValueError:
            raise HTTPException(status_code=422, detail="wait_until: a date such as 2026-12-05") from None
    with request.app.state.store.session() as session:
        note, ok = None, True
        try:
            with session.begin_nested():
                choose(session, case_id, option, by=user.username, now=_now(), substitute_sku_id=substitute_sku_id or None,
                       wait_until=until)
        except CaseNotFound:
            raise HTTPException(status_code=404, detail="no such stockout case") from None
        except ChoiceRefused as exc:
            note, ok = str(exc), False
        case = session.get(StockoutCase, case_id)
        if not is_htmx(request):
            return RedirectResponse("/stock", status_code=303)
        return _case_row(request, session, case, note, ok)


@router.post("/stock/cases/{case_id}/reply", response_class=HTMLResponse)
def buyer_reply(case_id: str, request: Request, text: str = Form(...),
                user: SignedInUser = Depends(current_user)) -> Response:
    """An agent pastes the buyer's reply; kefu reads the choice from it and carries it out."""
    with request.app.state.store.session() as session:
        try:
            result = record_reply(session, case_id, text, now=_now())
        except CaseNotFound:
            raise HTTPException(status_code=404, detail="no such stockout case") from None
        if not result.choice.understood:
            note, ok = "not_understood", False
        elif result.refused:
            note, ok = result.refused, False
        else:
            note, ok = None, True
        if not is_htmx(request):
            return RedirectResponse("/stock", status_code=303)
        return _case_row(request, session, result.case, note, ok)


@router.post("/stock/skus/{sku_id}/presale")
def presale(sku_id: str, request: Request, restock_date: str = Form(""),
            user: SignedInUser = Depends(current_user)) -> Response:
    when = None
    if restock_date.strip():
        try:
            when = date.fromisoformat(restock_date.strip())
        except ValueError:
            raise HTTPException(status_code=422, detail="restock_date: a date such as 2026-12-05") from None
    with request.app.state.store.session() as session:
        try:
            switch_to_presale(session, sku_id, now=_now(), by=user.username, restock_date=when)
        except LookupError:
            raise HTTPException(status_code=404, detail="no such SKU") from None
        except ChoiceRefused as exc:
            raise HTTPException(status_code=422, detail=str(exc)) from None
    return RedirectResponse("/stock", status_code=303)


@router.post("/stock/import", response_class=HTMLResponse)
def upload_stock(request: Request, file: UploadFile = File(...), user: SignedInUser = Depends(current_user)) -> Response:
    """Upload a stock file (CSV or xlsx); the result names every rejected row by line."""
    store = request.app.state.store
    with store.session() as session:
        shop_id = choose_shop(request, session).shop_id
    name = safe_file_name(file.filename, 1)
    with tempfile.TemporaryDirectory(prefix="kefu-stock-") as tmp:
        path = Path(tmp) / name
        with path.open("wb") as out:
            while chunk := file.file.read(1 << 20):
                out.write(chunk)
        result = import_stock_file(store, path, shop_id, by=user.username, display_name=name)
    if result.ok and result.shop_id:
        with store.session() as session:
            run_stock_pass(session, result.shop_id, now=_now(), actor=user.username)
    return render(request, "stock/_import_result.html", {"result": result})
