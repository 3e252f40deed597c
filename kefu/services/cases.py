"""Complaint cases: open one from a message, review, alert or by hand, and walk it through its five steps.

Every change writes a `CaseEvent` (the SLA clock is read from them) in the caller's transaction. Offers are placed on
the settlement ladder by `kefu.domain.cases.ladder`; tiers that need the owner wait for `decide_offer` by an owner.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import func, select, type_coerce
from sqlalchemy import case as sql_case
from sqlalchemy.orm import Session
from sqlalchemy.types import NullType

from kefu.config import shop_rules
from kefu.domain.cases import ladder, sla
from kefu.domain.cases.call_script import OUTCOMES, ScriptLine, call_script
from kefu.domain.cases.policy import CasePolicy, case_policy
from kefu.domain.cases.severity import CallAdvice, SeverityFacts, call_advice, judge_severity
from kefu.domain.cases.steps import (
    ANALYSE,
    CLOSED,
    CONFIRM,
    EXECUTE,
    FOLLOW_UP,
    NEGOTIATE,
    SEVERITIES,
    SOURCES,
    STEPS,
    StepError,
    check_move,
)
from kefu.domain.privacy import redact_phones
from kefu.ids import new_id
from kefu.services import evidence
from kefu.store.case_tables import Case, CaseAction, CaseCall, CaseEvent, CaseEvidence, CaseOffer, Promise
from kefu.store.tables import Customer, Order, Shop

log = logging.getLogger(__name__)

OPEN, CLOSED_STATUS = "open", "closed"
ACTION_KINDS = ("refund", "reship", "gift", "coupon", "other")
ACTION_STATUSES = ("pending", "done", "failed")
NOT_NEEDED, PENDING, APPROVED, REJECTED = "not_needed", "pending", "approved", "rejected"
MAX_TEXT = 4000


class CaseError(ValueError):
    """A case operation that cannot be done; the message says why (Chinese first, then English)."""


class CaseNotFound(LookupError):
    """No case (or offer) with that id."""


class ApprovalRequired(PermissionError):
    """Only the owner may approve an offer on tiers that need approval."""


# ---------------------------------------------------------------- helpers


def _now(now: datetime | None) -> datetime:
    return (now or datetime.now(UTC)).astimezone(UTC)


def _text(value: str | None, name: str, *, required: bool = False) -> str | None:
    cleaned = redact_phones((value or "").strip()) or None
    if required and not cleaned:
        raise CaseError(f"{name} 不能为空 / {name} is required")
    if cleaned and len(cleaned) > MAX_TEXT:
        raise CaseError(f"{name} 太长 (最多 {MAX_TEXT} 字) / {name} is longer than {MAX_TEXT} characters")
    return cleaned


def money(value: Any, name: str = "cost") -> Decimal:
    """A yuan amount from a form or JSON value, exact to the fen; CaseError naming the field when unreadable."""
    try:
        amount = Decimal(str(value).strip().replace(",", "").replace("¥", "").replace("￥", "") or "0")
    except (InvalidOperation, ValueError):
        raise CaseError(f"{name}: 不是金额 / not an amount: {value!r}") from None
    if not amount.is_finite():
        raise CaseError(f"{name}: 不是金额 / not an amount: {value!r}")
    return amount.quantize(Decimal("0.01"))


def policy_for(session: Session, shop_id: str) -> CasePolicy:
    settings = session.scalar(select(Shop.settings).where(Shop.id == shop_id))
    return case_policy(shop_rules(settings))


def get_case(session: Session, case_id: str) -> Case:
    case = session.get(Case, case_id)
    if case is None:
        raise CaseNotFound(f"no case with id {case_id!r}")
    return case


def _offer(session: Session, offer_id: str) -> CaseOffer:
    offer = session.get(CaseOffer, offer_id)
    if offer is None:
        raise CaseNotFound(f"no offer with id {offer_id!r}")
    return offer


def _event(session: Session, case: Case, what: str, *, actor: str | None, now: datetime, step: str | None = None,
           **detail: Any) -> CaseEvent:
    row = CaseEvent(shop_id=case.shop_id, case_id=case.id, at=now, kind=what, step=step, actor=(actor or "")[:80] or None,
                    detail={k: v for k, v in detail.items() if v is not None} or None)
    session.add(row)
    case.updated_at = now
    return row


def _open(case: Case) -> None:
    if case.status != OPEN:
        raise CaseError("工单已关闭 / the case is closed")


def _move(session: Session, case: Case, target: str, *, actor: str | None, now: datetime) -> None:
    try:
        check_move(case.step, target)
    except StepError as exc:
        raise CaseError(str(exc)) from None
    case.step = target
    case.waiting_on_buyer = False
    if target == CLOSED:
        case.status = CLOSED_STATUS
        case.closed_at = now
    _event(session, case, sla.STEP, step=target, actor=actor, now=now)


def _reading_of(text: str) -> tuple[float | None, tuple[str, ...]]:
    """The buyer's anger (0–1, from word cues only: no model to load while a case opens) and complaint topics, from
    the text engineer's modules when installed; (None, ()) otherwise."""
    try:  # written by another engineer; optional until it lands
        from kefu.text.anger import anger_of
        from kefu.text.tokenize import normalize
        from kefu.text.topics import topics_of_normalised
    except ImportError:
        return None, ()
    try:
        normalised = normalize(text)
        return float(anger_of(normalised, 0.5)), tuple(topics_of_normalised(normalised))
    except Exception:  # noqa: BLE001 - a failing reader must never stop a case from opening
        log.warning("reading a complaint's text failed while opening a case", exc_info=True)
        return None, ()


