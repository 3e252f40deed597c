"""Return requests in the store: TOP refund imports, requests entered in the workbench, the policy engine's decision
on each, the agent's accept/refuse/exchange (an override of the engine needs a reason and is audited), the return's
arrival with its intact checklist, the refund due date and overdue alerts (kind `returns.refund_overdue`).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from kefu.config import shop_rules
from kefu.domain.privacy import redact_phones
from kefu.domain.returns.decision import (
    ACCEPT,
    EXCHANGE,
    EXCHANGE_KIND,
    KINDS,
    OUTCOMES,
    REFUND_ONLY,
    REFUSE,
    RETURN_REFUND,
    ReturnDecision,
    ReturnFacts,
    decide,
)
from kefu.domain.returns.policy import CONDITIONS, ReturnsPolicy, policy_for
from kefu.domain.returns.reasons import classify_reason, default_topic_finder
from kefu.domain.returns.rules import RuleHit, hit_from_json, rule
from kefu.ids import new_id, stable_id
from kefu.ingest.refunds_file import RefundRecord, read_refunds
from kefu.services.watch import insert_ignoring
from kefu.store.returns_tables import ReturnRequest
from kefu.store.tables import (
    Alert,
    AuditEntry,
    Customer,
    Order,
    OrderLine,
    Product,
    Shipment,
    Shop,
    User,
)

OPEN, ACCEPTED, REFUSED, EXCHANGING, REFUNDED, CLOSED = "open", "accepted", "refused", "exchange", "refunded", "closed"
STATUSES = (OPEN, ACCEPTED, REFUSED, EXCHANGING, REFUNDED, CLOSED)
STATUS_FILTERS = ("active", OPEN, ACCEPTED, EXCHANGING, "overdue", "due_soon", REFUSED, REFUNDED, CLOSED, "all")
ACTIVE = (OPEN, ACCEPTED, EXCHANGING)
OUTCOME_STATUS = {ACCEPT: ACCEPTED, REFUSE: REFUSED, EXCHANGE: EXCHANGING}
# TOP refund status → the request's status when the platform has moved on by itself.
PLATFORM_STATUS = {
    "WAIT_SELLER_AGREE": OPEN, "WAIT_BUYER_RETURN_GOODS": ACCEPTED, "WAIT_SELLER_CONFIRM_GOODS": ACCEPTED,
    "SELLER_REFUSE_BUYER": REFUSED, "CLOSED": CLOSED, "SUCCESS": REFUNDED,
}
OVERDUE_KIND = "returns.refund_overdue"
MAX_PER_PAGE = 200


class ReturnNotFound(LookupError):
    """No return request with that id or refund id."""


class ReturnsError(ValueError):
    """An action the request cannot take (the message says why, in Chinese and English)."""


# ---------------------------------------------------------------- facts and the engine

@dataclass(frozen=True)
class Context:
    """What the engine reads besides the request row: the signing time, the product's exemption, the buyer's tier."""

    signed_at: datetime | None
    signed_source: str | None
    product_exempt: str | None
    customer_tier: str | None


def _rules_of(session: Session, shop_id: str) -> dict[str, Any]:
    """The shop's merged rules (read-only: cached by the settings' text, since merging copies every default)."""
    settings = session.scalar(select(Shop.settings).where(Shop.id == shop_id))
    return _merged_rules(json.dumps(settings or {}, sort_keys=True, ensure_ascii=False, default=str))


@lru_cache(maxsize=64)
def _merged_rules(settings_text: str) -> dict[str, Any]:
    return shop_rules(json.loads(settings_text))


def signing_of(session: Session, order_id: str | None) -> tuple[datetime | None, str | None]:
    """When the buyer signed for the order: the parcel's tracking first, else the order's end (confirm) time."""
    if not order_id:
        return None, None
    # A parcel's id is "{order_id}:{waybill}": a primary-key range finds the order's parcels without an order index.
    signed = session.scalar(select(func.max(Shipment.signed_at))
                            .where(Shipment.id > order_id + ":", Shipment.id < order_id + ";",
                                   Shipment.order_id == order_id))
    if signed is not None:
        return _aware(signed), "parcel"
    finished = session.scalar(select(Order.finished_at).where(Order.id == order_id))
    return (_aware(finished), "order_end") if finished is not None else (None, None)


def _aware(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def context_of(session: Session, request: ReturnRequest) -> Context:
    signed_at, source = signing_of(session, request.order_id)
    exempt = None
    if request.product_id:
        extra = session.scalar(select(Product.extra).where(Product.id == request.product_id)) or {}
        value = extra.get("returns_exempt") if isinstance(extra, dict) else None
        exempt = str(value) if value else None
    tier = None
    if request.customer_id:
        tier = session.scalar(select(Customer.value_tier).where(Customer.id == request.customer_id))
    return Context(signed_at, source, exempt, tier)


def facts_of(request: ReturnRequest, context: Context) -> ReturnFacts:
    """The engine's view of a stored request."""
    checklist = {str(k): bool(v) for k, v in (request.checklist or {}).items() if v is not None}
    return ReturnFacts(
        requested_at=_aware(request.requested_at),
        reason_code=request.reason_code,
        kind=request.kind,
        goods_received=request.good_status != "BUYER_NOT_RECEIVED",
        signed_at=context.signed_at,
        signed_source=context.signed_source,
        category=request.category,
        title=request.title,
        product_exempt=context.product_exempt,
        buyer_confirmed_non_returnable=bool(request.buyer_confirmed_non_returnable),
        checklist=checklist,
        condition=request.condition,
        resellable=request.resellable,
        item_price=request.item_price,
        refund_fee=request.refund_fee,
        returned_at=_aware(request.returned_at),
        prefers_exchange=bool(request.prefers_exchange),
        customer_tier=context.customer_tier,
        free_shipping=request.free_shipping,
        freight_insurance=request.freight_insurance,
    )


