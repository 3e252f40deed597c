"""Tables for growth, care and risk: RFM scores, saved segments, gifts, coupon campaigns, follow-up visits, 差评师 risk
assessments and imported listings."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kefu.store.tables import Base
from kefu.store.types import Money, UTCDateTime


class CustomerScore(Base):
    """A customer's RFM scores and purchase cycle as last computed (refreshed after imports and by `kefu segments`)."""

    __tablename__ = "customer_scores"
    __table_args__ = (
        Index("ix_customer_scores_group", "shop_id", "rfm_group"),
        Index("ix_customer_scores_next", "shop_id", "next_purchase_at"),
    )

    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), primary_key=True)
    shop_id: Mapped[str] = mapped_column(ForeignKey("shops.id"))
    recency: Mapped[int] = mapped_column(Integer)
    frequency: Mapped[int] = mapped_column(Integer)
    money: Mapped[int] = mapped_column(Integer)
    rfm_group: Mapped[str] = mapped_column(String(30))
    cycle_days: Mapped[float | None] = mapped_column()
    cycle_basis: Mapped[str | None] = mapped_column(String(10))  # own | blended | shop
    next_purchase_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cycle_stage: Mapped[str | None] = mapped_column(String(10))  # ahead | due | winback | lost
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SavedSegment(Base):
    """A named customer filter a seller keeps, counted live and usable as a campaign target."""

    __tablename__ = "saved_segments"
    __table_args__ = (UniqueConstraint("shop_id", "name", name="uq_saved_segments_name"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    shop_id: Mapped[str] = mapped_column(ForeignKey("shops.id"))
    name: Mapped[str] = mapped_column(String(80))
    definition: Mapped[dict[str, Any]] = mapped_column()  # see kefu.domain.growth.segment_filter
    created_by: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class GiftItem(Base):
    """An item kept for gifts, with who it suits and how sensitive it is to receive unasked."""

    __tablename__ = "gift_items"
    __table_args__ = (UniqueConstraint("shop_id", "key", name="uq_gift_items_key"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    shop_id: Mapped[str] = mapped_column(ForeignKey("shops.id"))
    key: Mapped[str] = mapped_column(String(60))
    name: Mapped[str] = mapped_column(String(120))
    cost: Mapped[Decimal] = mapped_column(Money())
    sensitivity: Mapped[str] = mapped_column(String(10), default="none")  # none | personal | intimate
    suits_gender: Mapped[str] = mapped_column(String(10), default="any")  # any | female | male
    categories: Mapped[list[Any]] = mapped_column(default=list)
    in_stock: Mapped[bool] = mapped_column(Boolean, default=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class GiftRecord(Base):
    """Every gift proposed, sent, held or refused, with the reasons, so nothing is sent twice or unexplained."""

    __tablename__ = "gift_records"
    __table_args__ = (Index("ix_gift_records_customer", "customer_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    shop_id: Mapped[str] = mapped_column(ForeignKey("shops.id"))
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"))
    gift_item_id: Mapped[str | None] = mapped_column(ForeignKey("gift_items.id"))
    occasion: Mapped[str] = mapped_column(String(20))  # surprise | birthday | recovery
    status: Mapped[str] = mapped_column(String(12))  # proposed | sent | held | refused
    reasons: Mapped[list[Any]] = mapped_column(default=list)  # [{"code", "zh", "en"}]
    cost: Mapped[Decimal | None] = mapped_column(Money())
    order_id: Mapped[str | None] = mapped_column(ForeignKey("orders.id"))  # the parcel it rides in, if any
    created_by: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    outcome: Mapped[str | None] = mapped_column(Text)  # what the buyer said or did afterwards


class CouponCampaign(Base):
    """A threshold-coupon follow-up for a segment, with a budget it can never overspend."""

    __tablename__ = "coupon_campaigns"
    __table_args__ = (Index("ix_coupon_campaigns_shop", "shop_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    shop_id: Mapped[str] = mapped_column(ForeignKey("shops.id"))
    name: Mapped[str] = mapped_column(String(120))
    segment_id: Mapped[str | None] = mapped_column(ForeignKey("saved_segments.id"))
    amount: Mapped[Decimal] = mapped_column(Money())
    threshold: Mapped[Decimal] = mapped_column(Money())
    valid_days: Mapped[int] = mapped_column(Integer)
    per_customer_limit: Mapped[int] = mapped_column(Integer)
    budget: Mapped[Decimal] = mapped_column(Money())
    message_cost: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0"))  # per message sent, yuan
    template: Mapped[str | None] = mapped_column(String(60))
    status: Mapped[str] = mapped_column(String(12))  # draft | running | stopped | finished
    stop_reason: Mapped[str | None] = mapped_column(String(200))
    created_by: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Coupon(Base):
    """One coupon handed to one customer, and the order that redeemed it."""

    __tablename__ = "coupons"
    __table_args__ = (
        Index("ix_coupons_campaign", "campaign_id"),
        Index("ix_coupons_customer", "customer_id", "issued_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    shop_id: Mapped[str] = mapped_column(ForeignKey("shops.id"))
    campaign_id: Mapped[str] = mapped_column(ForeignKey("coupon_campaigns.id"))
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"))
    amount: Mapped[Decimal] = mapped_column(Money())
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    message_id: Mapped[str | None] = mapped_column(String(64))
    redeemed_order_id: Mapped[str | None] = mapped_column(ForeignKey("orders.id"))
    redeemed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class CareVisit(Base):
    """A follow-up visit (回访) due for a customer: after signing, when a regular comes online, birthday, win-back."""

    __tablename__ = "care_visits"
    __table_args__ = (
        Index("ix_care_visits_queue", "shop_id", "status", "due_at"),
        UniqueConstraint("dedupe_key", name="uq_care_visits_dedupe_key"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    shop_id: Mapped[str] = mapped_column(ForeignKey("shops.id"))
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"))
    order_id: Mapped[str | None] = mapped_column(ForeignKey("orders.id"))
    kind: Mapped[str] = mapped_column(String(20))  # after_signing | came_online | birthday | winback
    dedupe_key: Mapped[str] = mapped_column(String(200))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(10))  # due | done | skipped
    talking_points: Mapped[list[Any]] = mapped_column(default=list)
    message_id: Mapped[str | None] = mapped_column(String(64))
    done_by: Mapped[str | None] = mapped_column(String(80))
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    note: Mapped[str | None] = mapped_column(Text)


class RiskAssessment(Base):
    """A 差评师 risk score taken when a buyer made contact or ordered, with the signals that explain it."""

    __tablename__ = "risk_assessments"
    __table_args__ = (
        Index("ix_risk_assessments_customer", "customer_id", "assessed_at"),
        Index("ix_risk_assessments_level", "shop_id", "level", "assessed_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    shop_id: Mapped[str] = mapped_column(ForeignKey("shops.id"))
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"))
    order_id: Mapped[str | None] = mapped_column(ForeignKey("orders.id"))
    trigger: Mapped[str] = mapped_column(String(12))  # contact | order | manual
    score: Mapped[int] = mapped_column(Integer)
    level: Mapped[str] = mapped_column(String(8))  # low | medium | high
    signals: Mapped[list[Any]] = mapped_column(default=list)  # [{"code", "points", "zh", "en", "evidence"}]
    assessed_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Listing(Base):
    """A listing as imported for the self-audit: title, price, freight template, attributes and description."""

    __tablename__ = "listings"
    __table_args__ = (UniqueConstraint("shop_id", "listing_key", name="uq_listings_key"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    shop_id: Mapped[str] = mapped_column(ForeignKey("shops.id"))
    listing_key: Mapped[str] = mapped_column(String(120))
    title: Mapped[str] = mapped_column(String(300))
    price: Mapped[Decimal | None] = mapped_column(Money())
    category: Mapped[str | None] = mapped_column(String(80))
    description: Mapped[str | None] = mapped_column(Text)
    attributes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    freight_free_everywhere: Mapped[bool | None] = mapped_column(Boolean)
    freight_charged_regions: Mapped[list[Any]] = mapped_column(default=list)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime())