def _message_anger(session: Session, shop_id: str, message_id: str) -> float | None:
    """The anger the service desk read from the buyer's message (0–100 there), when that message is known."""
    try:
        from kefu.store.desk_tables import ChatMessage  # the service desk's table
    except ImportError:
        return None
    message = session.get(ChatMessage, message_id)
    if message is None or message.shop_id != shop_id or message.anger is None:
        return None
    return max(0.0, min(1.0, message.anger / 100))


# ---------------------------------------------------------------- opening


def open_case(session: Session, *, shop_id: str, customer_id: str | None, source: str, source_id: str | None,
              summary: str, order_id: str | None = None, opened_by: str | None, now: datetime | None = None) -> str:
    """Open a complaint case (or return the open one already made from the same source) and return its id.

    `source` is message | review | alert | manual; `source_id` the message, review or alert it came from. The order is
    snapshotted as evidence, the summary kept as the first transcript, severity judged from anger and the amount paid.
    """
    now = _now(now)
    if source not in SOURCES:
        raise CaseError(f"source 只能是 {'/'.join(SOURCES)} / source must be one of {SOURCES}, not {source!r}")
    summary_text = _text(summary, "summary", required=True)
    if session.get(Shop, shop_id) is None:
        raise CaseError(f"没有这个店铺 / no shop with id {shop_id!r}")
    if source_id:
        existing = session.scalar(select(Case.id).where(Case.shop_id == shop_id, Case.source == source,
                                                        Case.source_id == source_id, Case.status == OPEN))
        if existing:
            return existing
    order = session.get(Order, order_id) if order_id else None
    if order_id and (order is None or order.shop_id != shop_id):
        raise CaseError(f"没有这个订单 / no order {order_id!r} in this shop")
    if customer_id is None and order is not None:
        customer_id = order.customer_id
    if customer_id is not None:
        customer = session.get(Customer, customer_id)
        if customer is None or customer.shop_id != shop_id:
            raise CaseError(f"没有这个买家 / no customer {customer_id!r} in this shop")
    policy = policy_for(session, shop_id)
    anger, topics = _reading_of(summary_text)
    if source == "message" and source_id:
        anger = _message_anger(session, shop_id, str(source_id)) or anger
    repeat = bool(customer_id and session.scalar(
        select(func.count()).select_from(Case).where(Case.customer_id == customer_id)))
    severity = judge_severity(SeverityFacts(anger=anger, paid=order.paid_amount if order else None, source=source,
                                            repeat=repeat, topics=topics), policy)
    case = Case(id=new_id(), shop_id=shop_id, customer_id=customer_id, order_id=order.id if order else None,
                source=source, source_id=(source_id or None) and str(source_id)[:120], summary=summary_text,
                step=CONFIRM, status=OPEN, severity=severity, anger=anger, waiting_on_buyer=False,
                opened_by=(opened_by or "")[:80] or None, opened_at=now, updated_at=now)
    session.add(case)
    session.flush()
    _event(session, case, "opened", actor=opened_by, now=now, source=source, source_id=case.source_id)
    _event(session, case, sla.STEP, step=CONFIRM, actor=opened_by, now=now)
    evidence.capture(session, case, "transcript", f"开单摘要 / opening summary ({source})", summary_text,
                     actor=opened_by, now=now)
    if order is not None:
        evidence.snapshot_order(session, case, order, actor=opened_by, now=now)
    if source == "message":
        evidence.snapshot_chat(session, case, message_id=case.source_id, actor=opened_by, now=now)
    session.flush()
    return case.id