def evaluate(session: Session, request: ReturnRequest, context: Context | None = None,
             ) -> tuple[ReturnDecision, ReturnsPolicy]:
    """The engine's decision on a request as it stands, without storing anything."""
    policy = policy_for(_rules_of(session, request.shop_id), request.category)
    return decide(facts_of(request, context or context_of(session, request)), policy), policy


def apply_decision(session: Session, request: ReturnRequest, *, now: datetime) -> ReturnDecision:
    """Run the engine on the request and keep its decision, rules, freight payer, fee and refund due date (a request
    imported before its order is linked to the order once it has landed)."""
    if request.order_id is None:
        _link(session, request)
    context = context_of(session, request)
    decision, _policy = evaluate(session, request, context)
    request.decision = decision.outcome
    request.decision_rules = [hit.to_json() for hit in decision.rules]
    request.decision_detail = decision.to_json()
    request.freight_payer = decision.freight_payer
    request.depreciation_fee = decision.depreciation_fee
    request.signed_at = context.signed_at
    request.signed_source = context.signed_source
    if request.status not in (REFUSED, CLOSED, REFUNDED):
        request.refund_due_at = decision.refund_due_at
    request.decided_at = now
    request.updated_at = now
    session.flush()
    return decision


# ---------------------------------------------------------------- linking a request to its order

