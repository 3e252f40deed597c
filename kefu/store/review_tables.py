"""Tables for reviews: imported reviews, reply drafts, recovery cases and trained text models."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kefu.store.tables import Base
from kefu.store.types import Money, UTCDateTime


class Review(Base):
    """A buyer's rating of an order line (评价) or its follow-up (追评, parent_id set), classified by kefu."""

    __tablename__ = "reviews"
    __table_args__ = (
        UniqueConstraint("shop_id", "review_key", name="uq_reviews_key"),
        Index("ix_reviews_shop_created", "shop_id", "created_at"),
        Index("ix_reviews_shop_result", "shop_id", "result"),
        Index("ix_reviews_order", "order_id"),
        Index("ix_reviews_customer", "customer_id"),
        Index("ix_reviews_parent", "parent_id"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    shop_id: Mapped[str] = mapped_column(ForeignKey("shops.id"))
    review_key: Mapped[str] = mapped_column(String(200))  # source:tid:oid[:append] — what a re-import finds again
    source: Mapped[str] = mapped_column(String(20))  # top | shopify | demo
    kind: Mapped[str] = mapped_column(String(12), default="review")  # review | follow_up (追评)
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("reviews.id"))
    tid: Mapped[str | None] = mapped_column(String(40))  # the order number, kept exact
    oid: Mapped[str | None] = mapped_column(String(40))  # the sub-order number
    order_id: Mapped[str | None] = mapped_column(ForeignKey("orders.id"))
    customer_id: Mapped[str | None] = mapped_column(ForeignKey("customers.id"))
    product_id: Mapped[str | None] = mapped_column(ForeignKey("products.id"))
    nick: Mapped[str | None] = mapped_column(String(200))
    num_iid: Mapped[str | None] = mapped_column(String(40))
    item_title: Mapped[str | None] = mapped_column(String(300))
    item_price: Mapped[Decimal | None] = mapped_column(Money())
    result: Mapped[str] = mapped_column(String(10))  # good | neutral | bad
    stars: Mapped[int | None] = mapped_column(Integer)  # Shopify 1–5
    content: Mapped[str] = mapped_column(Text, default="")
    reply: Mapped[str | None] = mapped_column(Text)  # the explanation already posted on the platform
    valid_score: Mapped[bool | None] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sentiment: Mapped[str | None] = mapped_column(String(10))  # positive | neutral | negative
    sentiment_score: Mapped[float | None] = mapped_column(Float)  # 0–1, 1 = positive
    flagged: Mapped[bool] = mapped_column(Boolean, default=False)  # the text reads worse than the rating
    topics: Mapped[list[Any] | None] = mapped_column()
    classified_by: Mapped[str | None] = mapped_column(String(40))  # base | the trained model's id
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime())
    extra: Mapped[dict[str, Any] | None] = mapped_column()


class ReviewReply(Base):
    """The shop's reply draft to one review, through the approval queue to a traderate.explain export."""

    __tablename__ = "review_replies"
    __table_args__ = (Index("ix_review_replies_queue", "shop_id", "status"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    shop_id: Mapped[str] = mapped_column(ForeignKey("shops.id"))
    review_id: Mapped[str] = mapped_column(ForeignKey("reviews.id"), unique=True)
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12), default="draft")  # draft | approved | exported
    edited: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    approved_by: Mapped[str | None] = mapped_column(String(80))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    exported_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ReviewRecoveryCase(Base):
    """Winning back the buyer of a neutral or bad review, in five steps, before the modification window closes."""

    __tablename__ = "review_recovery_cases"
    __table_args__ = (Index("ix_review_recovery_queue", "shop_id", "status", "deadline_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    shop_id: Mapped[str] = mapped_column(ForeignKey("shops.id"))
    review_id: Mapped[str] = mapped_column(ForeignKey("reviews.id"), unique=True)
    customer_id: Mapped[str | None] = mapped_column(ForeignKey("customers.id"))
    order_id: Mapped[str | None] = mapped_column(ForeignKey("orders.id"))
    complaint_case_id: Mapped[str | None] = mapped_column(String(32))  # the complaint case opened beside it, if any
    status: Mapped[str] = mapped_column(String(12), default="open")  # open | closed
    step: Mapped[str] = mapped_column(String(20))  # apologise | find_cause | remedy | satisfaction | record_cause | done
    deadline_at: Mapped[datetime] = mapped_column(UTCDateTime())  # the platform's modification window ends
    cause: Mapped[str | None] = mapped_column(String(40))  # a root-cause code (topics: quality.size, logistics.slow …)
    cause_note: Mapped[str | None] = mapped_column(Text)
    remedy: Mapped[str | None] = mapped_column(Text)
    remedy_cost: Mapped[Decimal | None] = mapped_column(Money())
    buyer_satisfied: Mapped[bool | None] = mapped_column(Boolean)
    asked_to_update: Mapped[bool] = mapped_column(Boolean, default=False)
    history: Mapped[list[Any]] = mapped_column(default=list)  # [{step, at, by, note}] in order
    opened_by: Mapped[str | None] = mapped_column(String(80))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ReviewEvidence(Base):
    """A file the buyer sent for a recovery case (a photo of the fault), kept in the database."""

    __tablename__ = "review_evidence"
    __table_args__ = (Index("ix_review_evidence_case", "case_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    shop_id: Mapped[str] = mapped_column(ForeignKey("shops.id"))
    case_id: Mapped[str] = mapped_column(ForeignKey("review_recovery_cases.id"))
    file_name: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    note: Mapped[str | None] = mapped_column(Text)
    uploaded_by: Mapped[str | None] = mapped_column(String(80))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SentimentModelRow(Base):
    """A shop's sentiment model trained on its own rated reviews, as the bytes of a .npz (no pickle)."""

    __tablename__ = "sentiment_models"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    shop_id: Mapped[str] = mapped_column(ForeignKey("shops.id"), unique=True)  # the newest model only
    trained_at: Mapped[datetime] = mapped_column(UTCDateTime())
    shop_texts: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    about: Mapped[dict[str, Any] | None] = mapped_column()