# ---------------------------------------------------------------- the five steps


def confirm_case(session: Session, case_id: str, *, buyer_account: str, demands: str, actor: str | None,
                 now: datetime | None = None, advance: bool = True) -> Case:
    """Step 1: record the buyer's account and demands (kept as a transcript) and move on to analysis."""
    now = _now(now)
    case = get_case(session, case_id)
    _open(case)
    case.buyer_account = _text(buyer_account, "buyer_account", required=True)
    case.demands = _text(demands, "demands", required=True)
    evidence.capture(session, case, "transcript", "买家陈述与诉求 / buyer's account and demands",
                     f"陈述 / account:\n{case.buyer_account}\n\n诉求 / demands:\n{case.demands}", actor=actor, now=now)
    _event(session, case, "confirmed", actor=actor, now=now, step=case.step)
    if advance and case.step == CONFIRM:
        _move(session, case, ANALYSE, actor=actor, now=now)
    session.flush()
    return case


def analyse_case(session: Session, case_id: str, *, severity: str, decider: str | None, actor: str | None,
                 now: datetime | None = None) -> Case:
    """Step 2: set the severity and who decides beyond policy (agent or owner)."""
    now = _now(now)
    case = get_case(session, case_id)
    _open(case)
    if severity not in SEVERITIES:
        raise CaseError(f"severity 只能是 {'/'.join(SEVERITIES)} / severity must be one of {SEVERITIES}")
    if decider not in (None, "", "agent", "owner"):
        raise CaseError("decider 只能是 agent 或 owner / decider must be agent or owner")
    case.severity = severity
    case.decider = decider or None
    _event(session, case, "analysed", actor=actor, now=now, step=case.step, severity=severity, decider=decider)
    session.flush()
    return case


def add_offer(session: Session, case_id: str, *, kind: str, description: str, cost: Any, buyer_accepts: str = "unknown",
              actor: str | None, now: datetime | None = None) -> CaseOffer:
    """Propose a resolution: placed on the ladder from its cost against the order and the buyer's acceptance."""
    now = _now(now)
    case = get_case(session, case_id)
    _open(case)
    if kind not in ladder.OFFER_KINDS:
        raise CaseError(f"kind 只能是 {'/'.join(ladder.OFFER_KINDS)} / offer kind must be one of {ladder.OFFER_KINDS}")
    if buyer_accepts not in ladder.ACCEPTANCE:
        raise CaseError(f"buyer_accepts 只能是 yes/no/unknown / buyer_accepts must be one of {ladder.ACCEPTANCE}")
    amount = money(cost)
    offer = CaseOffer(id=new_id(), shop_id=case.shop_id, case_id=case.id, kind=kind,
                      description=_text(description, "description", required=True), cost=amount,
                      buyer_accepts=buyer_accepts, tier=1, beyond_policy=False, approval=NOT_NEEDED, chosen=False,
                      created_by=(actor or "")[:80] or None, created_at=now)
    _place(session, case, offer)
    session.add(offer)
    _event(session, case, "offer", actor=actor, now=now, step=case.step, offer_id=offer.id, kind=kind,
           cost=str(amount), tier=offer.tier)
    session.flush()
    return offer


def _place(session: Session, case: Case, offer: CaseOffer) -> ladder.Placement:
    order = session.get(Order, case.order_id) if case.order_id else None
    placement = ladder.place(offer.cost, offer.buyer_accepts, paid=order.paid_amount if order else None,
                             policy=policy_for(session, case.shop_id))
    offer.tier = placement.tier
    offer.beyond_policy = placement.beyond_policy
    if placement.needs_approval:
        if offer.approval == NOT_NEEDED:
            offer.approval = PENDING
    elif offer.approval == PENDING:
        offer.approval = NOT_NEEDED
    return placement


def placement_of(session: Session, case: Case, offer: CaseOffer) -> ladder.Placement:
    """The ladder placement of an offer now (margin, net, reason) without changing it."""
    order = session.get(Order, case.order_id) if case.order_id else None
    return ladder.place(offer.cost, offer.buyer_accepts, paid=order.paid_amount if order else None,
                        policy=policy_for(session, case.shop_id))


