"""The inbox: conversations waiting for an answer, the chat with the buyer's card beside it, drafts, guarded replies, tasks."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from fastapi import APIRouter, Depends, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from kefu.services.buyer_card import buyer_card
from kefu.services.conversations import (
    INBOX_FILTERS,
    PERSONALITY_KINDS,
    ConversationNotFound,
    MessageError,
    get_conversation,
    import_chat_file,
    list_inbox,
    messages_of,
    open_case_from_conversation,
    set_personality,
    set_status,
)
from kefu.services.drafts import draft_for_conversation
from kefu.services.followups import FollowupNotFound, complete_followup, list_followups
from kefu.services.replies import ReplyBlocked, ReplyNeedsConfirmation, send_reply
from kefu.web.auth import SignedInUser, current_user
from kefu.web.shop_choice import choose_shop
from kefu.web.templating import is_htmx, render

router = APIRouter(include_in_schema=False)

MAX_UPLOAD_BYTES = 20 * 1024 * 1024


def _now() -> datetime:
    return datetime.now(UTC)


def _inbox_context(request: Request, session, *, conversation_id: str | None, status: str, search: str) -> dict:
    choice = choose_shop(request, session)
    status = status if status in INBOX_FILTERS else "waiting"
    page = list_inbox(session, choice.shop_id, status=status, search=search or None)
    conversation = None
    if conversation_id:
        try:
            conversation = get_conversation(session, conversation_id)
        except ConversationNotFound:
            raise HTTPException(status_code=404, detail="no such conversation") from None
        if conversation.shop_id != choice.shop_id:
            choice = choose_shop(request, session, conversation.shop_id)
    elif page.rows:
        conversation = page.rows[0].conversation
    now = _now()
    return {
        "shop_choice": choice, "tz": choice.timezone, "page": page, "status": status, "search": search,
        "statuses": INBOX_FILTERS, "conversation": conversation,
        "messages": messages_of(session, conversation.id) if conversation else [],
        "card": buyer_card(session, conversation.customer_id, now=now) if conversation else None,
        "tasks": list_followups(session, choice.shop_id, now=now),
        "personalities": PERSONALITY_KINDS, "reply": None, "draft": None, "guard": None, "reply_text": "",
    }


@router.get("/inbox", response_class=HTMLResponse)
def inbox_page(request: Request, c: str = "", status: str = "waiting", q: str = "",
               user: SignedInUser = Depends(current_user)) -> HTMLResponse:
    with request.app.state.store.session() as session:
        context = _inbox_context(request, session, conversation_id=c or None, status=status, search=q)
        return render(request, "inbox/page.html", context)


@router.get("/inbox/{conversation_id}/draft", response_class=HTMLResponse)
def draft_panel(conversation_id: str, request: Request, at_fault: str = "", personality: str = "",
                user: SignedInUser = Depends(current_user)) -> HTMLResponse:
    """The reply box filled with a draft for the buyer's latest message, its citations and the guard's verdict."""
    fault = {"yes": True, "no": False}.get(at_fault)
    with request.app.state.store.session() as session:
        try:
            view = draft_for_conversation(session, conversation_id, now=_now(), shop_at_fault=fault,
                                          personality=personality if personality in PERSONALITY_KINDS else None,
                                          by=user.username)
            conversation = get_conversation(session, conversation_id)
        except ConversationNotFound:
            raise HTTPException(status_code=404, detail="no such conversation") from None
        context = {"conversation": conversation, "draft": view.draft, "guard": view.guard,
                   "reply_text": view.draft.text if view.draft else "", "at_fault": at_fault,
                   "citations_json": json.dumps([c.__dict__ for c in view.draft.citations], ensure_ascii=False)
                   if view.draft else "[]", "followups": view.followups, "personalities": PERSONALITY_KINDS}
        return render(request, "inbox/_reply.html", context)


@router.post("/inbox/{conversation_id}/reply", response_class=HTMLResponse)
def reply(conversation_id: str, request: Request, text: str = Form(""), confirm: str = Form(""),
          from_draft: str = Form(""), citations: str = Form("[]"),
          user: SignedInUser = Depends(current_user)) -> Response:
    """Send a reply through the promise guard; a block or an unconfirmed warning comes back with the safer wording."""
    try:
        cited = json.loads(citations or "[]")
        cited = cited if isinstance(cited, list) else []
    except json.JSONDecodeError:
        cited = []
    with request.app.state.store.session() as session:
        try:
            send_reply(session, conversation_id, text, author=user.label, now=_now(), confirm_warnings=bool(confirm),
                       citations=cited, from_draft=bool(from_draft))
        except ConversationNotFound:
            raise HTTPException(status_code=404, detail="no such conversation") from None
        except (ReplyBlocked, ReplyNeedsConfirmation, MessageError) as exc:
            guard = getattr(exc, "guard", None)
            session.rollback()
            conversation = get_conversation(session, conversation_id)
            context = {"conversation": conversation, "draft": None, "guard": guard, "reply_text": text,
                       "citations_json": citations, "from_draft": from_draft, "error": str(exc) if guard is None else None,
                       "needs_confirm": isinstance(exc, ReplyNeedsConfirmation), "personalities": PERSONALITY_KINDS,
                       "followups": ()}
            if is_htmx(request):
                return render(request, "inbox/_reply.html", context)
            full = _inbox_context(request, session, conversation_id=conversation_id, status="all", search="")
            full.update(context)
            return render(request, "inbox/page.html", full, status_code=422)
    target = f"/inbox?c={conversation_id}&status=all"
    if is_htmx(request):
        return Response(status_code=204, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


@router.post("/inbox/{conversation_id}/personality")
def personality(conversation_id: str, request: Request, kind: str = Form(""),
                user: SignedInUser = Depends(current_user)) -> Response:
    with request.app.state.store.session() as session:
        try:
            conversation = get_conversation(session, conversation_id)
            if conversation.customer_id:
                set_personality(session, conversation.customer_id, kind or None, by=user.username, now=_now())
        except ConversationNotFound:
            raise HTTPException(status_code=404, detail="no such conversation") from None
        except MessageError as exc:
            raise HTTPException(status_code=422, detail=str(exc)) from None
    return RedirectResponse(f"/inbox?c={conversation_id}&status=all", status_code=303)


@router.post("/inbox/{conversation_id}/status")
def conversation_status(conversation_id: str, request: Request, status: str = Form(...),
                        user: SignedInUser = Depends(current_user)) -> Response:
    with request.app.state.store.session() as session:
        try:
            set_status(session, conversation_id, status)
        except ConversationNotFound:
            raise HTTPException(status_code=404, detail="no such conversation") from None
        except MessageError as exc:
            raise HTTPException(status_code=422, detail=str(exc)) from None
    return RedirectResponse(f"/inbox?c={conversation_id}&status=all", status_code=303)


@router.post("/inbox/{conversation_id}/case")
def open_case(conversation_id: str, request: Request, user: SignedInUser = Depends(current_user)) -> Response:
    """Turn the buyer's latest message into a complaint case and open it."""
    with request.app.state.store.session() as session:
        try:
            case_id = open_case_from_conversation(session, conversation_id, opened_by=user.username, now=_now())
        except ConversationNotFound:
            raise HTTPException(status_code=404, detail="no such conversation") from None
        except (MessageError, ValueError) as exc:
            raise HTTPException(status_code=422, detail=str(exc)) from None
    return RedirectResponse(f"/cases/{case_id}", status_code=303)