def _link(session: Session, request: ReturnRequest) -> None:
    """Find the order, line, product, category, buyer and price of a request from its tid/oid (when imported)."""
    order = session.get(Order, f"{request.shop_id}:{request.order_no}")
    if order is None:
        return
    request.order_id = order.id
    request.customer_id = request.customer_id or order.customer_id
    request.buyer_nick = request.buyer_nick or order.buyer_nick
    lines = list(session.scalars(select(OrderLine).where(OrderLine.order_id == order.id).order_by(OrderLine.line_no)))
    line = None
    if request.sub_order_no:
        line = next((ln for ln in lines if ln.sub_order_no == request.sub_order_no), None)
    if line is None and request.outer_id:
        line = next((ln for ln in lines if ln.outer_id == request.outer_id), None)
    if line is None and request.title:
        line = next((ln for ln in lines if ln.title == request.title), None)
    if line is None and len(lines) == 1:
        line = lines[0]
    if line is None:
        return
    request.order_line_id = line.id
    request.product_id = line.product_id
    request.title = request.title or line.title
    request.sku_properties = request.sku_properties or line.sku_properties
    request.outer_id = request.outer_id or line.outer_id
    request.quantity = request.quantity or line.quantity
    if request.item_price is None:
        request.item_price = line.paid_amount if line.paid_amount is not None else line.price
    if line.product_id:
        request.category = request.category or session.scalar(select(Product.category)
                                                              .where(Product.id == line.product_id))


def _kind_of(record: RefundRecord) -> str:
    if record.prefers_exchange:
        return EXCHANGE_KIND
    if record.has_good_return is False or record.good_status == "BUYER_NOT_RECEIVED":
        return REFUND_ONLY
    return RETURN_REFUND


# ---------------------------------------------------------------- importing TOP refunds

@dataclass
class RefundImport:
    """What one refunds file did."""

    file_name: str
    read: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    problems: list[str] = field(default_factory=list)
    request_ids: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"file": self.file_name, "read": self.read, "new": self.new, "updated": self.updated,
                "unchanged": self.unchanged, "rejected": len(self.problems), "problems": self.problems}


def import_refunds(session: Session, shop_id: str, data: bytes, name: str, *, now: datetime | None = None,
                   source: str = "top_refund") -> RefundImport:
    """Land every readable refund of a TOP refunds file (JSON or CSV) and decide the new and changed ones.

    Re-importing changes nothing; a newer `modified` updates the platform's fields and status (never the agent's
    own decision, checklist or override); a bad record is reported as FILE:LINE and the good ones still land."""
    now = now or datetime.now(UTC)
    rules = shop_rules(session.scalar(select(Shop.settings).where(Shop.id == shop_id)))
    parsed = read_refunds(data, name, timezone=str(rules.get("timezone") or "Asia/Shanghai"))
    result = RefundImport(file_name=name, read=len(parsed.records) + len(parsed.problems),
                          problems=[str(p) for p in parsed.problems])
    topics = default_topic_finder()
    for record in parsed.records:
        request_id = stable_id("return", shop_id, record.refund_id)
        request = session.get(ReturnRequest, request_id)
        if request is not None and not _changed(request, record):
            result.unchanged += 1
            result.request_ids.append(request_id)
            continue
        fresh = request is None
        if fresh:
            request = ReturnRequest(id=request_id, shop_id=shop_id, refund_id=record.refund_id, source=source,
                                    order_no=record.tid, status=OPEN, created_at=now,
                                    prefers_exchange=False, buyer_confirmed_non_returnable=False)
            session.add(request)
        _apply_record(request, record, topics)
        if fresh or request.status in ACTIVE:
            platform = PLATFORM_STATUS.get(record.status or "")
            if platform in (REFUSED, CLOSED, REFUNDED) or (fresh and platform):
                request.status = platform
        if request.status == REFUNDED and request.refunded_at is None:
            request.refunded_at = record.modified or now
        _link(session, request)
        session.flush()
        apply_decision(session, request, now=now)
        result.request_ids.append(request_id)
        if fresh:
            result.new += 1
        else:
            result.updated += 1
    return result


def _changed(request: ReturnRequest, record: RefundRecord) -> bool:
    if request.platform_modified_at is None or record.modified is None:
        return (request.platform_status, request.refund_fee, request.reason_text) != (
            record.status, record.refund_fee, record.reason)
    return _aware(record.modified) > _aware(request.platform_modified_at)


