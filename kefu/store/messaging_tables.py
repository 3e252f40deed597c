"""Tables for proactive and service messages: templates, the outbox, deliveries, consent and suppressions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kefu.store.tables import Base
from kefu.store.types import UTCDateTime


class MessageTemplateRow(Base):
    """A shop's own wording of a lifecycle template in one voice (the built-in wording applies when there is none)."""

    __tablename__ = "message_templates"
    __table_args__ = (UniqueConstraint("shop_id", "template_key", "voice", name="uq_message_templates_key"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    shop_id: Mapped[str] = mapped_column(ForeignKey("shops.id"))
    template_key: Mapped[str] = mapped_column(String(60))  # order.paid | order.shipped | parcel.delayed | …
    voice: Mapped[str] = mapped_column(String(20))  # plain | playful
    body: Mapped[str] = mapped_column(Text)  # Jinja2 source, rendered in a sandbox
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_by: Mapped[str | None] = mapped_column(String(80))


class OutboxMessage(Base):
    """One message to one buyer, written in the same transaction as the event that caused it, delivered by a worker."""

    __tablename__ = "outbox_messages"
    __table_args__ = (
        UniqueConstraint("idempotency_key", name="uq_outbox_messages_idempotency_key"),
        Index("ix_outbox_messages_queue", "shop_id", "status", "created_at"),
        Index("ix_outbox_messages_due", "status", "next_attempt_at"),
        Index("ix_outbox_messages_customer", "customer_id", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    shop_id: Mapped[str] = mapped_column(ForeignKey("shops.id"))
    customer_id: Mapped[str | None] = mapped_column(ForeignKey("customers.id"))
    order_id: Mapped[str | None] = mapped_column(ForeignKey("orders.id"))
    event: Mapped[str] = mapped_column(String(40))  # order.paid | order.shipped | parcel.delayed | desk.reply | …
    purpose: Mapped[str] = mapped_column(String(20))  # transactional | marketing | service
    template_key: Mapped[str | None] = mapped_column(String(60))
    voice: Mapped[str | None] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text)  # the rendered message as the buyer reads it
    variables: Mapped[dict[str, Any] | None] = mapped_column()
    channel: Mapped[str | None] = mapped_column(String(30))  # None: the process's default channel
    idempotency_key: Mapped[str] = mapped_column(String(300))  # shop:customer:order:event:template unless given
    # queued → sending → sent; sending → retry → sending …; → dead after the last attempt; suppressed/blocked never go out.
    status: Mapped[str] = mapped_column(String(12))
    reason: Mapped[str | None] = mapped_column(String(60))  # why suppressed, blocked, deferred or dead
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # not before (quiet hours, backoff)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())  # a sending row's lease
    claimed_by: Mapped[str | None] = mapped_column(String(80))
    provider_message_id: Mapped[str | None] = mapped_column(String(120))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str | None] = mapped_column(String(80))


class MessageDecision(Base):
    """Every decision about a message, in order: queued, deferred to after quiet hours, suppressed and why, sent, failed …"""

    __tablename__ = "message_decisions"
    __table_args__ = (Index("ix_message_decisions_message", "message_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    shop_id: Mapped[str] = mapped_column(ForeignKey("shops.id"))
    message_id: Mapped[str] = mapped_column(ForeignKey("outbox_messages.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    decision: Mapped[str] = mapped_column(String(20))  # queued | deferred | suppressed | blocked | sent | retry | dead | …
    reason: Mapped[str | None] = mapped_column(String(60))
    detail: Mapped[str | None] = mapped_column(Text)  # phones redacted
    actor: Mapped[str | None] = mapped_column(String(80))


class MessageSuppression(Base):
    """A buyer who must not get (marketing) messages any more: an opt-out reply (R / T / 退订) or an agent's entry."""

    __tablename__ = "message_suppressions"
    __table_args__ = (UniqueConstraint("shop_id", "customer_id", "scope", name="uq_message_suppressions_customer"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    shop_id: Mapped[str] = mapped_column(ForeignKey("shops.id"))
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"))
    scope: Mapped[str] = mapped_column(String(20))  # marketing | all
    reason: Mapped[str] = mapped_column(String(40))  # opt_out_reply | agent
    sign_name: Mapped[str | None] = mapped_column(String(60))  # the SMS signature the reply answered, when known
    source_text: Mapped[str | None] = mapped_column(Text)  # the reply as written, phones redacted
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str | None] = mapped_column(String(80))
