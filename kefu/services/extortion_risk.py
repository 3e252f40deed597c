"""差评师 risk in the store: gather a buyer's history and words, score them, keep the assessment, build the evidence pack."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime, timedelta
from uuid import uuid4

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kefu.config import shop_rules
from kefu.domain.order_status import PAID
from kefu.domain.privacy import redact_phones
from kefu.domain.risk.extortion import RiskInputs, RiskRules, RiskScore, score_buyer
from kefu.store.case_tables import Case, Promise
from kefu.store.desk_tables import ChatMessage, Conversation
from kefu.store.growth_tables import RiskAssessment
from kefu.store.review_tables import Review
from kefu.store.tables import Customer, Order, Shop

COD_WORDS = ("货到付款", "到付", "cod")
RECENT_MESSAGES = 40


def _rules(session: Session, shop_id: str) -> RiskRules:
    shop = session.get(Shop, shop_id)
    return RiskRules.from_config(shop_rules(shop.settings if shop else None)["extortion_risk"])


def buyer_messages(session: Session, customer_id: str, limit: int = RECENT_MESSAGES) -> list[tuple[datetime, str]]:
    """The buyer's own recent chat messages (oldest first) and order messages (买家留言)."""
    chats = session.execute(
        select(ChatMessage.sent_at, ChatMessage.body).join(Conversation, Conversation.id == ChatMessage.conversation_id)
        .where(Conversation.customer_id == customer_id, ChatMessage.sender == "buyer")
        .order_by(ChatMessage.sent_at.desc()).limit(limit)
    ).all()
    notes = session.execute(
        select(Order.created_at, Order.buyer_message)
        .where(Order.customer_id == customer_id, Order.buyer_message.is_not(None), Order.buyer_message != "")
        .order_by(Order.created_at.desc()).limit(10)
    ).all()
    found = [(at, body) for at, body in chats + notes if at is not None and body]
    return sorted(found)


def risk_inputs(session: Session, customer_id: str, *, order_id: str | None = None,
                extra_messages: tuple[str, ...] = ()) -> RiskInputs:
    """What the score needs, from orders, chats, complaint cases and reviews kept in this install."""
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise LookupError(f"customer {customer_id} not found / 找不到客户")
    order = session.get(Order, order_id) if order_id else None
    paid_before = session.scalar(
        select(func.count()).select_from(Order).where(
            Order.customer_id == customer_id, Order.status.in_(sorted(PAID)),
            *([Order.id != order_id] if order_id else []))
    ) or 0
    refunds = session.scalar(select(func.count()).select_from(Order).where(
        Order.customer_id == customer_id, Order.refunded_amount > 0)) or 0
    complaints = session.scalar(select(func.count()).select_from(Case).where(Case.customer_id == customer_id)) or 0
    bad_reviews = session.scalar(select(func.count()).select_from(Review).where(
        Review.customer_id == customer_id, Review.result.in_(("neutral", "bad")))) or 0
    cod = bool(order is not None and any(w in (order.shipping_method or "").lower() for w in COD_WORDS))
    messages = [body for _at, body in buyer_messages(session, customer_id)] + list(extra_messages)
    return RiskInputs(
        paid_orders_before=paid_before,
        province=(order.receiver_province if order is not None else None) or customer.province,
        cash_on_delivery=cod,
        messages=tuple(messages),
        past_complaints=complaints,
        past_refunds=refunds,
        past_bad_reviews=bad_reviews,
    )


def assess_buyer(session: Session, customer_id: str, *, trigger: str, now: datetime, order_id: str | None = None,
                 extra_messages: tuple[str, ...] = ()) -> RiskAssessment:
    """Score the buyer now and keep the assessment (a new row each time, so the history shows how it moved)."""
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise LookupError(f"customer {customer_id} not found / 找不到客户")
    inputs = risk_inputs(session, customer_id, order_id=order_id, extra_messages=extra_messages)
    score: RiskScore = score_buyer(inputs, _rules(session, customer.shop_id))
    row = RiskAssessment(
        id=uuid4().hex, shop_id=customer.shop_id, customer_id=customer_id, order_id=order_id, trigger=trigger,
        score=score.score, level=score.level,
        signals=[{**asdict(s), "evidence": redact_phones(s.evidence)} for s in score.signals], assessed_at=now,
    )
    session.add(row)
    session.flush()
    return row


