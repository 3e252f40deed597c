"""Tables for stock: stockout cases and their lines, refunds and cancellations, stock movements, incoming stock and
pre-sale switches."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kefu.store.tables import Base
from kefu.store.types import Money, UTCDateTime


class StockoutCase(Base):
    """A paid order the stock cannot fully cover, the options offered to the buyer and what was chosen and done."""

    __tablename__ = "stockout_cases"
    __table_args__ = (
        Index("ix_stockout_cases_queue", "shop_id", "status", "opened_at"),
        Index("ix_stockout_cases_order", "order_id"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    shop_id: Mapped[str] = mapped_column(ForeignKey("shops.id"))
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"))
    customer_id: Mapped[str | None] = mapped_column(ForeignKey("customers.id"))
    # The order id while the case is live, NULL once closed: at most one live case per order (NULLs never clash).
    live_key: Mapped[str | None] = mapped_column(String(80), unique=True)
    status: Mapped[str] = mapped_column(String(20))  # awaiting_buyer | waiting_restock | done | cancelled
    choice: Mapped[str | None] = mapped_column(String(20))  # ship_available | substitute | wait | cancel
    decided_by: Mapped[str | None] = mapped_column(String(80))  # "buyer" (parsed reply) or the agent's username
    offered: Mapped[list[Any]] = mapped_column(default=list)  # the options offered, e.g. ["ship_available", "wait", "cancel"]
    restock_date: Mapped[date | None] = mapped_column(Date)
    wait_until: Mapped[date | None] = mapped_column(Date)
    refund_amount: Mapped[Decimal | None] = mapped_column(Money())  # for the missing units, as offered
    message_text: Mapped[str | None] = mapped_column(Text)
    message_id: Mapped[str | None] = mapped_column(String(64))  # the outbox message
    message_status: Mapped[str | None] = mapped_column(String(20))  # queued | suppressed | duplicate | blocked | no_outbox
    buyer_reply: Mapped[str | None] = mapped_column(Text)  # the last reply read (phones redacted)
    reply_understood: Mapped[bool | None] = mapped_column()
    outcome: Mapped[str | None] = mapped_column(String(300))  # what was done, in the seller's words
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class StockoutLine(Base):
    """One short line of a stockout case: how much is missing and what was done with it."""

    __tablename__ = "stockout_lines"
    __table_args__ = (Index("ix_stockout_lines_case", "case_id"), Index("ix_stockout_lines_order_line", "order_line_id"))

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    shop_id: Mapped[str] = mapped_column(ForeignKey("shops.id"))
    case_id: Mapped[str] = mapped_column(ForeignKey("stockout_cases.id"))
    order_line_id: Mapped[str] = mapped_column(ForeignKey("order_lines.id"))
    sku_id: Mapped[str | None] = mapped_column(ForeignKey("skus.id"))  # the SKU that ran short
    properties: Mapped[str | None] = mapped_column(String(300))  # the line's properties before any substitution
    quantity: Mapped[int] = mapped_column(Integer)
    missing: Mapped[int] = mapped_column(Integer)
    substitutes: Mapped[list[Any]] = mapped_column(default=list)  # suggested SKU ids, closest first
    action: Mapped[str | None] = mapped_column(String(20))  # refund | substitute | hold | cancel
    substitute_sku_id: Mapped[str | None] = mapped_column(ForeignKey("skus.id"))
    refunded_quantity: Mapped[int] = mapped_column(Integer, default=0)


class StockRefund(Base):
    """Money owed back to a buyer because of a stockout: the missing units of a line, or a whole cancelled order."""

    __tablename__ = "stock_refunds"
    __table_args__ = (Index("ix_stock_refunds_shop", "shop_id", "created_at"), Index("ix_stock_refunds_order", "order_id"))

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    shop_id: Mapped[str] = mapped_column(ForeignKey("shops.id"))
    case_id: Mapped[str] = mapped_column(ForeignKey("stockout_cases.id"))
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"))
    order_line_id: Mapped[str | None] = mapped_column(ForeignKey("order_lines.id"))  # None for a cancellation
    kind: Mapped[str] = mapped_column(String(20))  # missing_units | cancellation
    quantity: Mapped[int] = mapped_column(Integer, default=0)
    amount: Mapped[Decimal] = mapped_column(Money())
    status: Mapped[str] = mapped_column(String(20), default="to_refund")  # to_refund | refunded
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str | None] = mapped_column(String(80))


class StockMovement(Base):
    """A change to a SKU's stock or to what it is promised to: an import, a substitution moving a line across SKUs."""

    __tablename__ = "stock_movements"
    __table_args__ = (Index("ix_stock_movements_sku", "sku_id", "at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    shop_id: Mapped[str] = mapped_column(ForeignKey("shops.id"))
    sku_id: Mapped[str] = mapped_column(ForeignKey("skus.id"))
    kind: Mapped[str] = mapped_column(String(20))  # import | substitute_in | substitute_out | adjust
    delta: Mapped[int] = mapped_column(Integer)  # units on hand (import) or units promised (substitution)
    stock_after: Mapped[int | None] = mapped_column(Integer)
    reference: Mapped[str | None] = mapped_column(String(120))  # the import run, case or order line
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    by: Mapped[str | None] = mapped_column(String(80))


class SkuIncoming(Base):
    """Units on their way from the supplier (在途) for a SKU, as the last stock file said."""

    __tablename__ = "sku_incoming"

    sku_id: Mapped[str] = mapped_column(ForeignKey("skus.id"), primary_key=True)
    shop_id: Mapped[str] = mapped_column(ForeignKey("shops.id"), index=True)
    quantity: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PresaleSwitch(Base):
    """A sold-out best seller switched to pre-sale with a confirmed restock date; its waiting buyers were told."""

    __tablename__ = "presale_switches"
    __table_args__ = (Index("ix_presale_switches_sku", "sku_id", "restock_date"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    shop_id: Mapped[str] = mapped_column(ForeignKey("shops.id"))
    sku_id: Mapped[str] = mapped_column(ForeignKey("skus.id"))
    restock_date: Mapped[date] = mapped_column(Date)
    orders_told: Mapped[int] = mapped_column(Integer, default=0)
    switched_at: Mapped[datetime] = mapped_column(UTCDateTime())
    switched_by: Mapped[str | None] = mapped_column(String(80))