def _apply_record(request: ReturnRequest, record: RefundRecord, topics) -> None:
    reading = classify_reason(record.reason, record.desc, find_topics=topics)
    request.sub_order_no = record.oid
    request.buyer_nick = record.buyer_nick or request.buyer_nick
    request.title = record.title or request.title
    request.sku_properties = record.sku or request.sku_properties
    request.outer_id = record.outer_id or request.outer_id
    request.quantity = record.num or request.quantity
    request.kind = _kind_of(record)
    request.platform_status = record.status
    request.good_status = record.good_status
    request.reason_text = record.reason
    request.description = record.desc
    request.reason_code = reading.code
    request.reason_side = reading.side
    request.refund_fee = record.refund_fee
    if record.payment is not None or record.total_fee is not None:
        request.item_price = record.payment if record.payment is not None else record.total_fee
    request.requested_at = record.created or request.requested_at or record.modified or datetime.now(UTC)
    request.platform_modified_at = record.modified
    request.return_carrier = record.company_name
    request.return_waybill = record.sid
    request.prefers_exchange = bool(record.prefers_exchange or request.prefers_exchange)
    request.buyer_confirmed_non_returnable = bool(record.buyer_confirmed_non_returnable
                                                  or request.buyer_confirmed_non_returnable)
    if record.freight_insurance is not None:
        request.freight_insurance = record.freight_insurance
    if record.status == "WAIT_SELLER_CONFIRM_GOODS" and record.good_status == "BUYER_RETURNED_GOODS":
        request.return_carrier = record.company_name  # on its way back; arrival is recorded by the agent


def import_refunds_file(session: Session, shop_id: str, path: Path | str, *, now: datetime | None = None) -> RefundImport:
    """Import a refunds file from disk."""
    file = Path(path)
    if not file.is_file():
        from kefu.ingest.refunds_file import UnreadableRefunds
        raise UnreadableRefunds(f"{file}: 文件不存在 / file not found")
    return import_refunds(session, shop_id, file.read_bytes(), file.name, now=now)


# ---------------------------------------------------------------- requests entered in the workbench

def create_request(session: Session, shop_id: str, *, order_no: str, reason: str | None, description: str | None = None,
                   sub_order_no: str | None = None, kind: str = RETURN_REFUND, requested_at: datetime | None = None,
                   refund_fee: Decimal | None = None, prefers_exchange: bool = False,
                   buyer_confirmed_non_returnable: bool = False, freight_insurance: bool | None = None,
                   by: str | None = None, now: datetime | None = None, source: str = "workbench",
                   refund_id: str | None = None) -> ReturnRequest:
    """A return request an agent enters for an order (the buyer asked in chat or by phone), decided at once."""
    now = now or datetime.now(UTC)
    order_no = (order_no or "").strip()
    if not order_no:
        raise ReturnsError("订单编号必填 / order_no: the order number is required")
    if kind not in KINDS:
        raise ReturnsError(f"kind: 须为 / must be one of {', '.join(KINDS)}")
    if refund_fee is not None and refund_fee < 0:
        raise ReturnsError("refund_fee: 不能为负数 / must not be negative")
    refund_id = refund_id or "M" + new_id()[:15]
    request_id = stable_id("return", shop_id, refund_id)
    if session.get(ReturnRequest, request_id) is not None:
        raise ReturnsError(f"退款编号已存在 / refund_id {refund_id} exists already")
    desc = redact_phones((description or "").strip()) or None
    reading = classify_reason(reason, desc, find_topics=default_topic_finder())
    request = ReturnRequest(
        id=request_id, shop_id=shop_id, refund_id=refund_id, source=source, order_no=order_no,
        sub_order_no=(sub_order_no or "").strip() or None, kind=kind, reason_text=(reason or "").strip()[:200] or None,
        description=desc, reason_code=reading.code, reason_side=reading.side, refund_fee=refund_fee,
        requested_at=requested_at or now, prefers_exchange=prefers_exchange or kind == EXCHANGE_KIND,
        buyer_confirmed_non_returnable=buyer_confirmed_non_returnable, freight_insurance=freight_insurance,
        good_status="BUYER_NOT_RECEIVED" if kind == REFUND_ONLY else "BUYER_RECEIVED",
        status=OPEN, created_at=now, handled_by=by,
    )
    _link(session, request)
    if request.order_id is None:
        raise ReturnsError(f"找不到订单 / no order {order_no} in this shop")
    if request.refund_fee is None:
        request.refund_fee = request.item_price
    session.add(request)
    session.flush()
    apply_decision(session, request, now=now)
    return request