def set_acceptance(session: Session, offer_id: str, buyer_accepts: str, *, actor: str | None,
                   now: datetime | None = None) -> CaseOffer:
    """Record what the buyer said about an offer; it is placed on the ladder again (an approval already given to a
    different tier is asked again)."""
    now = _now(now)
    offer = _offer(session, offer_id)
    case = get_case(session, offer.case_id)
    _open(case)
    if buyer_accepts not in ladder.ACCEPTANCE:
        raise CaseError(f"buyer_accepts 只能是 yes/no/unknown / buyer_accepts must be one of {ladder.ACCEPTANCE}")
    before = offer.tier
    offer.buyer_accepts = buyer_accepts
    _place(session, case, offer)
    if offer.tier != before and offer.approval in (APPROVED, REJECTED):
        offer.approval = PENDING if offer.tier in policy_for(session, case.shop_id).approval_tiers or \
            offer.beyond_policy else NOT_NEEDED
        offer.approved_by = offer.approved_at = None
    _event(session, case, "acceptance", actor=actor, now=now, step=case.step, offer_id=offer.id,
           buyer_accepts=buyer_accepts, tier=offer.tier)
    session.flush()
    return offer


def decide_offer(session: Session, offer_id: str, *, approve: bool, actor: str | None, actor_role: str,
                 now: datetime | None = None) -> CaseOffer:
    """The owner approves or rejects an offer waiting for approval (tiers 4–5 and beyond-policy losses)."""
    now = _now(now)
    if actor_role != "owner":
        raise ApprovalRequired("只有店主可以审批 / only the owner may approve")
    offer = _offer(session, offer_id)
    case = get_case(session, offer.case_id)
    _open(case)
    if offer.approval not in (PENDING, APPROVED, REJECTED):
        raise CaseError("这个方案不需要审批 / this offer needs no approval")
    offer.approval = APPROVED if approve else REJECTED
    offer.approved_by = (actor or "")[:80] or None
    offer.approved_at = now
    _event(session, case, "approval", actor=actor, now=now, step=case.step, offer_id=offer.id,
           decision=offer.approval, tier=offer.tier)
    session.flush()
    return offer


def choose_offer(session: Session, offer_id: str, *, actor: str | None, now: datetime | None = None) -> Case:
    """Step 3 done: the buyer picked this offer (it needs the owner's approval first when flagged); on to execution."""
    now = _now(now)
    offer = _offer(session, offer_id)
    case = get_case(session, offer.case_id)
    _open(case)
    if case.step == CONFIRM:
        raise CaseError("请先确认买家陈述与诉求 / confirm the buyer's account and demands first")
    if offer.approval == PENDING:
        raise CaseError("这个方案需要店主审批 / this offer waits for the owner's approval")
    if offer.approval == REJECTED:
        raise CaseError("店主已拒绝这个方案 / the owner rejected this offer")
    for other in session.scalars(select(CaseOffer).where(CaseOffer.case_id == case.id, CaseOffer.chosen.is_(True))):
        other.chosen = False
    offer.chosen = True
    if offer.buyer_accepts != ladder.YES:
        offer.buyer_accepts = ladder.YES
        _place(session, case, offer)
    case.chosen_offer_id = offer.id
    evidence.capture(session, case, "note", f"选定方案 / chosen offer (第{offer.tier}档 / tier {offer.tier})",
                     {"kind": offer.kind, "description": offer.description, "cost": str(offer.cost),
                      "tier": offer.tier, "approval": offer.approval, "approved_by": offer.approved_by},
                     actor=actor, now=now)
    _event(session, case, "chosen", actor=actor, now=now, step=case.step, offer_id=offer.id, tier=offer.tier)
    if case.step == ANALYSE:  # the buyer picked straight away: negotiation is done in the same breath
        _move(session, case, NEGOTIATE, actor=actor, now=now)
    if case.step == NEGOTIATE:
        _move(session, case, EXECUTE, actor=actor, now=now)
    session.flush()
    return case


def record_action(session: Session, case_id: str, *, kind: str, amount: Any = None, reference: str | None = None,
                  status: str = "pending", note: str | None = None, actor: str | None,
                  now: datetime | None = None) -> CaseAction:
    """Step 4: a refund, reshipment, gift or coupon done (or under way) for the case."""
    now = _now(now)
    case = get_case(session, case_id)
    _open(case)
    if kind not in ACTION_KINDS:
        raise CaseError(f"kind 只能是 {'/'.join(ACTION_KINDS)} / action kind must be one of {ACTION_KINDS}")
    if status not in ACTION_STATUSES:
        raise CaseError(f"status 只能是 {'/'.join(ACTION_STATUSES)} / status must be one of {ACTION_STATUSES}")
    value = None if amount in (None, "") else money(amount, "amount")
    action = CaseAction(id=new_id(), shop_id=case.shop_id, case_id=case.id, offer_id=case.chosen_offer_id, kind=kind,
                        amount=value, reference=_text(reference, "reference") and _text(reference, "reference")[:120],
                        status=status, note=_text(note, "note"), created_by=(actor or "")[:80] or None,
                        created_at=now, done_at=now if status == "done" else None)
    session.add(action)
    _event(session, case, "action", actor=actor, now=now, step=case.step, action_id=action.id, kind=kind,
           amount=str(value) if value is not None else None, status=status)
    session.flush()
    return action


