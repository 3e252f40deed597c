"""REST: the message outbox (list, one message with its decisions, retry a dead letter, queue a message), templates
with preview, opt-out replies, and a customer's one timeline."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel, Field

from kefu.domain.messaging.templates import TEMPLATE_KEYS, TemplateProblem
from kefu.services.delivery import retry_dead
from kefu.services.message_templates import list_templates, preview_template
from kefu.services.outbox import MessageProblem, OutgoingMessage, queue_message, record_reply
from kefu.services.outbox_view import FILTERS, MessageRow, list_messages, message_decisions, message_json
from kefu.services.timeline import customer_timeline
from kefu.store.messaging_tables import OutboxMessage
from kefu.store.tables import Customer
from kefu.web.auth import SignedInUser, current_user
from kefu.web.shop_choice import choose_shop

router = APIRouter(tags=["messages"])


def _now() -> datetime:
    return datetime.now(timezone.utc)


@router.get("/messages", summary="发件箱 / List outbox messages")
def get_messages(
    request: Request,
    status: str = Query("all", description="all, queued, sent, suppressed, blocked, dead, retry or sending"),
    event: str | None = Query(None, description="order.paid, order.shipped, parcel.delayed, parcel.signed …"),
    purpose: str | None = Query(None, description="transactional, marketing or service"),
    shop: str | None = Query(None, description="shop id or name; default: the workbench's current shop"),
    page: int = Query(1, ge=1),
    per_page: int = Query(50, ge=1, le=200),
    user: SignedInUser = Depends(current_user),
) -> dict:
    if status not in FILTERS:
        raise HTTPException(status_code=422, detail=f"status: one of {', '.join(FILTERS)}")
    with request.app.state.store.session() as session:
        choice = choose_shop(request, session, shop)
        result = list_messages(session, shop_id=choice.shop_id, status=status, event=event, purpose=purpose,
                               page=page, per_page=per_page)
        return {"items": [message_json(r) for r in result.items], "total": result.total, "page": result.page,
                "per_page": result.per_page, "pages": result.pages}


def _message(session, message_id: str) -> OutboxMessage:
    row = session.get(OutboxMessage, message_id)
    if row is None:
        raise HTTPException(status_code=404, detail="no such message")
    return row


@router.get("/messages/{message_id}", summary="一条消息及其决定 / One message with every decision about it")
def get_message(message_id: str, request: Request, user: SignedInUser = Depends(current_user)) -> dict:
    with request.app.state.store.session() as session:
        row = _message(session, message_id)
        return {**message_json(MessageRow(row, None, None)), "decisions": [
            {"at": d.at.isoformat(), "decision": d.decision, "reason": d.reason, "detail": d.detail, "actor": d.actor}
            for d in message_decisions(session, message_id)]}


@router.post("/messages/{message_id}/retry", summary="重试死信 / Queue a dead letter again")
def post_retry(message_id: str, request: Request, user: SignedInUser = Depends(current_user)) -> dict:
    with request.app.state.store.session() as session:
        _message(session, message_id)
        if not retry_dead(session, message_id, actor=user.username, now=_now()):
            raise HTTPException(status_code=409, detail="not a dead letter / 不是死信")
        return message_json(MessageRow(_message(session, message_id), None, None))


class MessageIn(BaseModel):
    """A message to queue: exactly one of `template` (a template key) or `text`."""

    customer_id: str
    event: str = Field(..., examples=["desk.reply"])
    purpose: str = Field(..., examples=["service"], description="transactional, marketing or service")
    template: str | None = None
    text: str | None = None
    order_id: str | None = None
    variables: dict[str, str] = Field(default_factory=dict)
    channel: str | None = None
    idempotency_key: str | None = None


@router.post("/messages", summary="写入发件箱 / Queue a message (consent, opt-out, quiet hours and caps apply)")
def post_message(body: MessageIn, request: Request, user: SignedInUser = Depends(current_user)) -> dict[str, Any]:
    with request.app.state.store.session() as session:
        customer = session.get(Customer, body.customer_id)
        if customer is None:
            raise HTTPException(status_code=404, detail="no such customer")
        try:
            result = queue_message(session, OutgoingMessage(
                shop_id=customer.shop_id, customer_id=customer.id, event=body.event, purpose=body.purpose,
                template=body.template, text=body.text, order_id=body.order_id, variables=body.variables,
                channel=body.channel, idempotency_key=body.idempotency_key), now=_now(), actor=user.username)
        except MessageProblem as exc:
            raise HTTPException(status_code=422, detail=str(exc)) from None
    return {"message_id": result.message_id, "status": result.status, "reason": result.reason, "text": result.text}


class ReplyIn(BaseModel):
    text: str = Field(..., examples=["退订"])
    sign_name: str | None = None


@router.post("/customers/{customer_id}/replies", summary="买家回复（R/T/退订 即退订）/ A buyer's reply; R, T or 退订 opts out")
def post_reply(customer_id: str, body: ReplyIn, request: Request, user: SignedInUser = Depends(current_user)) -> dict:
    with request.app.state.store.session() as session:
        customer = session.get(Customer, customer_id)
        if customer is None:
            raise HTTPException(status_code=404, detail="no such customer")
        opted_out = record_reply(session, shop_id=customer.shop_id, customer_id=customer_id, text=body.text,
                                 now=_now(), sign_name=body.sign_name)
    return {"opted_out": opted_out}


@router.get("/message-templates", summary="消息模板 / Lifecycle templates of the shop in a voice, with previews")
def get_templates(request: Request, voice: str | None = Query(None, description="plain or playful"),
                  shop: str | None = None, user: SignedInUser = Depends(current_user)) -> dict:
    with request.app.state.store.session() as session:
        choice = choose_shop(request, session, shop)
        if choice.shop_id is None:
            return {"items": []}
        views = list_templates(session, choice.shop_id, voice)
    return {"items": [{"key": v.key, "purpose": v.purpose, "voice": v.voice, "body": v.body, "built_in": v.built_in,
                       "customised": v.customised, "preview": v.preview} for v in views]}


class PreviewIn(BaseModel):
    key: str = Field(..., examples=["order.shipped"])
    voice: str = "plain"
    body: str
    variables: dict[str, str] = Field(default_factory=dict)


@router.post("/message-templates/preview", summary="预览模板 / Render a template body for the sample order")
def post_preview(body: PreviewIn, request: Request, shop: str | None = None,
                 user: SignedInUser = Depends(current_user)) -> dict:
    if body.key not in TEMPLATE_KEYS:
        raise HTTPException(status_code=404, detail=f"unknown template: {body.key}")
    with request.app.state.store.session() as session:
        choice = choose_shop(request, session, shop)
        if choice.shop_id is None:
            raise HTTPException(status_code=404, detail="no shop yet")
        try:
            text = preview_template(session, choice.shop_id, body.key, body.voice, body.body, body.variables)
        except TemplateProblem as exc:
            raise HTTPException(status_code=422, detail=str(exc)) from None
    return {"text": text}


@router.get("/customers/{customer_id}/timeline", summary="客户时间线 / The customer's one timeline, newest first")
def get_timeline(customer_id: str, request: Request, limit: int = Query(200, ge=1, le=1000),
                 user: SignedInUser = Depends(current_user)) -> dict:
    with request.app.state.store.session() as session:
        if session.get(Customer, customer_id) is None:
            raise HTTPException(status_code=404, detail="no such customer")
        items = customer_timeline(session, customer_id, limit=limit)
    return {"items": [{"at": e.at.isoformat(), "kind": e.kind, "text": e.text, "order_id": e.order_id,
                       "status": e.status, "reason": e.reason, "message_id": e.ref} for e in items]}
