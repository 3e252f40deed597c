"""Messages in the workbench: the outbox (/messages) with dead-letter retry, lifecycle templates with live preview and
the shop's voice (/messages/templates), the delay apology from an alert, and the customer's one timeline."""

from __future__ import annotations

from datetime import datetime, timezone

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from kefu.domain.messaging.rules import VOICES, RulesProblem
from kefu.domain.messaging.templates import TEMPLATE_KEYS, VARIABLES, TemplateProblem
from kefu.services.delivery import retry_dead
from kefu.services.lifecycle import AlertNotMessageable, delay_apology_preview, send_delay_apology
from kefu.services.message_templates import (
    list_templates,
    messaging_settings,
    preview_template,
    reset_template,
    save_messaging_settings,
    save_template,
)
from kefu.services.outbox_view import (
    FILTERS,
    MessageRow,
    event_names,
    list_messages,
    message_decisions,
    status_counts,
)
from kefu.services.timeline import customer_timeline
from kefu.store.messaging_tables import OutboxMessage
from kefu.store.tables import Alert, Customer
from kefu.web.auth import SignedInUser, current_user, require_owner
from kefu.web.shop_choice import choose_shop
from kefu.web.templating import is_htmx, render

router = APIRouter(include_in_schema=False)

PER_PAGE = 50


def _now() -> datetime:
    return datetime.now(timezone.utc)


@router.get("/messages", response_class=HTMLResponse)
def messages_page(request: Request, status: str = "all", event: str = "", purpose: str = "", page: int = 1,
                  user: SignedInUser = Depends(current_user)) -> HTMLResponse:
    status = status if status in FILTERS else "all"
    with request.app.state.store.session() as session:
        choice = choose_shop(request, session)
        result = list_messages(session, shop_id=choice.shop_id, status=status, event=event or None,
                               purpose=purpose or None, page=page, per_page=PER_PAGE)
        counts = status_counts(session, choice.shop_id)
        events = event_names(session, choice.shop_id)
    context = {
        "shop_choice": choice, "tz": choice.timezone, "result": result, "counts": counts, "filters": FILTERS,
        "events": events, "status": status, "event": event, "purpose": purpose, "section": "messages",
        "params": {k: v for k, v in {"status": status if status != "all" else "", "event": event,
                                     "purpose": purpose}.items() if v},
    }
    if is_htmx(request) and request.headers.get("hx-target") == "messages-table":
        return render(request, "messages/_table.html", context)
    return render(request, "messages/list.html", context)


@router.get("/messages/templates", response_class=HTMLResponse)
def templates_page(request: Request, voice: str = "", user: SignedInUser = Depends(current_user)) -> HTMLResponse:
    with request.app.state.store.session() as session:
        choice = choose_shop(request, session)
        if choice.shop_id is None:
            return render(request, "messages/templates.html", {"shop_choice": choice, "views": [], "section": "messages",
                                                               "settings": {}, "voice": "plain", "voices": VOICES,
                                                               "variables": VARIABLES})
        settings = messaging_settings(session, choice.shop_id)
        voice = voice if voice in VOICES else settings.get("voice", "plain")
        views = list_templates(session, choice.shop_id, voice)
    return render(request, "messages/templates.html", {
        "shop_choice": choice, "views": views, "settings": settings, "voice": voice, "voices": VOICES,
        "variables": VARIABLES, "section": "messages", "saved": request.query_params.get("saved"),
    })


def _shop_id(request: Request, session) -> str:
    shop_id = choose_shop(request, session).shop_id
    if shop_id is None:
        raise HTTPException(status_code=404, detail="no shop yet / 还没有店铺")
    return shop_id


def _template_key(key: str) -> str:
    if key not in TEMPLATE_KEYS:
        raise HTTPException(status_code=404, detail=f"unknown template / 未知模板: {key}")
    return key


@router.post("/messages/templates/preview", response_class=HTMLResponse)
def template_preview(request: Request, key: str = Form(...), voice: str = Form("plain"), body: str = Form(""),
                     user: SignedInUser = Depends(current_user)) -> HTMLResponse:
    """The live preview under the editor: the text this body sends for the sample order, or what is wrong with it."""
    with request.app.state.store.session() as session:
        try:
            text, problem = preview_template(session, _shop_id(request, session), _template_key(key), voice, body), None
        except TemplateProblem as exc:
            text, problem = None, str(exc)
    return render(request, "messages/_preview.html", {"text": text, "problem": problem})


@router.post("/messages/templates/save", response_class=HTMLResponse)
def template_save(request: Request, key: str = Form(...), voice: str = Form("plain"), body: str = Form(""),
                  user: SignedInUser = Depends(require_owner)) -> Response:
    with request.app.state.store.session() as session:
        try:
            save_template(session, _shop_id(request, session), _template_key(key), voice, body, actor=user.username,
                          now=_now())
        except TemplateProblem as exc:
            return render(request, "messages/_preview.html", {"text": None, "problem": str(exc)}, status_code=422)
    if is_htmx(request):
        return render(request, "messages/_preview.html", {"text": None, "problem": None, "saved": True})
    return RedirectResponse(f"/messages/templates?voice={voice}&saved={key}", status_code=303)