def set_action_status(session: Session, action_id: str, status: str, *, actor: str | None,
                      now: datetime | None = None) -> CaseAction:
    """Track an action: pending → done (or failed)."""
    now = _now(now)
    action = session.get(CaseAction, action_id)
    if action is None:
        raise CaseNotFound(f"no action with id {action_id!r}")
    case = get_case(session, action.case_id)
    _open(case)
    if status not in ACTION_STATUSES:
        raise CaseError(f"status 只能是 {'/'.join(ACTION_STATUSES)} / status must be one of {ACTION_STATUSES}")
    action.status = status
    action.done_at = now if status == "done" else None
    _event(session, case, "action", actor=actor, now=now, step=case.step, action_id=action.id, kind=action.kind,
           status=status)
    session.flush()
    return action


def finish_execution(session: Session, case_id: str, *, actor: str | None, now: datetime | None = None) -> Case:
    """Step 4 done: every action is done (none pending); on to follow-up."""
    now = _now(now)
    case = get_case(session, case_id)
    _open(case)
    actions = list(session.scalars(select(CaseAction).where(CaseAction.case_id == case.id)))
    if not actions:
        raise CaseError("还没有处理记录 / record at least one refund, reshipment, gift or coupon first")
    if any(a.status == "pending" for a in actions):
        raise CaseError("还有未完成的处理 / some actions are still pending")
    _move(session, case, FOLLOW_UP, actor=actor, now=now)
    session.flush()
    return case


def record_satisfaction(session: Session, case_id: str, *, score: int, note: str | None, actor: str | None,
                        now: datetime | None = None, close: bool = True) -> Case:
    """Step 5: the buyer's satisfaction (1–5) asked and recorded; the case closes."""
    now = _now(now)
    case = get_case(session, case_id)
    _open(case)
    try:
        score = int(score)
    except (TypeError, ValueError):
        raise CaseError(f"satisfaction: 1–5, not {score!r}") from None
    if not 1 <= score <= 5:
        raise CaseError(f"满意度只能是 1–5 / satisfaction must be 1–5, not {score}")
    case.satisfaction = score
    case.satisfaction_note = _text(note, "note")
    evidence.capture(session, case, "satisfaction", f"满意度回访 / satisfaction: {score}/5",
                     {"score": score, "note": case.satisfaction_note}, actor=actor, now=now)
    _event(session, case, "satisfaction", actor=actor, now=now, step=case.step, score=score)
    if close:
        if case.step != FOLLOW_UP:
            check_move(case.step, CLOSED)
        _move(session, case, CLOSED, actor=actor, now=now)
    session.flush()
    return case


def move_case(session: Session, case_id: str, target: str, *, actor: str | None, now: datetime | None = None) -> Case:
    """Move a case to the next step, back to an earlier one, or close it."""
    now = _now(now)
    case = get_case(session, case_id)
    _open(case)
    _move(session, case, target, actor=actor, now=now)
    session.flush()
    return case


def set_waiting(session: Session, case_id: str, waiting: bool, *, actor: str | None, now: datetime | None = None) -> Case:
    """Stop the SLA clock while waiting on the buyer (photos, a reply, a pick), start it again when they answer."""
    now = _now(now)
    case = get_case(session, case_id)
    _open(case)
    if case.waiting_on_buyer != waiting:
        case.waiting_on_buyer = waiting
        _event(session, case, sla.WAIT_BUYER if waiting else sla.RESUME, actor=actor, now=now, step=case.step)
        session.flush()
    return case


def record_call(session: Session, case_id: str, *, outcome: str, minutes: Any = None, note: str | None = None,
                actor: str | None, now: datetime | None = None) -> CaseCall:
    """A phone call made to the buyer and how it went (kept as evidence)."""
    now = _now(now)
    case = get_case(session, case_id)
    _open(case)
    if outcome not in OUTCOMES:
        raise CaseError(f"outcome 只能是 {'/'.join(OUTCOMES)} / outcome must be one of {OUTCOMES}")
    try:
        length = None if minutes in (None, "") else int(minutes)
    except (TypeError, ValueError):
        raise CaseError(f"minutes: 不是整数 / not a whole number: {minutes!r}") from None
    if length is not None and not 0 <= length <= 600:
        raise CaseError(f"minutes: 0–600, not {length}")
    call = CaseCall(id=new_id(), shop_id=case.shop_id, case_id=case.id, called_at=now,
                    called_by=(actor or "")[:80] or None, outcome=outcome, minutes=length, note=_text(note, "note"))
    session.add(call)
    evidence.capture(session, case, "call", f"电话记录 / call: {outcome}",
                     {"outcome": outcome, "minutes": length, "note": call.note, "called_by": call.called_by},
                     actor=actor, now=now)
    _event(session, case, "call", actor=actor, now=now, step=case.step, outcome=outcome)
    session.flush()
    return call