@router.post("/inbox/tasks/{task_id}/done")
def task_done(task_id: str, request: Request, next: str = Form("/inbox"),
              user: SignedInUser = Depends(current_user)) -> Response:
    with request.app.state.store.session() as session:
        try:
            complete_followup(session, task_id, by=user.username, now=_now())
        except FollowupNotFound:
            raise HTTPException(status_code=404, detail="no such task") from None
    target = next if next.startswith("/inbox") else "/inbox"
    return RedirectResponse(target, status_code=303)


@router.post("/inbox/import", response_class=HTMLResponse)
def import_chats(request: Request, file: UploadFile = File(...), user: SignedInUser = Depends(current_user)) -> Response:
    """A chat log uploaded from the inbox (千牛 text, CSV or JSONL); the problems are shown by file:line."""
    data = file.file.read(MAX_UPLOAD_BYTES + 1)
    with request.app.state.store.session() as session:
        choice = choose_shop(request, session)
        if choice.shop_id is None:
            raise HTTPException(status_code=422, detail="no shop yet / 还没有店铺")
        if len(data) > MAX_UPLOAD_BYTES:
            result = None
            error = f"file larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MiB"
        else:
            result = import_chat_file(session, choice.shop_id, file.filename or "chat.txt", data, user=user.username,
                                      now=_now())
            error = None
        context = _inbox_context(request, session, conversation_id=None, status="all", search="")
        context.update({"import_result": result, "import_error": error})
        return render(request, "inbox/page.html", context)
