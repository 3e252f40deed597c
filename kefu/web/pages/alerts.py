"""Alert queue page: parcel-watch alerts filtered by kind, status, carrier and province, acknowledged or resolved in place."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from kefu.domain.rules.watch import KINDS
from kefu.services.watch import (
    STATUS_FILTERS,
    AlertNotFound,
    acknowledge_alert,
    alert_row,
    list_alerts,
    open_alert_count,
    queue_options,
    resolve_alert,
)
from kefu.web.auth import SignedInUser, current_user
from kefu.web.shop_choice import choose_shop
from kefu.web.templating import is_htmx, render

router = APIRouter(include_in_schema=False)

PER_PAGE = 50


@router.get("/alerts", response_class=HTMLResponse)
def alerts_page(
    request: Request, kind: str = "", status: str = "live", carrier: str = "", province: str = "", page: int = 1,
    user: SignedInUser = Depends(current_user),
) -> HTMLResponse:
    status = status if status in STATUS_FILTERS else "live"
    with request.app.state.store.session() as session:
        choice = choose_shop(request, session)
        options = queue_options(session, choice.shop_id)
        # parcel-watch kinds always, plus whatever else the shop has live (stock, returns, promises)
        kinds = [*KINDS, *(k for k in options["kinds"] if k not in KINDS)]
        kind = kind if kind in kinds else ""
        result = list_alerts(session, shop_id=choice.shop_id, kind=kind or None, status=status,
                             carrier=carrier.strip() or None, province=province.strip() or None, page=page,
                             per_page=PER_PAGE)
    context = {
        "shop_choice": choice, "tz": choice.timezone, "result": result, "options": options, "kinds": kinds,
        "statuses": STATUS_FILTERS, "kind": kind, "status": status, "carrier": carrier, "province": province,
        "params": {k: v for k, v in {"kind": kind, "status": status if status != "live" else "", "carrier": carrier,
                                     "province": province}.items() if v},
    }
    if is_htmx(request) and request.headers.get("hx-target") == "alerts-table":
        return render(request, "alerts/_table.html", context)
    return render(request, "alerts/list.html", context)


@router.get("/alerts/count", response_class=HTMLResponse)
def alerts_count(request: Request, user: SignedInUser = Depends(current_user)) -> HTMLResponse:
    """The open-alert badge of the left navigation (loaded by HTMX on every page)."""
    with request.app.state.store.session() as session:
        count = open_alert_count(session, choose_shop(request, session).shop_id)
    return render(request, "alerts/_count.html", {"count": count})


def _act(request: Request, alert_id: str, user: SignedInUser, action) -> Response:
    with request.app.state.store.session() as session:
        try:
            action(session, alert_id, user.username)
            row = alert_row(session, alert_id)
        except AlertNotFound:
            raise HTTPException(status_code=404, detail="no such alert") from None
        tz = choose_shop(request, session, row.alert.shop_id).timezone
    if is_htmx(request):
        return render(request, "alerts/_row.html", {"r": row, "tz": tz})
    return RedirectResponse("/alerts", status_code=303)


@router.post("/alerts/{alert_id}/acknowledge")
def acknowledge(alert_id: str, request: Request, user: SignedInUser = Depends(current_user)) -> Response:
    return _act(request, alert_id, user, acknowledge_alert)


@router.post("/alerts/{alert_id}/resolve")
def resolve(alert_id: str, request: Request, user: SignedInUser = Depends(current_user)) -> Response:
    return _act(request, alert_id, user, resolve_alert)