def keep_chat(session: Session, case_id: str, *, actor: str | None, now: datetime | None = None) -> CaseEvidence:
    """Keep the buyer's latest chat on the case file as it stands now."""
    now = _now(now)
    case = get_case(session, case_id)
    row = evidence.snapshot_chat(session, case, actor=actor, now=now)
    if row is None:
        raise CaseError("这个买家没有聊天记录 / this buyer has no chat to keep")
    _event(session, case, "transcript", actor=actor, now=now, step=case.step, evidence_id=row.id)
    session.flush()
    return row


def add_note(session: Session, case_id: str, *, text: str, kind: str = "transcript", actor: str | None,
             now: datetime | None = None) -> CaseEvidence:
    """Keep a chat excerpt or a note on the case file, unchanged from now on."""
    now = _now(now)
    case = get_case(session, case_id)
    if kind not in ("transcript", "note"):
        raise CaseError("kind 只能是 transcript 或 note / kind must be transcript or note")
    body = _text(text, "text", required=True)
    row = evidence.capture(session, case, kind, "聊天记录 / chat transcript" if kind == "transcript" else "备注 / note",
                           body, actor=actor, now=now)
    _event(session, case, kind, actor=actor, now=now, step=case.step, evidence_id=row.id)
    session.flush()
    return row


# ---------------------------------------------------------------- reading


def _raw(column):
    """A time column as the driver gives it (text on SQLite, naive on PostgreSQL): `_utc` reads it faster than the
    column type's own processing, which counts when a list reads every open case's events."""
    return type_coerce(column, NullType()).label(column.key)


def _utc(value: datetime | str) -> datetime:
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)



def clock_of(session: Session, case: Case, now: datetime, policy: CasePolicy | None = None) -> sla.CaseClock:
    events = session.execute(select(CaseEvent.at, CaseEvent.kind, CaseEvent.step)
                             .where(CaseEvent.case_id == case.id, CaseEvent.kind.in_((sla.STEP, sla.WAIT_BUYER,
                                                                                     sla.RESUME))))
    history = [sla.ClockEvent(at, kind, step) for at, kind, step in events]
    return sla.clocks(history, now, policy or policy_for(session, case.shop_id))


@dataclass
class CaseRow:
    """A case in the list: its buyer, order, SLA state and the highest ladder tier among its offers."""

    case: Case
    buyer_nick: str | None
    order_no: str | None
    clock: sla.CaseClock
    top_tier: int | None
    pending_approval: bool

    @property
    def sla_state(self) -> str:
        return self.clock.state


@dataclass
class CasePage:
    items: list[CaseRow]
    total: int
    counts: dict[str, int] = field(default_factory=dict)  # by step, over the unfiltered open cases


SLA_FILTERS = ("breached", "due_soon", "ok", "paused")