# ---------------------------------------------------------------- the agent's actions

def get_request(session: Session, request_id: str, shop_id: str | None = None) -> ReturnRequest:
    """A request by its id, or by its refund id within a shop."""
    request = session.get(ReturnRequest, request_id)
    if request is None and shop_id:
        request = session.scalar(select(ReturnRequest).where(ReturnRequest.shop_id == shop_id,
                                                             ReturnRequest.refund_id == request_id))
    if request is None and not shop_id:
        found = list(session.scalars(select(ReturnRequest).where(ReturnRequest.refund_id == request_id).limit(2)))
        request = found[0] if len(found) == 1 else None
    if request is None or (shop_id and request.shop_id != shop_id):
        raise ReturnNotFound(request_id)
    return request


def _audit(session: Session, by: str | None, action: str, request: ReturnRequest, detail: str, now: datetime) -> None:
    user_id = session.scalar(select(User.id).where(User.username == by)) if by else None
    session.add(AuditEntry(at=now, user_id=user_id, action=action, target_type="return_request",
                           target_id=request.id, detail=detail[:2000]))


def act(session: Session, request_id: str, outcome: str, *, by: str | None, reason: str | None = None,
        now: datetime | None = None) -> ReturnRequest:
    """The agent accepts, refuses or exchanges. Going against the engine's decision is an override: it needs a
    reason, and it is recorded on the request and in the audit log."""
    now = now or datetime.now(UTC)
    if outcome not in OUTCOMES:
        raise ReturnsError(f"outcome: 须为 / must be one of {', '.join(OUTCOMES)}")
    request = get_request(session, request_id)
    if request.status in (REFUNDED, CLOSED):
        raise ReturnsError("该申请已完结 / this request is finished already")
    if request.decision is None:
        apply_decision(session, request, now=now)
    reason = redact_phones((reason or "").strip()) or None
    overriding = outcome != request.decision
    if overriding and not reason:
        raise ReturnsError("改判须填写理由 / an override needs a reason")
    request.status = OUTCOME_STATUS[outcome]
    request.handled_by = by
    request.handled_at = now
    request.updated_at = now
    if overriding:
        request.override_outcome = outcome
        request.override_reason = reason
        request.overridden_by = by
        request.overridden_at = now
        _audit(session, by, "returns.override", request,
               f"{request.refund_id}: {request.decision} → {outcome}: {reason}", now)
    else:
        _audit(session, by, "returns." + outcome, request, f"{request.refund_id}: {outcome}" +
               (f": {reason}" if reason else ""), now)
    if outcome == ACCEPT and request.refund_due_at is None:
        decision, _ = evaluate(session, request)
        request.refund_due_at = decision.refund_due_at
    if outcome == REFUSE:
        request.refund_due_at = None
    session.flush()
    return request


def record_return(session: Session, request_id: str, *, checklist: dict[str, bool], condition: str | None,
                  resellable: bool | None, by: str | None, received_at: datetime | None = None,
                  now: datetime | None = None) -> ReturnDecision:
    """The return arrived: keep the inspection (intact checklist, condition, resellable), decide again with it, and
    start the refund clock (due `refund_due_days` after arrival)."""
    now = now or datetime.now(UTC)
    if condition is not None and condition not in CONDITIONS:
        raise ReturnsError(f"condition: 须为 / must be one of {', '.join(CONDITIONS)}")
    request = get_request(session, request_id)
    request.returned_at = received_at or now
    request.checklist = {str(k): bool(v) for k, v in checklist.items()}
    request.condition = condition
    request.resellable = resellable
    _audit(session, by, "returns.received", request, f"{request.refund_id}: {condition or '-'} "
           f"{','.join(k for k, v in checklist.items() if not v) or 'intact'}", now)
    decision = apply_decision(session, request, now=now)
    if request.status == ACCEPTED and decision.refund_due_at is not None:
        request.refund_due_at = decision.refund_due_at
    session.flush()
    return decision


