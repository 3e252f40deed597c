"""The transactional outbox: a message is written in the caller's transaction with every decision about it (consent,
opt-out, daily cap, quiet hours, promise guard), and handed to the delivery workers; callers never send directly."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Mapping

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from kefu.domain.messaging.policy import DEFER, SUPPRESS, Recipient, decide, local_day_start
from kefu.domain.messaging.review_invite import review_reward_problem
from kefu.domain.messaging.rules import PURPOSES, MessagingRules
from kefu.domain.messaging.templates import TemplateProblem
from kefu.domain.privacy import redact_phones
from kefu.ids import new_id
from kefu.queue.dispatch import wake_workers
from kefu.services.message_templates import render_for_shop, shop_messaging_rules
from kefu.store.messaging_tables import MessageDecision, MessageSuppression, OutboxMessage
from kefu.store.tables import Customer

log = logging.getLogger(__name__)

QUEUED, SENDING, SENT, RETRY, DEAD, SUPPRESSED, BLOCKED, DUPLICATE = (
    "queued", "sending", "sent", "retry", "dead", "suppressed", "blocked", "duplicate")
STATUSES = (QUEUED, SENDING, SENT, RETRY, DEAD, SUPPRESSED, BLOCKED)
COUNTED = (QUEUED, SENDING, SENT, RETRY)  # what counts toward the daily cap


class MessageProblem(ValueError):
    """An OutgoingMessage that cannot be queued as given (the message names the field)."""


@dataclass(frozen=True)
class OutgoingMessage:
    """A message a capability wants sent to a buyer; exactly one of `template` (a template key) or `text`."""

    shop_id: str
    customer_id: str | None
    event: str  # order.shipped | parcel.delayed | stockout.options | desk.reply | review.reply | case.update …
    purpose: str  # transactional | marketing | service (an agent answering a buyer who wrote)
    template: str | None = None
    text: str | None = None
    order_id: str | None = None
    variables: Mapping[str, Any] = field(default_factory=dict)
    channel: str | None = None  # None: the shop's default channel
    idempotency_key: str | None = None  # default shop:customer:order:event:template


@dataclass(frozen=True)
class QueuedMessage:
    message_id: str | None
    status: str  # queued | suppressed | duplicate | blocked
    reason: str | None
    text: str | None


def default_idempotency_key(message: OutgoingMessage) -> str:
    """One message per (customer, order, event, template) in a shop, so a re-run or a retried event never sends twice."""
    return ":".join([message.shop_id, message.customer_id or "-", message.order_id or "-", message.event,
                     message.template or "text"])


def _validate(message: OutgoingMessage) -> None:
    if message.purpose not in PURPOSES:
        raise MessageProblem(f"purpose: 应为 {'/'.join(PURPOSES)} / expected one of {PURPOSES}, got {message.purpose!r}")
    if (message.template is None) == (message.text is None):
        raise MessageProblem("template / text: 只能给出其一 / give exactly one of template or text")
    if message.text is not None and not message.text.strip():
        raise MessageProblem("text: 内容为空 / the text is empty")
    if not message.event:
        raise MessageProblem("event: 必填 / required")


def record_decision(session: Session, row: OutboxMessage, decision: str, *, at: datetime, reason: str | None = None,
                    detail: str | None = None, actor: str | None = None) -> None:
    session.add(MessageDecision(shop_id=row.shop_id, message_id=row.id, at=at, decision=decision, reason=reason,
                                detail=redact_phones(detail), actor=actor))


def opted_out_scope(session: Session, shop_id: str, customer_id: str | None) -> str | None:
    """None, "marketing" or "all": the widest opt-out recorded for the buyer."""
    if customer_id is None:
        return None
    scopes = set(session.scalars(select(MessageSuppression.scope).where(
        MessageSuppression.shop_id == shop_id, MessageSuppression.customer_id == customer_id)))
    return "all" if "all" in scopes else ("marketing" if scopes else None)


@dataclass(frozen=True)
class ShopContext:
    """What queueing needs of a shop, read once per transaction: rules, name, opt-out wording, the guard's facts."""

    rules: MessagingRules
    shop_name: str | None
    opt_out_suffix: str | None
    facts: Any


_CONTEXT_KEY = "kefu.outbox.shop_context"