def list_cases(session: Session, *, shop_id: str | None, step: str | None = None, sla_state: str | None = None,
               severity: str | None = None, tier: int | None = None, status: str = OPEN, customer_id: str | None = None,
               awaiting_owner: bool = False, now: datetime | None = None, limit: int = 200) -> CasePage:
    """Cases for the workbench, worst SLA first, then most severe, then oldest."""
    now = _now(now)
    conditions = []
    if shop_id:
        conditions.append(Case.shop_id == shop_id)
    if status in (OPEN, CLOSED_STATUS):
        conditions.append(Case.status == status)
    if step in STEPS:
        conditions.append(Case.step == step)
    if severity in SEVERITIES:
        conditions.append(Case.severity == severity)
    if customer_id:
        conditions.append(Case.customer_id == customer_id)
    rows = session.execute(
        select(Case, Customer.buyer_nick, Order.order_no)
        .outerjoin(Customer, Customer.id == Case.customer_id).outerjoin(Order, Order.id == Case.order_id)
        .where(*conditions).order_by(Case.opened_at.asc()).limit(limit * 5)
    ).all()
    case_ids = [r.Case.id for r in rows]
    tiers: dict[str, tuple[int, bool]] = {}
    events: dict[str, list[sla.ClockEvent]] = {cid: [] for cid in case_ids}
    for start in range(0, len(case_ids), 500):
        chunk = case_ids[start:start + 500]
        for case_id, top, pending in session.execute(
                select(CaseOffer.case_id, func.max(CaseOffer.tier),
                       func.sum(sql_case((CaseOffer.approval == PENDING, 1), else_=0)))
                .where(CaseOffer.case_id.in_(chunk)).group_by(CaseOffer.case_id)):
            tiers[case_id] = (top, bool(pending))
        for case_id, at, kind, ev_step in session.execute(
                select(CaseEvent.case_id, _raw(CaseEvent.at), CaseEvent.kind, CaseEvent.step)
                .where(CaseEvent.case_id.in_(chunk), CaseEvent.kind.in_((sla.STEP, sla.WAIT_BUYER, sla.RESUME)))):
            events[case_id].append(sla.ClockEvent(_utc(at), kind, ev_step))
    policies: dict[str, CasePolicy] = {}
    items = []
    for r in rows:
        case = r.Case
        policy = policies.get(case.shop_id) or policies.setdefault(case.shop_id, policy_for(session, case.shop_id))
        clock = sla.clocks(events[case.id], now, policy)
        top, pending = tiers.get(case.id, (None, False))
        row = CaseRow(case, r.buyer_nick, r.order_no, clock, top, pending)
        if sla_state in SLA_FILTERS and row.sla_state != sla_state:
            continue
        if tier and top != tier:
            continue
        if awaiting_owner and not pending:
            continue
        items.append(row)
    state_rank = {s: i for i, s in enumerate(sla.STATE_ORDER)}
    severity_rank = {s: i for i, s in enumerate(reversed(SEVERITIES))}
    items.sort(key=lambda r: (state_rank.get(r.sla_state, 9), severity_rank.get(r.case.severity or "low", 9),
                              r.case.opened_at))
    counts = dict(session.execute(select(Case.step, func.count()).where(
        Case.status == OPEN, *([Case.shop_id == shop_id] if shop_id else [])).group_by(Case.step)).all())
    return CasePage(items=items[:limit], total=len(items), counts=counts)


@dataclass
class OfferView:
    offer: CaseOffer
    placement: ladder.Placement


@dataclass
class CaseView:
    """Everything the case page shows."""

    case: Case
    customer: Customer | None
    order: Order | None
    clock: sla.CaseClock
    offers: list[OfferView]
    actions: list[CaseAction]
    calls: list[CaseCall]
    evidence: list[CaseEvidence]
    events: list[CaseEvent]
    promises: list[Promise]
    advice: CallAdvice
    script: tuple[ScriptLine, ...]
    policy: CasePolicy


def case_view(session: Session, case_id: str, *, now: datetime | None = None, agent: str = "客服") -> CaseView:
    now = _now(now)
    case = get_case(session, case_id)
    policy = policy_for(session, case.shop_id)
    customer = session.get(Customer, case.customer_id) if case.customer_id else None
    order = session.get(Order, case.order_id) if case.order_id else None
    offers = [OfferView(o, placement_of(session, case, o)) for o in
              session.scalars(select(CaseOffer).where(CaseOffer.case_id == case.id))]
    offers = ladder.sort_options(offers, key=lambda v: (v.offer.buyer_accepts, v.offer.tier, v.offer.cost))
    shop = session.get(Shop, case.shop_id)
    usable = [v.offer.description for v in offers if v.offer.approval != REJECTED and v.offer.buyer_accepts != ladder.NO]
    script = call_script(shop_name=shop.name if shop else "本店", agent=agent,
                         buyer=customer.buyer_nick if customer else None, summary=case.summary, offers=usable,
                         order_no=order.order_no if order else None)
    return CaseView(
        case=case, customer=customer, order=order, clock=clock_of(session, case, now, policy), offers=offers,
        actions=list(session.scalars(select(CaseAction).where(CaseAction.case_id == case.id)
                                     .order_by(CaseAction.created_at))),
        calls=list(session.scalars(select(CaseCall).where(CaseCall.case_id == case.id).order_by(CaseCall.called_at))),
        evidence=evidence.evidence_of(session, case.id),
        events=list(session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id)
                                    .order_by(CaseEvent.at, CaseEvent.id))),
        promises=list(session.scalars(select(Promise).where(Promise.case_id == case.id).order_by(Promise.made_at))),
        advice=call_advice(case.anger, case.severity, policy), script=script, policy=policy,
    )