def mark_refunded(session: Session, request_id: str, *, by: str | None, now: datetime | None = None) -> ReturnRequest:
    """The refund was paid: the request is finished and its overdue alert (if any) is resolved."""
    now = now or datetime.now(UTC)
    request = get_request(session, request_id)
    if request.status == REFUSED:
        raise ReturnsError("已拒绝的申请不能退款 / a refused request cannot be refunded")
    request.status = REFUNDED
    request.refunded_at = now
    request.handled_by = by
    request.updated_at = now
    _audit(session, by, "returns.refunded", request, f"{request.refund_id}: {request.refund_fee}", now)
    session.execute(update(Alert).where(Alert.dedupe_key == _overdue_key(request.id), Alert.status != "resolved")
                    .values(status="resolved", resolved_at=now, resolved_by=by or "returns"))
    session.flush()
    return request


# ---------------------------------------------------------------- due dates and the overdue alert

def due_state(request: ReturnRequest, now: datetime, warning_days: int) -> str | None:
    """overdue | due_soon | pending for a refund still owed; None when nothing is owed."""
    if request.refund_due_at is None or request.status not in (OPEN, ACCEPTED) or request.refunded_at is not None:
        return None
    due = _aware(request.refund_due_at)
    if due <= now:
        return "overdue"
    if due - now <= timedelta(days=warning_days):
        return "due_soon"
    return "pending"


def _overdue_key(request_id: str) -> str:
    return f"{OVERDUE_KIND}:{request_id}"


def raise_overdue_alerts(session: Session, shop_id: str, *, now: datetime) -> int:
    """One alert per refund owed past its due date (kind returns.refund_overdue, critical); returns how many are new."""
    rows = list(session.execute(
        select(ReturnRequest.id, ReturnRequest.refund_id, ReturnRequest.order_id, ReturnRequest.customer_id,
               ReturnRequest.refund_due_at, ReturnRequest.refund_fee)
        .where(ReturnRequest.shop_id == shop_id, ReturnRequest.status.in_((OPEN, ACCEPTED)),
               ReturnRequest.refunded_at.is_(None), ReturnRequest.refund_due_at.is_not(None),
               ReturnRequest.refund_due_at <= now)
    ))
    if not rows:
        return 0
    conn = session.connection()
    raised = 0
    for row in rows:
        hours = (now - _aware(row.refund_due_at)).total_seconds() / 3600
        result = conn.execute(insert_ignoring(conn, Alert.__table__, "dedupe_key").values(
            id=stable_id("alert", _overdue_key(row.id)), shop_id=shop_id, kind=OVERDUE_KIND, severity="critical",
            status="open", dedupe_key=_overdue_key(row.id), order_id=row.order_id, customer_id=row.customer_id,
            raised_at=now, due_at=row.refund_due_at,
            rule=f"退款逾期: 退款编号 {row.refund_id} 应于收到退货后按时退款 (规则 refund_due_days)"[:200],
            detail={"refund_id": row.refund_id, "request_id": row.id, "hours": round(hours, 1),
                    "refund_fee": None if row.refund_fee is None else str(row.refund_fee)},
        ).returning(Alert.__table__.c.id))
        raised += len(result.all())  # RETURNING: PostgreSQL reports no rowcount for ON CONFLICT DO NOTHING
    return raised


# ---------------------------------------------------------------- the request list

@dataclass(frozen=True)
class ReturnRow:
    request: ReturnRequest
    due: str | None  # overdue | due_soon | pending | None


@dataclass(frozen=True)
class ReturnPage:
    items: list[ReturnRow]
    total: int
    page: int
    per_page: int
    counts: dict[str, int]

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))


