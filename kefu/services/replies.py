"""An agent's reply to a buyer: through the promise guard, out through the outbox (purpose "service"), into the chat."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from kefu.domain.desk.signals import find_province
from kefu.domain.promise_guard import PromiseFound
from kefu.ids import new_id
from kefu.services.conversations import (
    MessageError,
    add_message,
    get_conversation,
    latest_buyer_message,
)
from kefu.services.drafts import GuardResult, guard_text
from kefu.services.extortion_risk import is_high_risk
from kefu.services.promises import record_promises
from kefu.store.desk_tables import ChatMessage

log = logging.getLogger(__name__)


class ReplyBlocked(Exception):
    """The promise guard blocks the wording; `guard` says why and how to say it safely."""

    def __init__(self, guard: GuardResult):
        super().__init__("promise guard blocked the reply")
        self.guard = guard


class ReplyNeedsConfirmation(Exception):
    """The promise guard warns; the agent must confirm (or reword) before it goes out."""

    def __init__(self, guard: GuardResult):
        super().__init__("promise guard warns about the reply")
        self.guard = guard


@dataclass(frozen=True)
class SentReply:
    message: ChatMessage
    guard: GuardResult
    outbox_status: str  # queued | suppressed | duplicate | blocked | recorded (no outbox installed)
    outbox_reason: str | None = None


def _queue(session: Session, conversation, message_id: str, text: str, *, now: datetime, author: str | None):
    """Hand the reply to the outbox when it is installed; (status, reason, outbox message id)."""
    try:
        from kefu.services.outbox import OutgoingMessage, queue_message
    except ImportError:
        return "recorded", None, None  # seam: until the outbox lands the reply is only the seller's chat message
    queued = queue_message(session, OutgoingMessage(
        shop_id=conversation.shop_id, customer_id=conversation.customer_id, event="desk.reply", purpose="service",
        text=text, idempotency_key=f"desk.reply:{message_id}"), now=now, actor=author)
    return queued.status, queued.reason, queued.message_id


def send_reply(session: Session, conversation_id: str, text: str, *, author: str | None, now: datetime | None = None,
               confirm_warnings: bool = False, citations: list[dict[str, Any]] | None = None,
               from_draft: bool = False) -> SentReply:
    """Check the wording, queue it and record it as the seller's message; ReplyBlocked / ReplyNeedsConfirmation stop it."""
    now = now or datetime.now(UTC)
    text = (text or "").strip()
    if not text:
        raise MessageError("回复不能为空 / the reply is empty")
    conversation = get_conversation(session, conversation_id)
    last = latest_buyer_message(session, conversation_id)
    province = find_province(last.body) if last else None
    guard = guard_text(session, conversation.shop_id, text, province=province, now=now,
                       high_risk=is_high_risk(session, conversation.customer_id))
    if guard.blocked:
        raise ReplyBlocked(guard)
    if guard.action == "warn" and not confirm_warnings:
        raise ReplyNeedsConfirmation(guard)
    message_id = new_id()
    status, reason, outbox_id = _queue(session, conversation, message_id, text, now=now, author=author)
    if status == "blocked":
        raise ReplyBlocked(GuardResult(True, "block", guard.reasons, guard.promises))
    detail = {"guard": guard.as_json(), "outbox_status": status, "outbox_reason": reason, "outbox_message_id": outbox_id,
              "from_draft": from_draft, "citations": citations or []}
    message = add_message(session, conversation, sender="seller", text=text, sent_at=now, author=author, source="inbox",
                          message_id=message_id, detail=detail, now=now)
    record_promises(session, conversation.shop_id, conversation.customer_id, _found(guard), message_id=message_id,
                    source_text=text, made_by=author, now=now)
    assert message is not None
    return SentReply(message, guard, status, reason)


def _found(guard: GuardResult) -> list[PromiseFound]:
    """The guard's promises (kept as JSON-ready dicts on the result) back as PromiseFound for the promise register."""
    return [PromiseFound(p["kind"], p["text"], datetime.fromisoformat(p["due_at"]) if p.get("due_at") else None)
            for p in guard.promises]