def customer_cases(session: Session, customer_id: str, *, limit: int = 20) -> list[Case]:
    """A buyer's cases, newest first (the customer 360 section)."""
    return list(session.scalars(select(Case).where(Case.customer_id == customer_id)
                                .order_by(Case.opened_at.desc()).limit(limit)))


def case_events_for_customer(session: Session, customer_id: str, *, limit: int = 200) -> list[tuple[Case, CaseEvent]]:
    """A buyer's case events, newest first (for a timeline)."""
    return list(session.execute(
        select(Case, CaseEvent).join(CaseEvent, CaseEvent.case_id == Case.id)
        .where(Case.customer_id == customer_id).order_by(CaseEvent.at.desc(), CaseEvent.id.desc()).limit(limit)
    ).tuples())


def case_json(case: Case, clock: sla.CaseClock | None = None) -> dict[str, Any]:
    """A case for the REST API and the CLI."""
    iso = lambda moment: moment.isoformat() if moment else None  # noqa: E731
    data = {
        "id": case.id, "shop_id": case.shop_id, "customer_id": case.customer_id, "order_id": case.order_id,
        "source": case.source, "source_id": case.source_id, "summary": case.summary, "step": case.step,
        "status": case.status, "severity": case.severity, "anger": case.anger, "buyer_account": case.buyer_account,
        "demands": case.demands, "decider": case.decider, "waiting_on_buyer": case.waiting_on_buyer,
        "chosen_offer_id": case.chosen_offer_id, "satisfaction": case.satisfaction,
        "satisfaction_note": case.satisfaction_note, "opened_by": case.opened_by, "opened_at": iso(case.opened_at),
        "updated_at": iso(case.updated_at), "closed_at": iso(case.closed_at),
    }
    if clock is not None:
        data["sla"] = {"state": clock.state, "steps": [
            {"step": c.step, "state": c.state, "used_minutes": round(c.used.total_seconds() / 60, 1),
             "limit_minutes": round(c.limit.total_seconds() / 60, 1),
             "remaining_minutes": round(c.remaining.total_seconds() / 60, 1),
             "paused_minutes": round(c.paused_for.total_seconds() / 60, 1)} for c in clock.steps]}
    return data


def offer_json(offer: CaseOffer) -> dict[str, Any]:
    return {"id": offer.id, "case_id": offer.case_id, "kind": offer.kind, "description": offer.description,
            "cost": str(offer.cost), "buyer_accepts": offer.buyer_accepts, "tier": offer.tier,
            "beyond_policy": offer.beyond_policy, "approval": offer.approval, "approved_by": offer.approved_by,
            "approved_at": offer.approved_at.isoformat() if offer.approved_at else None, "chosen": offer.chosen}



# ---------------------------------------------------------------- the customer timeline

_EVENT_WORDS = {
    "opened": "开单", "confirmed": "买家陈述已确认", "analysed": "已分析", "offer": "提出方案", "acceptance": "买家表态",
    "approval": "店主审批", "chosen": "选定方案", "action": "处理", "satisfaction": "满意度回访", "wait_buyer": "等待买家",
    "resume": "继续处理", "call": "电话沟通", "transcript": "聊天记录存证", "note": "备注",
}
_STEP_WORDS = {"confirm": "确认", "analyse": "分析", "negotiate": "协商", "execute": "执行", "follow_up": "回访",
               "closed": "结案"}


def case_timeline_entries(session: Session, customer_id: str) -> list[Any]:
    """The buyer's case events for the one customer timeline (kefu.services.timeline), linked by case id."""
    from kefu.services.timeline import TimelineItem

    items = []
    for case, event in case_events_for_customer(session, customer_id):
        if event.kind == sla.STEP:
            what = f"进入「{_STEP_WORDS.get(event.step or '', event.step)}」"
        else:
            what = _EVENT_WORDS.get(event.kind, event.kind)
            detail = event.detail or {}
            if event.kind == "satisfaction" and "score" in detail:
                what += f" {detail['score']}/5"
            elif event.kind == "call" and "outcome" in detail:
                what += f" ({detail['outcome']})"
        items.append(TimelineItem(at=event.at, kind="case", text=f"投诉工单 · {what} — {case.summary[:60]}",
                                  order_id=case.order_id, status=case.step, ref=case.id))
    return items


def _register_timeline_source() -> None:
    try:
        from kefu.services.timeline import SOURCES, timeline_source
    except ImportError:  # the timeline service is another capability's; the 360 works without it
        return
    if case_timeline_entries not in SOURCES:
        timeline_source(case_timeline_entries)


_register_timeline_source()