def _filter(status: str, now: datetime, warning_days: int) -> list[Any]:
    owed = [ReturnRequest.status.in_((OPEN, ACCEPTED)), ReturnRequest.refunded_at.is_(None),
            ReturnRequest.refund_due_at.is_not(None)]
    if status == "active":
        return [ReturnRequest.status.in_(ACTIVE)]
    if status == "overdue":
        return [*owed, ReturnRequest.refund_due_at <= now]
    if status == "due_soon":
        return [*owed, ReturnRequest.refund_due_at > now,
                ReturnRequest.refund_due_at <= now + timedelta(days=warning_days)]
    if status in STATUSES:
        return [ReturnRequest.status == status]
    return []


def list_requests(session: Session, shop_id: str, *, status: str = "active", query: str | None = None,
                  now: datetime | None = None, page: int = 1, per_page: int = 50) -> ReturnPage:
    """The request list: soonest refund due first (overdue on top), then newest requests; with counts per filter."""
    now = now or datetime.now(UTC)
    warning = int(_rules_of(session, shop_id)["returns"].get("refund_warning_days", 2))
    status = status if status in STATUS_FILTERS else "active"
    page = max(1, int(page))
    per_page = max(1, min(int(per_page), MAX_PER_PAGE))
    conditions = [ReturnRequest.shop_id == shop_id, *_filter(status, now, warning)]
    if query and query.strip():
        like = "%" + query.strip().replace("%", "").replace("_", "") + "%"
        conditions.append(or_(ReturnRequest.refund_id.like(like), ReturnRequest.order_no.like(like),
                              ReturnRequest.buyer_nick.like(like), ReturnRequest.title.like(like)))
    total = session.scalar(select(func.count()).select_from(ReturnRequest).where(*conditions)) or 0
    requests = session.scalars(
        select(ReturnRequest).where(*conditions)
        .order_by(ReturnRequest.refund_due_at.asc().nulls_last(), ReturnRequest.requested_at.desc(), ReturnRequest.id)
        .limit(per_page).offset((page - 1) * per_page)
    )
    items = [ReturnRow(r, due_state(r, now, warning)) for r in requests]
    counts = {name: session.scalar(select(func.count()).select_from(ReturnRequest)
                                   .where(ReturnRequest.shop_id == shop_id, *_filter(name, now, warning))) or 0
              for name in ("active", "overdue", "due_soon")}
    return ReturnPage(items, total, page, per_page, counts)


def rules_of(request: ReturnRequest) -> list[RuleHit]:
    """The stored decision's rules, with the override (if any) as the last rule."""
    hits = [hit_from_json(item) for item in (request.decision_rules or [])]
    if request.override_outcome:
        hits.append(rule("returns.override", outcome=request.override_outcome, reason=request.override_reason or ""))
    return hits


def request_json(request: ReturnRequest, *, now: datetime | None = None, warning_days: int = 2) -> dict[str, Any]:
    """A request for the REST API and the CLI (buyer nick as stored: TOP already masks it)."""
    def iso(moment: datetime | None) -> str | None:
        return _aware(moment).isoformat() if moment else None

    def money(value: Decimal | None) -> str | None:
        return None if value is None else str(value)

    return {
        "id": request.id, "refund_id": request.refund_id, "source": request.source, "order_no": request.order_no,
        "sub_order_no": request.sub_order_no, "order_id": request.order_id, "customer_id": request.customer_id,
        "buyer_nick": request.buyer_nick, "title": request.title, "sku": request.sku_properties,
        "category": request.category, "kind": request.kind, "platform_status": request.platform_status,
        "good_status": request.good_status, "reason": request.reason_text, "desc": request.description,
        "reason_code": request.reason_code, "reason_side": request.reason_side,
        "refund_fee": money(request.refund_fee), "item_price": money(request.item_price),
        "requested_at": iso(request.requested_at), "signed_at": iso(request.signed_at),
        "signed_source": request.signed_source, "returned_at": iso(request.returned_at),
        "refund_due_at": iso(request.refund_due_at), "refunded_at": iso(request.refunded_at),
        "due": due_state(request, now or datetime.now(UTC), warning_days),
        "status": request.status, "decision": request.decision,
        "rules": [hit.to_json() for hit in rules_of(request)],
        "freight_payer": request.freight_payer, "depreciation_fee": money(request.depreciation_fee),
        "detail": request.decision_detail, "checklist": request.checklist, "condition": request.condition,
        "resellable": request.resellable, "prefers_exchange": request.prefers_exchange,
        "buyer_confirmed_non_returnable": request.buyer_confirmed_non_returnable,
        "override": None if not request.override_outcome else {
            "outcome": request.override_outcome, "reason": request.override_reason, "by": request.overridden_by,
            "at": iso(request.overridden_at)},
        "handled_by": request.handled_by,
    }