def shop_context(session: Session, shop_id: str, rules: MessagingRules | None = None) -> ShopContext:
    """The shop's context, kept in the session's info until its transaction ends (a batch of messages reads it once)."""
    cache = session.info.setdefault(_CONTEXT_KEY, {})
    context = cache.get(shop_id)
    if context is None:
        from kefu.config import shop_rules
        from kefu.services.message_templates import rules_of
        from kefu.store.tables import Shop

        shop = session.get(Shop, shop_id)
        merged = shop_rules(shop.settings if shop else None)
        try:  # the promise guard's view of the shop (its knowledge base and configured facts), when installed
            from kefu.services.shop_facts import load_shop_facts

            facts = load_shop_facts(session, shop_id)
        except ImportError:  # pragma: no cover - written separately
            facts = None
        context = cache[shop_id] = ShopContext(rules_of(shop), shop.name if shop else None,
                                               (merged.get("channels") or {}).get("marketing_opt_out"), facts)
    return replace(context, rules=rules) if rules is not None else context


@event.listens_for(Session, "after_transaction_end")
def _forget_shop_context(session: Session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(_CONTEXT_KEY, None)


def _recipient(session: Session, message: OutgoingMessage, rules: MessagingRules, now: datetime) -> tuple[Recipient, str | None]:
    """The buyer's consent, opt-out scope and today's count for the purpose (when capped), and their nickname."""
    if message.customer_id is None:
        return Recipient(marketing_consent=False, opted_out=None, queued_today=0), None
    mine = (MessageSuppression.shop_id == message.shop_id, MessageSuppression.customer_id == message.customer_id)
    row = session.execute(select(
        Customer.marketing_consent, Customer.buyer_nick,
        select(func.min(MessageSuppression.scope)).where(*mine).scalar_subquery(),  # "all" sorts before "marketing"
    ).where(Customer.id == message.customer_id)).first()
    consent, nick, lowest = row if row is not None else (False, None, None)
    scope = "all" if lowest == "all" else ("marketing" if lowest else None)
    cap = rules.daily_cap.get(message.purpose)
    today = _queued_today(session, message, rules, now) if cap is not None else 0
    return Recipient(marketing_consent=bool(consent), opted_out=scope, queued_today=today), nick


def _queued_today(session: Session, message: OutgoingMessage, rules: MessagingRules, now: datetime) -> int:
    if message.customer_id is None:
        return 0
    return session.scalar(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.customer_id == message.customer_id, OutboxMessage.purpose == message.purpose,
        OutboxMessage.status.in_(COUNTED), OutboxMessage.created_at >= local_day_start(now, rules.timezone))) or 0


def _guard(message: OutgoingMessage, text: str, now: datetime, facts: Any) -> str | None:
    """Why the wording may not go out (a review reward, a promise the shop cannot keep), or None."""
    if message.event == "review.invite" or message.template == "review.invite":
        if review_reward_problem(text):
            return "review_reward"
    if facts is None:
        return None
    from kefu.domain.promise_guard import GuardContext, check_text

    verdict = check_text(text, facts, GuardContext(now=now))
    if verdict.action == "block":
        return ",".join(r.code for r in verdict.reasons) or "promise_guard"
    return None


def _with_opt_out(text: str, purpose: str, suffix: str | None) -> str:
    from kefu.channels.marketing import with_opt_out

    return with_opt_out(text, purpose=purpose, suffix=suffix)


@dataclass(frozen=True)
class _Ref:
    id: str
    shop_id: str