@router.post("/messages/templates/reset")
def template_reset(request: Request, key: str = Form(...), voice: str = Form("plain"),
                   user: SignedInUser = Depends(require_owner)) -> Response:
    with request.app.state.store.session() as session:
        reset_template(session, _shop_id(request, session), _template_key(key), voice)
    return RedirectResponse(f"/messages/templates?voice={voice}", status_code=303)


@router.post("/messages/settings", response_class=HTMLResponse)
def settings_save(request: Request, voice: str = Form("plain"), persona_name: str = Form(""),
                  form_of_address: str = Form(""), quiet_start: str = Form("21:00"), quiet_end: str = Form("08:00"),
                  cap_transactional: int = Form(4), cap_marketing: int = Form(1), lookback_hours: float = Form(48),
                  user: SignedInUser = Depends(require_owner)) -> Response:
    changes = {
        "voice": voice, "persona_name": persona_name.strip()[:20], "form_of_address": form_of_address.strip()[:20],
        "quiet_hours": {"start": quiet_start, "end": quiet_end},
        "daily_cap": {"transactional": max(0, cap_transactional), "marketing": max(0, cap_marketing)},
        "lookback_hours": max(0.0, lookback_hours),
    }
    with request.app.state.store.session() as session:
        try:
            save_messaging_settings(session, _shop_id(request, session), changes)
        except RulesProblem as exc:
            raise HTTPException(status_code=422, detail=str(exc)) from None
    return RedirectResponse(f"/messages/templates?voice={voice}&saved=settings", status_code=303)


def _message_or_404(session, message_id: str) -> OutboxMessage:
    row = session.get(OutboxMessage, message_id)
    if row is None:
        raise HTTPException(status_code=404, detail="no such message / 没有这条消息")
    return row


@router.post("/messages/{message_id}/retry")
def retry(message_id: str, request: Request, user: SignedInUser = Depends(current_user)) -> Response:
    """The dead-letter retry button: the message is queued again with its attempts reset."""
    with request.app.state.store.session() as session:
        row = _message_or_404(session, message_id)
        retry_dead(session, message_id, actor=user.username, now=_now())
        session.refresh(row)
        tz = choose_shop(request, session, row.shop_id).timezone
        item = MessageRow(row, None, None)
    if is_htmx(request):
        return render(request, "messages/_row.html", {"r": item, "tz": tz})
    return RedirectResponse("/messages?status=dead", status_code=303)


@router.get("/messages/{message_id}/decisions", response_class=HTMLResponse)
def decisions(message_id: str, request: Request, user: SignedInUser = Depends(current_user)) -> HTMLResponse:
    with request.app.state.store.session() as session:
        row = _message_or_404(session, message_id)
        tz = choose_shop(request, session, row.shop_id).timezone
        items = message_decisions(session, message_id)
    return render(request, "messages/_decisions.html", {"decisions": items, "tz": tz})


# ---- the delay apology from an alert ----


@router.get("/alerts/{alert_id}/apology", response_class=HTMLResponse)
def apology_preview(alert_id: str, request: Request, user: SignedInUser = Depends(current_user)) -> HTMLResponse:
    """The delay apology as the buyer would read it, in the shop's voice, with the send button."""
    with request.app.state.store.session() as session:
        try:
            text = delay_apology_preview(session, alert_id)
        except (AlertNotMessageable, TemplateProblem) as exc:
            return render(request, "messages/_apology.html", {"alert_id": alert_id, "problem": str(exc)})
    return render(request, "messages/_apology.html", {"alert_id": alert_id, "text": text})


@router.post("/alerts/{alert_id}/apology", response_class=HTMLResponse)
def apology_send(alert_id: str, request: Request, user: SignedInUser = Depends(current_user)) -> HTMLResponse:
    with request.app.state.store.session() as session:
        if session.get(Alert, alert_id) is None:
            raise HTTPException(status_code=404, detail="no such alert")
        try:
            result = send_delay_apology(session, alert_id, actor=user.username, now=_now())
        except AlertNotMessageable as exc:
            return render(request, "messages/_apology.html", {"alert_id": alert_id, "problem": str(exc)})
    return render(request, "messages/_apology.html", {"alert_id": alert_id, "result": result, "text": result.text})


# ---- the customer's one timeline ----


@router.get("/customers/{customer_id}/timeline", response_class=HTMLResponse)
def timeline(customer_id: str, request: Request, limit: int = 200,
             user: SignedInUser = Depends(current_user)) -> HTMLResponse:
    """Orders, parcels, alerts, notes and every message sent or suppressed (and why), newest first."""
    with request.app.state.store.session() as session:
        customer = session.get(Customer, customer_id)
        if customer is None:
            raise HTTPException(status_code=404, detail="no such customer")
        tz = choose_shop(request, session, customer.shop_id).timezone
        items = customer_timeline(session, customer_id, limit=max(1, min(limit, 1000)))
    return render(request, "customers/_timeline.html", {"items": items, "tz": tz})
