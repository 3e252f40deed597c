"""Tables for the service desk: conversations, chat messages, the knowledge base and follow-up tasks."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kefu.store.tables import Base
from kefu.store.types import UTCDateTime


class Conversation(Base):
    """One buyer's chat thread with a shop (千牛 shows one per buyer); the inbox lists these."""

    __tablename__ = "conversations"
    __table_args__ = (
        UniqueConstraint("shop_id", "channel", "buyer_key", name="uq_conversations_buyer"),
        Index("ix_conversations_inbox", "shop_id", "status", "last_message_at"),
        Index("ix_conversations_customer", "customer_id"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    shop_id: Mapped[str] = mapped_column(ForeignKey("shops.id"))
    channel: Mapped[str] = mapped_column(String(20))  # qianniu | shopify | web
    buyer_key: Mapped[str] = mapped_column(String(200))  # the buyer nick as the chat names it
    customer_id: Mapped[str | None] = mapped_column(ForeignKey("customers.id"))
    status: Mapped[str] = mapped_column(String(12), default="open")  # open | closed
    waiting: Mapped[bool] = mapped_column(Boolean, default=False)  # the buyer's last word has no answer yet
    assigned_to: Mapped[str | None] = mapped_column(String(80))
    last_message_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_buyer_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_intent: Mapped[str | None] = mapped_column(String(30))
    last_sentiment: Mapped[str | None] = mapped_column(String(10))
    angry: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ChatMessage(Base):
    """One message of a conversation: the buyer's, an agent's (or the shop's auto-reply), phones redacted."""

    __tablename__ = "chat_messages"
    __table_args__ = (
        Index("ix_chat_messages_conversation", "conversation_id", "sent_at"),
        Index("ix_chat_messages_shop_sent", "shop_id", "sent_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # stable for imports: a re-import adds nothing
    shop_id: Mapped[str] = mapped_column(ForeignKey("shops.id"))
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id"))
    sender: Mapped[str] = mapped_column(String(10))  # buyer | seller
    author: Mapped[str | None] = mapped_column(String(80))  # the agent (客服名) for seller messages
    auto_reply: Mapped[bool] = mapped_column(Boolean, default=False)  # 自动回复: never counts as a response
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime())
    body: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(20))  # import | api | inbox | demo
    intent: Mapped[str | None] = mapped_column(String(30))
    sentiment: Mapped[str | None] = mapped_column(String(10))
    anger: Mapped[int | None] = mapped_column(Integer)  # 0–100
    detail: Mapped[dict[str, Any] | None] = mapped_column()  # topics, citations, guard verdict, outbox id
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class KnowledgeEntry(Base):
    """A fact of the shop the drafts may cite: a product's sizes and material, a promotion, the shipping or return policy."""

    __tablename__ = "knowledge_entries"
    __table_args__ = (Index("ix_knowledge_entries_shop_kind", "shop_id", "kind"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    shop_id: Mapped[str] = mapped_column(ForeignKey("shops.id"))
    kind: Mapped[str] = mapped_column(String(20))  # kefu.domain.desk.knowledge.KINDS
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    product_id: Mapped[str | None] = mapped_column(ForeignKey("products.id"))
    data: Mapped[dict[str, Any] | None] = mapped_column()  # structured facts (cut-off time, size chart rows …)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_by: Mapped[str | None] = mapped_column(String(80))


class FollowupTask(Base):
    """A promise to come back to a buyer (a fact the shop must check first), due at a set time, shown until done."""

    __tablename__ = "followup_tasks"
    __table_args__ = (
        Index("ix_followup_tasks_queue", "shop_id", "status", "due_at"),
        Index("ix_followup_tasks_conversation", "conversation_id"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    shop_id: Mapped[str] = mapped_column(ForeignKey("shops.id"))
    conversation_id: Mapped[str | None] = mapped_column(ForeignKey("conversations.id"))
    customer_id: Mapped[str | None] = mapped_column(ForeignKey("customers.id"))
    title: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(String(40))  # missing_fact | manual
    fact_key: Mapped[str | None] = mapped_column(String(60))
    status: Mapped[str] = mapped_column(String(10), default="open")  # open | done
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str | None] = mapped_column(String(80))
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    done_by: Mapped[str | None] = mapped_column(String(80))


class PersonalityReadingRow(Base):
    """The buyer's personality type as read from their messages, and the agent's override (which wins)."""

    __tablename__ = "customer_personality"

    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), primary_key=True)
    shop_id: Mapped[str] = mapped_column(ForeignKey("shops.id"))
    computed: Mapped[str | None] = mapped_column(String(20))
    scores: Mapped[dict[str, Any] | None] = mapped_column()
    evidence: Mapped[list[Any] | None] = mapped_column()
    override: Mapped[str | None] = mapped_column(String(20))
    overridden_by: Mapped[str | None] = mapped_column(String(80))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
