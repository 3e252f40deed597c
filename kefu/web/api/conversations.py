"""REST: conversations and live messages (inbound buyer messages, guarded replies), drafts, follow-ups, knowledge, KPIs."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from fastapi import APIRouter, Depends, File, HTTPException, Query, Request, UploadFile
from pydantic import BaseModel, Field

from kefu.services.conversations import (
    INBOX_FILTERS,
    ConversationNotFound,
    MessageError,
    add_message,
    conversation_json,
    get_conversation,
    import_chat_file,
    list_inbox,
    message_json,
    messages_of,
    receive_buyer_message,
    refresh_personality,
)
from kefu.services.drafts import draft_for_conversation
from kefu.services.followups import FollowupNotFound, complete_followup, followup_json, list_followups
from kefu.services.knowledge import EntryNotFound, KnowledgeError, entry_json, list_entries, save_entry, search_knowledge
from kefu.services.replies import ReplyBlocked, ReplyNeedsConfirmation, send_reply
from kefu.services.response_kpis import shop_kpis
from kefu.web.auth import SignedInUser, current_user
from kefu.web.shop_choice import choose_shop

router = APIRouter(tags=["conversations"])

MAX_UPLOAD_BYTES = 20 * 1024 * 1024


def _now() -> datetime:
    return datetime.now(UTC)


class MessageIn(BaseModel):
    text: str = Field(..., description="消息内容 / the message text")
    sender: Literal["seller", "buyer"] = Field("seller", description="seller = an agent's reply (guarded, via the outbox); buyer = a buyer message")
    sent_at: datetime | None = Field(None, description="buyer messages only; default now")
    confirm_warnings: bool = Field(False, description="send although the promise guard warns (never when it blocks)")


class InboundIn(BaseModel):
    buyer: str = Field(..., description="买家昵称 / buyer nick")
    text: str
    shop: str | None = Field(None, description="shop id or name; default: the current shop")
    channel: str = "qianniu"
    sent_at: datetime | None = None


class KnowledgeIn(BaseModel):
    kind: str
    title: str
    body: str = ""
    data: dict[str, Any] = Field(default_factory=dict)
    product_id: str | None = None
    active: bool = True
    id: str | None = Field(None, description="an entry to change; empty creates one")


def _conversation_or_404(session, conversation_id: str):
    try:
        return get_conversation(session, conversation_id)
    except ConversationNotFound:
        raise HTTPException(status_code=404, detail=f"no conversation {conversation_id}") from None


def _shop_or_422(request: Request, session, shop: str | None):
    choice = choose_shop(request, session, shop)
    if choice.shop_id is None:
        raise HTTPException(status_code=422, detail="no shop yet / 还没有店铺")
    return choice


@router.get("/conversations", summary="会话列表 / List conversations")
def get_conversations(request: Request, status: str = Query("waiting", description=", ".join(INBOX_FILTERS)),
                      q: str | None = None, shop: str | None = None, limit: int = Query(100, ge=1, le=500),
                      user: SignedInUser = Depends(current_user)) -> dict:
    if status not in INBOX_FILTERS:
        raise HTTPException(status_code=422, detail=f"status: one of {', '.join(INBOX_FILTERS)}")
    with request.app.state.store.session() as session:
        choice = choose_shop(request, session, shop)
        page = list_inbox(session, choice.shop_id, status=status, search=q, limit=limit)
        return {"items": [{**conversation_json(r.conversation), "last_text": r.last_text, "value_tier": r.value_tier,
                           "personality": r.personality, "open_followups": r.open_followups} for r in page.rows],
                "total": page.total, "counts": page.counts}


@router.get("/conversations/{conversation_id}", summary="会话与消息 / One conversation with its messages")
def get_one(conversation_id: str, request: Request, user: SignedInUser = Depends(current_user)) -> dict:
    with request.app.state.store.session() as session:
        conversation = _conversation_or_404(session, conversation_id)
        return {**conversation_json(conversation), "messages": [message_json(m) for m in messages_of(session, conversation_id)]}


@router.post("/conversations/{conversation_id}/messages", status_code=201,
             summary="发消息 / Post a message (an agent's reply through the promise guard and outbox, or a buyer's)")
def post_message(conversation_id: str, body: MessageIn, request: Request, user: SignedInUser = Depends(current_user)) -> dict:
    with request.app.state.store.session() as session:
        conversation = _conversation_or_404(session, conversation_id)
        try:
            if body.sender == "buyer":
                message = add_message(session, conversation, sender="buyer", text=body.text,
                                      sent_at=body.sent_at or _now(), source="api", now=_now())
                if conversation.customer_id:
                    refresh_personality(session, conversation.customer_id, now=_now())
                return {"message": message_json(message)}
            sent = send_reply(session, conversation_id, body.text, author=user.label, now=_now(),
                              confirm_warnings=body.confirm_warnings)
        except ReplyBlocked as exc:
            raise HTTPException(status_code=422, detail={"error": "blocked by the promise guard / 承诺风险，已拦截",
                                                         "guard": exc.guard.as_json()}) from None
        except ReplyNeedsConfirmation as exc:
            raise HTTPException(status_code=409, detail={"error": "the promise guard warns; resend with confirm_warnings / 有承诺风险，确认后再发",
                                                         "guard": exc.guard.as_json()}) from None
        except MessageError as exc:
            raise HTTPException(status_code=422, detail=str(exc)) from None
        return {"message": message_json(sent.message), "guard": sent.guard.as_json(), "outbox_status": sent.outbox_status,
                "outbox_reason": sent.outbox_reason}


@router.post("/conversations/inbound", status_code=201, summary="买家来消息 / An inbound buyer message")
def post_inbound(body: InboundIn, request: Request, user: SignedInUser = Depends(current_user)) -> dict:
    with request.app.state.store.session() as session:
        choice = _shop_or_422(request, session, body.shop)
        try:
            message = receive_buyer_message(session, shop_id=choice.shop_id, buyer=body.buyer, text=body.text,
                                            sent_at=body.sent_at, channel=body.channel, now=_now())
        except MessageError as exc:
            raise HTTPException(status_code=422, detail=str(exc)) from None
        return {"message": message_json(message), "conversation": conversation_json(get_conversation(session, message.conversation_id))}


@router.get("/conversations/{conversation_id}/draft", summary="回复草稿 / A reply draft for the latest buyer message")
def get_draft(conversation_id: str, request: Request, at_fault: bool | None = None, personality: str | None = None,
              user: SignedInUser = Depends(current_user)) -> dict:
    with request.app.state.store.session() as session:
        _conversation_or_404(session, conversation_id)
        view = draft_for_conversation(session, conversation_id, now=_now(), shop_at_fault=at_fault,
                                      personality=personality, by=user.username)
        return view.as_json()


@router.post("/conversations/import", status_code=201, summary="导入聊天记录 / Import a chat log (千牛 text, CSV, JSONL)")
def post_import(request: Request, file: UploadFile = File(...), shop: str | None = None,
                user: SignedInUser = Depends(current_user)) -> dict:
    data = file.file.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise HTTPException(status_code=413, detail="file too large")
    with request.app.state.store.session() as session:
        choice = _shop_or_422(request, session, shop)
        return import_chat_file(session, choice.shop_id, file.filename or "chat.txt", data, user=user.username,
                                now=_now()).as_json()


@router.get("/followups", tags=["followups"], summary="待跟进任务 / Follow-up tasks")
def get_followups(request: Request, status: str = Query("open", description="open, done or all"), shop: str | None = None,
                  user: SignedInUser = Depends(current_user)) -> dict:
    now = _now()
    with request.app.state.store.session() as session:
        choice = choose_shop(request, session, shop)
        return {"items": [followup_json(v.task, now) for v in list_followups(session, choice.shop_id, status=status, now=now)]}


@router.post("/followups/{task_id}/done", tags=["followups"], summary="完成任务 / Mark a follow-up done")
def post_followup_done(task_id: str, request: Request, user: SignedInUser = Depends(current_user)) -> dict:
    with request.app.state.store.session() as session:
        try:
            return followup_json(complete_followup(session, task_id, by=user.username, now=_now()))
        except FollowupNotFound:
            raise HTTPException(status_code=404, detail=f"no follow-up {task_id}") from None


@router.get("/knowledge", tags=["knowledge"], summary="知识库 / Knowledge entries")
def get_knowledge(request: Request, kind: str | None = None, q: str | None = Query(None, description="rank by a question"),
                  shop: str | None = None, user: SignedInUser = Depends(current_user)) -> dict:
    with request.app.state.store.session() as session:
        choice = choose_shop(request, session, shop)
        if q and choice.shop_id:
            return {"items": [{"id": r.entry.id, "kind": r.entry.kind, "title": r.entry.title, "score": r.score}
                              for r in search_knowledge(session, choice.shop_id, q)]}
        return {"items": [entry_json(e) for e in list_entries(session, choice.shop_id, kind=kind)]}


@router.post("/knowledge", tags=["knowledge"], status_code=201, summary="保存知识条目 / Create or change an entry")
def post_knowledge(body: KnowledgeIn, request: Request, shop: str | None = None,
                   user: SignedInUser = Depends(current_user)) -> dict:
    with request.app.state.store.session() as session:
        choice = _shop_or_422(request, session, shop)
        try:
            saved = save_entry(session, shop_id=choice.shop_id, kind=body.kind, title=body.title, body=body.body,
                               data=body.data, product_id=body.product_id, active=body.active, entry_id=body.id,
                               by=user.username)
        except KnowledgeError as exc:
            raise HTTPException(status_code=422, detail=str(exc)) from None
        except EntryNotFound:
            raise HTTPException(status_code=404, detail=f"no entry {body.id}") from None
        return {**entry_json(saved.entry), "warnings": list(saved.warnings)}


@router.get("/kpis/response", tags=["kpis"], summary="响应指标 / Response KPIs (3-minute rate, times, conversion)")
def get_response_kpis(request: Request, shop: str | None = None, user: SignedInUser = Depends(current_user)) -> dict:
    with request.app.state.store.session() as session:
        choice = _shop_or_422(request, session, shop)
        return shop_kpis(session, choice.shop_id, now=_now()).as_json()
