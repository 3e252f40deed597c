"""Tables for complaint cases: steps, offers on the settlement ladder, promises made and evidence."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, event
from sqlalchemy.orm import Mapped, mapped_column

from kefu.store.tables import Base
from kefu.store.types import Money, UTCDateTime


class Case(Base):
    """A complaint worked through five steps: confirm, analyse, negotiate, execute, follow up."""

    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_queue", "shop_id", "status", "step"),
        Index("ix_cases_customer", "customer_id", "opened_at"),
        Index("ix_cases_source", "shop_id", "source", "source_id"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    shop_id: Mapped[str] = mapped_column(ForeignKey("shops.id"))
    customer_id: Mapped[str | None] = mapped_column(ForeignKey("customers.id"))
    order_id: Mapped[str | None] = mapped_column(ForeignKey("orders.id"))
    source: Mapped[str] = mapped_column(String(20))  # message | review | alert | manual
    source_id: Mapped[str | None] = mapped_column(String(120))
    summary: Mapped[str] = mapped_column(Text)
    step: Mapped[str] = mapped_column(String(20))  # confirm | analyse | negotiate | execute | follow_up | closed
    status: Mapped[str] = mapped_column(String(12), default="open")  # open | closed
    severity: Mapped[str | None] = mapped_column(String(10))  # low | medium | high | critical
    anger: Mapped[float | None] = mapped_column()  # 0–1, from the buyer's words when known
    buyer_account: Mapped[str | None] = mapped_column(Text)  # what the buyer says happened (phones redacted)
    demands: Mapped[str | None] = mapped_column(Text)  # what the buyer asks for
    decider: Mapped[str | None] = mapped_column(String(20))  # agent | owner: who decides beyond policy
    waiting_on_buyer: Mapped[bool] = mapped_column(Boolean, default=False)
    chosen_offer_id: Mapped[str | None] = mapped_column(String(32))
    satisfaction: Mapped[int | None] = mapped_column(Integer)  # 1–5, asked at follow-up
    satisfaction_note: Mapped[str | None] = mapped_column(Text)
    opened_by: Mapped[str | None] = mapped_column(String(80))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class CaseEvent(Base):
    """One thing that happened on a case, in order: the SLA clock is read from these."""

    __tablename__ = "case_events"
    __table_args__ = (Index("ix_case_events_case", "case_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    shop_id: Mapped[str] = mapped_column(ForeignKey("shops.id"))
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    kind: Mapped[str] = mapped_column(String(30))  # opened | step | wait_buyer | resume | offer | approval | call …
    step: Mapped[str | None] = mapped_column(String(20))
    actor: Mapped[str | None] = mapped_column(String(80))
    detail: Mapped[dict[str, Any] | None] = mapped_column()


class CaseOffer(Base):
    """A proposed resolution placed on the settlement ladder (tier 1–5); tiers 4–5 wait for the owner."""

    __tablename__ = "case_offers"
    __table_args__ = (Index("ix_case_offers_case", "case_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    shop_id: Mapped[str] = mapped_column(ForeignKey("shops.id"))
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"))
    kind: Mapped[str] = mapped_column(String(20))  # refund | partial_refund | reship | exchange | gift | coupon | apology
    description: Mapped[str] = mapped_column(Text)
    cost: Mapped[Decimal] = mapped_column(Money())
    buyer_accepts: Mapped[str] = mapped_column(String(10), default="unknown")  # yes | no | unknown
    tier: Mapped[int] = mapped_column(Integer)
    beyond_policy: Mapped[bool] = mapped_column(Boolean, default=False)
    approval: Mapped[str] = mapped_column(String(12), default="not_needed")  # not_needed | pending | approved | rejected
    approved_by: Mapped[str | None] = mapped_column(String(80))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    chosen: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CaseAction(Base):
    """What was done to settle a case (a refund, a reshipment, a gift, a coupon), tracked until done."""

    __tablename__ = "case_actions"
    __table_args__ = (Index("ix_case_actions_case", "case_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    shop_id: Mapped[str] = mapped_column(ForeignKey("shops.id"))
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"))
    offer_id: Mapped[str | None] = mapped_column(ForeignKey("case_offers.id"))
    kind: Mapped[str] = mapped_column(String(20))  # refund | reship | gift | coupon | other
    amount: Mapped[Decimal | None] = mapped_column(Money())
    reference: Mapped[str | None] = mapped_column(String(120))  # refund no., waybill, coupon code
    status: Mapped[str] = mapped_column(String(12), default="pending")  # pending | done | failed
    note: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class CaseCall(Base):
    """A phone call to the buyer on a case, with its outcome."""

    __tablename__ = "case_calls"
    __table_args__ = (Index("ix_case_calls_case", "case_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    shop_id: Mapped[str] = mapped_column(ForeignKey("shops.id"))
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"))
    called_at: Mapped[datetime] = mapped_column(UTCDateTime())
    called_by: Mapped[str | None] = mapped_column(String(80))
    outcome: Mapped[str] = mapped_column(String(20))  # settled | calmed | callback | no_answer | refused
    minutes: Mapped[int | None] = mapped_column(Integer)
    note: Mapped[str | None] = mapped_column(Text)  # phones redacted


class CaseEvidence(Base):
    """A snapshot kept unchanged for a case file: written once with its SHA-256, never updated."""

    __tablename__ = "case_evidence"
    __table_args__ = (Index("ix_case_evidence_case", "case_id", "captured_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    shop_id: Mapped[str] = mapped_column(ForeignKey("shops.id"))
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"))
    kind: Mapped[str] = mapped_column(String(20))  # transcript | order | promise | call | note | satisfaction
    title: Mapped[str] = mapped_column(String(200))
    content: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    captured_at: Mapped[datetime] = mapped_column(UTCDateTime())
    captured_by: Mapped[str | None] = mapped_column(String(80))


class Promise(Base):
    """A promise made to a buyer (ship by, refund by, a gift…), tracked until kept or broken."""

    __tablename__ = "promises"
    __table_args__ = (
        Index("ix_promises_due", "shop_id", "status", "due_at"),
        Index("ix_promises_customer", "customer_id"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    shop_id: Mapped[str] = mapped_column(ForeignKey("shops.id"))
    customer_id: Mapped[str | None] = mapped_column(ForeignKey("customers.id"))
    order_id: Mapped[str | None] = mapped_column(ForeignKey("orders.id"))
    case_id: Mapped[str | None] = mapped_column(ForeignKey("cases.id"))
    dedupe_key: Mapped[str] = mapped_column(String(64), unique=True)  # one row per promise however often recorded
    kind: Mapped[str] = mapped_column(String(40))  # ship_by | refund | gift | callback | … (PromiseFound.kind)
    what: Mapped[str] = mapped_column(Text)
    source_text: Mapped[str | None] = mapped_column(Text)  # the sentence it came from (phones redacted)
    message_id: Mapped[str | None] = mapped_column(String(64))
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(10), default="open")  # open | overdue | kept | broken
    made_by: Mapped[str | None] = mapped_column(String(80))
    made_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_by: Mapped[str | None] = mapped_column(String(80))


class EvidenceIsImmutable(RuntimeError):
    """Evidence rows are written once; changing or deleting one is refused."""


@event.listens_for(CaseEvidence, "before_update")
def _refuse_update(mapper, connection, target) -> None:  # noqa: ARG001
    raise EvidenceIsImmutable(f"case evidence {target.id} is kept unchanged / 证据不可修改")


@event.listens_for(CaseEvidence, "before_delete")
def _refuse_delete(mapper, connection, target) -> None:  # noqa: ARG001
    raise EvidenceIsImmutable(f"case evidence {target.id} is kept unchanged / 证据不可删除")
