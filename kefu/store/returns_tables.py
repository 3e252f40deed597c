"""Tables for returns: return requests with the policy engine's decision, its rules and any agent override."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kefu.store.tables import Base
from kefu.store.types import Money, UTCDateTime


class ReturnRequest(Base):
    """A buyer's refund or return (TOP refund, or entered in the workbench) and what the shop decided about it."""

    __tablename__ = "return_requests"
    __table_args__ = (
        UniqueConstraint("shop_id", "refund_id", name="uq_return_requests_refund"),
        Index("ix_return_requests_queue", "shop_id", "status", "refund_due_at"),
        Index("ix_return_requests_product", "shop_id", "product_id", "requested_at"),
        Index("ix_return_requests_order", "order_id"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # stable_id("return", shop_id, refund_id)
    shop_id: Mapped[str] = mapped_column(ForeignKey("shops.id"))
    refund_id: Mapped[str] = mapped_column(String(40))  # TOP refund_id, or "M…" for one entered in the workbench
    source: Mapped[str] = mapped_column(String(20))  # top_refund | workbench | demo
    order_id: Mapped[str | None] = mapped_column(ForeignKey("orders.id"))
    order_no: Mapped[str] = mapped_column(String(40))  # tid
    sub_order_no: Mapped[str | None] = mapped_column(String(40))  # oid
    order_line_id: Mapped[str | None] = mapped_column(ForeignKey("order_lines.id"))
    product_id: Mapped[str | None] = mapped_column(ForeignKey("products.id"))
    customer_id: Mapped[str | None] = mapped_column(ForeignKey("customers.id"))
    buyer_nick: Mapped[str | None] = mapped_column(String(200))
    title: Mapped[str | None] = mapped_column(String(300))
    sku_properties: Mapped[str | None] = mapped_column(String(300))
    outer_id: Mapped[str | None] = mapped_column(String(80))
    category: Mapped[str | None] = mapped_column(String(80))
    quantity: Mapped[int | None] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))  # refund_only | return_refund | exchange
    platform_status: Mapped[str | None] = mapped_column(String(40))  # TOP refund status
    good_status: Mapped[str | None] = mapped_column(String(30))  # BUYER_NOT_RECEIVED | BUYER_RECEIVED | BUYER_RETURNED_GOODS
    reason_text: Mapped[str | None] = mapped_column(String(200))  # TOP reason as the buyer picked it
    description: Mapped[str | None] = mapped_column(Text)  # TOP desc, phone numbers redacted
    reason_code: Mapped[str] = mapped_column(String(30))  # kefu.domain.returns.reasons code
    reason_side: Mapped[str] = mapped_column(String(12))  # subjective | objective
    refund_fee: Mapped[Decimal | None] = mapped_column(Money())
    item_price: Mapped[Decimal | None] = mapped_column(Money())
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime())
    platform_modified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    signed_source: Mapped[str | None] = mapped_column(String(20))  # parcel | order_end
    return_carrier: Mapped[str | None] = mapped_column(String(60))  # company_name
    return_waybill: Mapped[str | None] = mapped_column(String(64))  # sid
    returned_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # the return arrived at the shop
    refund_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    refunded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    prefers_exchange: Mapped[bool] = mapped_column(Boolean, default=False)
    buyer_confirmed_non_returnable: Mapped[bool] = mapped_column(Boolean, default=False)
    freight_insurance: Mapped[bool | None] = mapped_column(Boolean)  # 运费险; None = the shop's default
    free_shipping: Mapped[bool | None] = mapped_column(Boolean)  # 包邮; None = the shop's default
    condition: Mapped[str | None] = mapped_column(String(20))  # as_new | tried_on | light_wear | damaged
    resellable: Mapped[bool | None] = mapped_column(Boolean)
    checklist: Mapped[dict[str, Any] | None] = mapped_column()  # intact check → passed
    status: Mapped[str] = mapped_column(String(20))  # open | accepted | refused | exchange | refunded | closed
    decision: Mapped[str | None] = mapped_column(String(20))  # the engine's accept | refuse | exchange
    decision_rules: Mapped[list[Any] | None] = mapped_column()  # [{"id", "zh", "en", "values"}, …]
    decision_detail: Mapped[dict[str, Any] | None] = mapped_column()  # window ends, freight payer, fee …
    freight_payer: Mapped[str | None] = mapped_column(String(12))  # buyer | seller | insurance
    depreciation_fee: Mapped[Decimal | None] = mapped_column(Money())
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    override_outcome: Mapped[str | None] = mapped_column(String(20))
    override_reason: Mapped[str | None] = mapped_column(Text)
    overridden_by: Mapped[str | None] = mapped_column(String(80))
    overridden_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    handled_by: Mapped[str | None] = mapped_column(String(80))
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