def assess_new_orders(session: Session, shop_id: str, now: datetime) -> int:
    """Score the buyers of orders placed within the look-back (`extortion_risk.order_lookback_hours`) that have no
    assessment since the order came in: an import of history scores nobody. Returns the buyers scored."""
    shop = session.get(Shop, shop_id)
    hours = float(shop_rules(shop.settings if shop else None)["extortion_risk"].get("order_lookback_hours", 48))
    since = now - timedelta(hours=hours)
    recent = session.execute(
        select(Order.id, Order.customer_id, Order.created_at)
        .where(Order.shop_id == shop_id, Order.created_at >= since, Order.customer_id.is_not(None))
        .order_by(Order.created_at.desc())
    ).all()
    scored: set[str] = set()
    for order_id, customer_id, created in recent:
        if customer_id in scored:
            continue
        last = session.scalar(select(func.max(RiskAssessment.assessed_at)).where(
            RiskAssessment.customer_id == customer_id))
        if last is not None and last >= created:
            continue
        assess_buyer(session, customer_id, trigger="order", now=now, order_id=order_id)
        scored.add(customer_id)
    return len(scored)


def is_high_risk(session: Session, customer_id: str | None) -> bool:
    """True when the buyer's latest assessment is high: the promise guard then blocks what it would only warn about."""
    if not customer_id:
        return False
    latest = latest_risk(session, customer_id)
    return latest is not None and latest.level == "high"


def latest_risk(session: Session, customer_id: str) -> RiskAssessment | None:
    return session.scalar(select(RiskAssessment).where(RiskAssessment.customer_id == customer_id)
                          .order_by(RiskAssessment.assessed_at.desc()).limit(1))


def high_risk_buyers(session: Session, shop_id: str, limit: int = 100) -> list[tuple[RiskAssessment, Customer]]:
    """Each buyer's latest assessment at medium or high, highest score first."""
    latest = (select(RiskAssessment.customer_id, func.max(RiskAssessment.assessed_at).label("at"))
              .where(RiskAssessment.shop_id == shop_id).group_by(RiskAssessment.customer_id).subquery())
    rows = session.execute(
        select(RiskAssessment, Customer)
        .join(latest, (latest.c.customer_id == RiskAssessment.customer_id) & (latest.c.at == RiskAssessment.assessed_at))
        .join(Customer, Customer.id == RiskAssessment.customer_id)
        .where(RiskAssessment.level.in_(("medium", "high")))
        .order_by(RiskAssessment.score.desc()).limit(limit)
    ).all()
    return [(a, c) for a, c in rows]


def evidence_pack(session: Session, customer_id: str, *, now: datetime) -> dict:
    """Everything a platform appeal needs, as one JSON-ready dict: the transcript with timestamps, order snapshots,
    promises the shop made, and the demand in the buyer's own words (phones redacted throughout)."""
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise LookupError(f"customer {customer_id} not found / 找不到客户")
    transcript = session.execute(
        select(ChatMessage.sent_at, ChatMessage.sender, ChatMessage.author, ChatMessage.body)
        .join(Conversation, Conversation.id == ChatMessage.conversation_id)
        .where(Conversation.customer_id == customer_id).order_by(ChatMessage.sent_at)
    ).all()
    orders = session.scalars(select(Order).where(Order.customer_id == customer_id).order_by(Order.created_at)).all()
    promises = session.scalars(select(Promise).where(Promise.customer_id == customer_id)).all()
    assessment = latest_risk(session, customer_id)
    demand = [s for s in (assessment.signals if assessment else [])
              if s.get("code") in ("extortion_language", "off_platform_payment", "invoice_trap")]
    return {
        "generated_at": now.isoformat(),
        "buyer": customer.buyer_nick,
        "risk": {"score": assessment.score, "level": assessment.level, "signals": assessment.signals,
                 "assessed_at": assessment.assessed_at.isoformat()} if assessment else None,
        "demand": [{"what": s["zh"], "words": s["evidence"]} for s in demand],
        "transcript": [{"at": at.isoformat(), "from": "买家" if sender == "buyer" else (author or "客服"),
                        "text": redact_phones(body)} for at, sender, author, body in transcript],
        "orders": [{"order_no": o.order_no, "status": o.status, "created_at": o.created_at.isoformat()
                    if o.created_at else None, "paid_amount": str(o.paid_amount) if o.paid_amount is not None else None,
                    "title": o.title_summary, "buyer_message": redact_phones(o.buyer_message or "") or None}
                   for o in orders],
        "promises": [_promise_json(p) for p in promises],
    }


def _promise_json(promise: Promise) -> dict:
    return {"kind": promise.kind, "what": promise.what, "words": redact_phones(promise.source_text),
            "made_at": promise.made_at.isoformat(), "made_by": promise.made_by,
            "due_at": promise.due_at.isoformat() if promise.due_at else None, "status": promise.status}


def evidence_pack_json(pack: dict) -> str:
    return json.dumps(pack, ensure_ascii=False, indent=2)