def _insert_once(session: Session, values: dict[str, Any]) -> bool:
    """INSERT … ON CONFLICT (idempotency_key) DO NOTHING on either store; True when the row was written."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    statement = insert(OutboxMessage).values(**values).on_conflict_do_nothing(index_elements=["idempotency_key"])
    return session.connection().execute(statement.returning(OutboxMessage.id)).first() is not None


def queue_message(session: Session, message: OutgoingMessage, *, now: datetime, actor: str | None = None,
                  rules: MessagingRules | None = None) -> QueuedMessage:
    """Write the message to the outbox in the caller's transaction and hand it to the workers (on PostgreSQL a
    procrastinate job in the same transaction). Returns queued (maybe deferred to after quiet hours: reason
    quiet_hours), suppressed (why), blocked (why) or duplicate (the idempotency key was seen before)."""
    _validate(message)
    key = message.idempotency_key or default_idempotency_key(message)
    existing = session.execute(select(OutboxMessage.id, OutboxMessage.status, OutboxMessage.text).where(
        OutboxMessage.idempotency_key == key)).first()
    if existing is not None:
        return QueuedMessage(existing.id, DUPLICATE, existing.status, existing.text)
    context = shop_context(session, message.shop_id, rules)
    rules = context.rules
    recipient, nickname = _recipient(session, message, rules, now)
    voice = None
    if message.template is not None:
        known = {"nickname": nickname, "shop_name": context.shop_name}
        try:
            voice, text = render_for_shop(session, message.shop_id, message.template,
                                          {**known, **message.variables}, rules=rules)
        except TemplateProblem as exc:
            raise MessageProblem(f"template {message.template}: {exc}") from None
    else:
        text = " ".join((message.text or "").split())
    text = _with_opt_out(text, message.purpose, context.opt_out_suffix)
    decision = decide(purpose=message.purpose, event=message.event, recipient=recipient, rules=rules, now=now)
    blocked = _guard(message, text, now, context.facts)
    if blocked:
        status, reason = BLOCKED, blocked
    elif decision.action == SUPPRESS:
        status, reason = SUPPRESSED, decision.reason
    else:
        status, reason = QUEUED, decision.reason
    next_attempt_at = (decision.not_before or now) if status == QUEUED else None
    values = dict(
        id=new_id(), shop_id=message.shop_id, customer_id=message.customer_id, order_id=message.order_id,
        event=message.event, purpose=message.purpose, template_key=message.template, voice=voice, text=text,
        variables={k: ("" if v is None else str(v)) for k, v in message.variables.items()} or None,
        channel=message.channel, idempotency_key=key, status=status, reason=reason, attempts=0,
        next_attempt_at=next_attempt_at, created_at=now, updated_at=now, created_by=actor,
    )
    if not _insert_once(session, values):  # a concurrent writer with the same key won: this one is a duplicate
        winner = session.execute(select(OutboxMessage.id, OutboxMessage.status, OutboxMessage.text).where(
            OutboxMessage.idempotency_key == key)).one()
        return QueuedMessage(winner.id, DUPLICATE, winner.status, winner.text)
    row = _Ref(values["id"], message.shop_id)
    if status == QUEUED:
        deferred = decision.action == DEFER
        record_decision(session, row, "deferred" if deferred else "queued", at=now, reason=reason, actor=actor,
                        detail=f"until {next_attempt_at.isoformat()}" if deferred else None)
        wake_workers(session, run_at=next_attempt_at if deferred else None)
    else:
        record_decision(session, row, status, at=now, reason=reason, actor=actor)
    return QueuedMessage(row.id, status, reason, text)


# ---- opt-out replies and the suppression list ----


def suppress_customer(session: Session, *, shop_id: str, customer_id: str, scope: str = "marketing",
                      reason: str = "agent", source_text: str | None = None, sign_name: str | None = None,
                      actor: str | None = None, now: datetime) -> bool:
    """Put a buyer on the suppression list (once per scope); True when newly added."""
    if scope not in ("marketing", "all"):
        raise MessageProblem(f"scope: 应为 marketing/all / expected marketing or all, got {scope!r}")
    exists = session.scalar(select(MessageSuppression.id).where(
        MessageSuppression.shop_id == shop_id, MessageSuppression.customer_id == customer_id,
        MessageSuppression.scope == scope))
    if exists:
        return False
    session.add(MessageSuppression(id=new_id(), shop_id=shop_id, customer_id=customer_id, scope=scope, reason=reason,
                                   sign_name=sign_name, source_text=redact_phones(source_text), created_at=now,
                                   created_by=actor))
    session.flush()
    return True


def record_reply(session: Session, *, shop_id: str, customer_id: str, text: str, now: datetime,
                 sign_name: str | None = None) -> bool:
    """A buyer's reply to a message: R / T / 退订 puts them on the suppression list (the shop's opt-out scope).
    True when the reply was an opt-out."""
    from kefu.domain.messaging.opt_out import is_opt_out

    if not is_opt_out(text):
        return False
    scope = shop_messaging_rules(session, shop_id).opt_out_scope
    suppress_customer(session, shop_id=shop_id, customer_id=customer_id, scope="all" if scope == "all" else "marketing",
                      reason="opt_out_reply", source_text=text, sign_name=sign_name, now=now)
    return True


def lift_suppression(session: Session, *, shop_id: str, customer_id: str) -> int:
    """Remove a buyer from the suppression list (they asked to hear from the shop again); rows removed."""
    rows = list(session.scalars(select(MessageSuppression).where(
        MessageSuppression.shop_id == shop_id, MessageSuppression.customer_id == customer_id)))
    for row in rows:
        session.delete(row)
    return len(rows)
