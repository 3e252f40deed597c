"""The outbox as the workbench and the CLI show it: messages by status with filters, counts, and one message's decisions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kefu.services.outbox import STATUSES
from kefu.store.messaging_tables import MessageDecision, OutboxMessage
from kefu.store.tables import Customer, Order

FILTERS = ("all", "queued", "sent", "suppressed", "blocked", "dead", "retry", "sending")


@dataclass(frozen=True)
class MessageRow:
    message: OutboxMessage
    buyer_nick: str | None
    order_label: str | None


@dataclass(frozen=True)
class MessagePage:
    items: list[MessageRow]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


@dataclass(frozen=True)
class DecisionView:
    at: datetime
    decision: str
    reason: str | None
    detail: str | None
    actor: str | None


def _conditions(shop_id: str | None, status: str | None, event: str | None, purpose: str | None) -> list:
    conditions = []
    if shop_id:
        conditions.append(OutboxMessage.shop_id == shop_id)
    if status and status != "all":
        conditions.append(OutboxMessage.status == status)
    if event:
        conditions.append(OutboxMessage.event == event)
    if purpose:
        conditions.append(OutboxMessage.purpose == purpose)
    return conditions


def list_messages(session: Session, *, shop_id: str | None, status: str | None = None, event: str | None = None,
                  purpose: str | None = None, page: int = 1, per_page: int = 50) -> MessagePage:
    """Messages newest first, filtered by status, event and purpose."""
    conditions = _conditions(shop_id, status, event, purpose)
    total = session.scalar(select(func.count()).select_from(OutboxMessage).where(*conditions)) or 0
    page = max(1, page)
    rows = session.execute(
        select(OutboxMessage, Customer.buyer_nick, func.coalesce(Order.order_name, Order.order_no))
        .outerjoin(Customer, Customer.id == OutboxMessage.customer_id)
        .outerjoin(Order, Order.id == OutboxMessage.order_id)
        .where(*conditions)
        .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id)
        .offset((page - 1) * per_page).limit(per_page))
    return MessagePage([MessageRow(m, nick, label) for m, nick, label in rows], total, page, per_page)


def status_counts(session: Session, shop_id: str | None) -> dict[str, int]:
    """How many messages are in each status (every status present, zero when none)."""
    query = select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
    if shop_id:
        query = query.where(OutboxMessage.shop_id == shop_id)
    counts = {status: 0 for status in STATUSES}
    counts.update(dict(session.execute(query).all()))
    return counts


def event_names(session: Session, shop_id: str | None) -> list[str]:
    query = select(OutboxMessage.event).distinct().order_by(OutboxMessage.event)
    if shop_id:
        query = query.where(OutboxMessage.shop_id == shop_id)
    return list(session.scalars(query))


def message_decisions(session: Session, message_id: str) -> list[DecisionView]:
    return [DecisionView(d.at, d.decision, d.reason, d.detail, d.actor) for d in session.scalars(
        select(MessageDecision).where(MessageDecision.message_id == message_id)
        .order_by(MessageDecision.at, MessageDecision.id))]


def message_json(row: MessageRow) -> dict:
    m = row.message
    return {
        "id": m.id, "shop_id": m.shop_id, "customer_id": m.customer_id, "buyer_nick": row.buyer_nick,
        "order_id": m.order_id, "order": row.order_label, "event": m.event, "purpose": m.purpose,
        "template": m.template_key, "voice": m.voice, "text": m.text, "channel": m.channel, "status": m.status,
        "reason": m.reason, "attempts": m.attempts,
        "next_attempt_at": m.next_attempt_at.isoformat() if m.next_attempt_at else None,
        "provider_message_id": m.provider_message_id, "last_error": m.last_error,
        "created_at": m.created_at.isoformat(), "sent_at": m.sent_at.isoformat() if m.sent_at else None,
    }