@dataclass(frozen=True)
class ReturnsSweep:
    """What one returns sweep raised: overdue refunds and products whose return rate jumped."""

    shop_id: str
    overdue: int
    rate_jumps: int

    def to_json(self) -> dict[str, Any]:
        return {"shop_id": self.shop_id, "overdue": self.overdue, "rate_jumps": self.rate_jumps}


def sweep_returns(session: Session, shop_id: str, *, now: datetime | None = None) -> ReturnsSweep:
    """Raise the overdue-refund and return-rate-jump alerts of one shop now."""
    from kefu.services.return_reasons import raise_rate_jump_alerts

    now = now or datetime.now(UTC)
    overdue = raise_overdue_alerts(session, shop_id, now=now)
    jumps = raise_rate_jump_alerts(session, shop_id, now=now)
    return ReturnsSweep(shop_id, overdue, len(jumps))


def sweep_all(store, *, now: datetime | None = None) -> list[ReturnsSweep]:
    """Sweep every shop, one transaction each (the server runs this on the watch timer); a failing shop is logged."""
    import logging

    from kefu.store.tables import Shop as ShopRow

    with store.session() as session:
        shop_ids = list(session.scalars(select(ShopRow.id).order_by(ShopRow.id)))
    results = []
    for shop_id in shop_ids:
        try:
            with store.session() as session:
                results.append(sweep_returns(session, shop_id, now=now))
        except Exception:  # noqa: BLE001 - one shop's failure must not stop the others
            logging.getLogger(__name__).exception("returns sweep of shop %s failed", shop_id)
    return results


def customer_returns(session: Session, customer_id: str, *, limit: int = 10) -> tuple[list[ReturnRequest], int]:
    """A buyer's latest return requests (for the customer 360) and how many there are in all."""
    total = session.scalar(select(func.count()).select_from(ReturnRequest)
                           .where(ReturnRequest.customer_id == customer_id)) or 0
    latest = list(session.scalars(select(ReturnRequest).where(ReturnRequest.customer_id == customer_id)
                                  .order_by(ReturnRequest.requested_at.desc(), ReturnRequest.id).limit(limit)))
    return latest, total


def flag_product(session: Session, shop_id: str, product: str, exemption: str | None) -> Product:
    """Mark a product (by id, platform item id, outer id or exact title) as exempt from no-reason returns, e.g.
    made_to_order; None clears the mark. Kept in the product's extra as `returns_exempt`."""
    from kefu.domain.returns.policy import EXEMPTIONS

    if exemption is not None and exemption not in EXEMPTIONS:
        raise ReturnsError(f"exemption: 须为 / must be one of {', '.join(EXEMPTIONS)}")
    found = session.scalar(select(Product).where(Product.shop_id == shop_id, or_(
        Product.id == product, Product.platform_item_id == product, Product.outer_id == product,
        Product.title == product)).limit(1))
    if found is None:
        raise ReturnsError(f"找不到商品 / no product {product} in this shop")
    extra = dict(found.extra or {})
    if exemption is None:
        extra.pop("returns_exempt", None)
    else:
        extra["returns_exempt"] = exemption
    found.extra = extra
    session.flush()
    return found
