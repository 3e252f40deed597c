"""Bad-review recovery cases: one per neutral/bad review, worked through five steps before the window closes.

A remedy may be a small gift or coupon, but its wording may never tie it to changing the review (the review_reward
check blocks it); the buyer is asked about the review only after saying they are satisfied.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kefu.domain.privacy import redact_phones
from kefu.domain.reviews.recovery import (
    CASE_RESULTS,
    DONE,
    STEPS,
    StepRefused,
    check_can_complete,
    days_left,
    next_step,
    step_deadlines,
    window_end,
)
from kefu.domain.reviews.reward_check import RewardVerdict, check_reward_wording
from kefu.ids import new_id
from kefu.services.reviews import reviews_rules
from kefu.store.review_tables import Review, ReviewEvidence, ReviewRecoveryCase
from kefu.store.tables import Shop


class RecoveryError(ValueError):
    """A recovery action refused; the message is bilingual."""


class RewardBlocked(RecoveryError):
    """Remedy wording that ties a reward to changing the review (code review_reward)."""

    def __init__(self, verdict: RewardVerdict) -> None:
        super().__init__(f"{verdict.message_zh} / {verdict.message_en}")
        self.verdict = verdict


def _deadline(shop: Shop, review: Review) -> datetime:
    return window_end(review.created_at, int(reviews_rules(shop)["modify_window_days"]))


def open_case(session: Session, shop: Shop, review: Review, *, actor: str | None, now: datetime,
              link_complaint: bool = False) -> ReviewRecoveryCase:  # fmt: skip
    """The review's recovery case, opened now if it has none (a 追评 opens the case of its parent review)."""
    if review.kind == "follow_up" and review.parent_id:
        review = session.get(Review, review.parent_id) or review
    case = session.scalar(select(ReviewRecoveryCase).where(ReviewRecoveryCase.review_id == review.id))
    if case is not None:
        return case
    case = ReviewRecoveryCase(
        id=new_id(), shop_id=shop.id, review_id=review.id, customer_id=review.customer_id, order_id=review.order_id,
        status="open", step=STEPS[0], deadline_at=_deadline(shop, review), asked_to_update=False,
        history=[{"step": "opened", "at": now.isoformat(), "by": actor}], opened_by=actor, opened_at=now,
        updated_at=now,
    )  # fmt: skip
    session.add(case)
    session.flush()
    if link_complaint:
        case.complaint_case_id = open_complaint_case(session, shop, review, actor=actor, now=now)
    return case


def open_complaint_case(session: Session, shop: Shop, review: Review, *, actor: str | None, now: datetime) -> str | None:
    """A complaint case beside the recovery case, through the cases service when it is installed."""
    try:
        from kefu.services.cases import open_case as open_complaint
    except ImportError:
        return None
    summary = f"{'差评' if review.result == 'bad' else '中评'}：{review.content or ''}"[:1000]
    try:
        with session.begin_nested():  # a refused complaint case leaves the recovery case standing
            return open_complaint(session, shop_id=shop.id, customer_id=review.customer_id, source="review",
                                  source_id=review.id, summary=summary, order_id=review.order_id, opened_by=actor,
                                  now=now)  # fmt: skip
    except ValueError:  # the cases service's CaseError: e.g. an order that is not in this shop
        return None


def open_cases_for(session: Session, shop: Shop, reviews: Sequence[Review], *, now: datetime) -> int:
    """Open a case for each neutral/bad review that can still be changed; returns how many were opened."""
    wanted = [review for review in reviews
              if review.kind == "review" and review.result in CASE_RESULTS and _deadline(shop, review) > now]
    have: set[str] = set()
    for start in range(0, len(wanted), 500):
        have.update(session.scalars(select(ReviewRecoveryCase.review_id).where(
            ReviewRecoveryCase.review_id.in_([review.id for review in wanted[start : start + 500]]))))  # fmt: skip
    opened = 0
    for review in wanted:
        if review.id not in have:
            open_case(session, shop, review, actor="kefu", now=now)
            opened += 1
    return opened


def case_or_none(session: Session, case_id: str, shop_id: str | None = None) -> ReviewRecoveryCase | None:
    case = session.get(ReviewRecoveryCase, case_id)
    if case is None or (shop_id is not None and case.shop_id != shop_id):
        return None
    return case


def check_remedy(text: str) -> RewardVerdict:
    """The review_reward verdict on remedy wording."""
    return check_reward_wording(text)


def _money(value: Any) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        amount = Decimal(str(value)).quantize(Decimal("0.01"))
    except InvalidOperation:
        raise RecoveryError(f"金额 '{value}' 无法识别 / '{value}' is not an amount") from None
    if amount < 0:
        raise RecoveryError("金额不能为负 / the amount cannot be negative")
    return amount


def complete_step(session: Session, case: ReviewRecoveryCase, *, actor: str | None, now: datetime,
                  note: str | None = None, cause: str | None = None, cause_note: str | None = None,
                  remedy: str | None = None, remedy_cost: Any = None, buyer_satisfied: bool | None = None,
                  ask_update: bool = False) -> ReviewRecoveryCase:  # fmt: skip
    """Record the current step's facts and move on; RewardBlocked for remedy wording tied to the review."""
    if case.status != "open":
        raise RecoveryError("案件已关闭 / the case is closed")
    step = case.step
    if remedy is not None:
        remedy = (redact_phones(remedy.strip()) or "").strip()
        verdict = check_remedy(remedy)
        if verdict.blocked:
            raise RewardBlocked(verdict)
    if note:
        verdict = check_remedy(note)
        if verdict.blocked:
            raise RewardBlocked(verdict)
    cause = (cause or "").strip() or case.cause
    facts_remedy = remedy if remedy is not None else case.remedy
    satisfied = buyer_satisfied if buyer_satisfied is not None else case.buyer_satisfied
    try:
        check_can_complete(step, cause=cause, remedy=facts_remedy, buyer_satisfied=satisfied, ask_update=ask_update)
    except StepRefused as refused:
        raise RecoveryError(str(refused)) from None
    case.cause = cause
    if cause_note:
        case.cause_note = redact_phones(cause_note.strip())
    if step == "remedy":
        case.remedy, case.remedy_cost = facts_remedy, _money(remedy_cost)
    if step == "satisfaction":
        case.buyer_satisfied = satisfied
        case.asked_to_update = bool(ask_update and satisfied)
    case.history = [*case.history, {"step": step, "at": now.isoformat(), "by": actor,
                                    "note": redact_phones(note.strip()) if note else None}]  # fmt: skip
    case.step = next_step(step)
    case.updated_at = now
    if case.step == DONE:
        case.status, case.closed_at = "closed", now
    session.flush()
    return case


def add_evidence(session: Session, shop: Shop, case: ReviewRecoveryCase, *, file_name: str, content_type: str,
                 data: bytes, actor: str | None, now: datetime, note: str | None = None) -> ReviewEvidence:  # fmt: skip
    """Keep a file the buyer sent (a photo of the fault) with the case; RecoveryError when empty or too large."""
    limit = int(reviews_rules(shop)["evidence_max_bytes"])
    if not data:
        raise RecoveryError("文件是空的 / the file is empty")
    if len(data) > limit:
        raise RecoveryError(f"文件超过 {limit // 1_000_000} MB / the file is over {limit:,} bytes")
    row = ReviewEvidence(id=new_id(), shop_id=shop.id, case_id=case.id, file_name=(file_name or "evidence")[:200],
                         content_type=(content_type or "application/octet-stream")[:100], size=len(data), data=data,
                         note=redact_phones(note) if note else None, uploaded_by=actor, uploaded_at=now)  # fmt: skip
    session.add(row)
    session.flush()
    return row


def evidence_list(session: Session, case_id: str) -> list[ReviewEvidence]:
    return list(session.scalars(select(ReviewEvidence).where(ReviewEvidence.case_id == case_id)
                                .order_by(ReviewEvidence.uploaded_at)))  # fmt: skip


@dataclass(frozen=True)
class CaseView:
    """A case with its review, step deadlines and days left to the window's end."""

    case: ReviewRecoveryCase
    review: Review
    deadlines: dict[str, datetime]
    days_left: int
    evidence: list[ReviewEvidence]


def case_view(session: Session, shop: Shop, case: ReviewRecoveryCase, now: datetime) -> CaseView:
    review = session.get(Review, case.review_id)
    assert review is not None
    rules = reviews_rules(shop)
    deadlines = {d.step: d.due_at for d in step_deadlines(review.created_at, rules["recovery_step_days"],
                                                          int(rules["modify_window_days"]))}  # fmt: skip
    return CaseView(case, review, deadlines, days_left(case.deadline_at, now), evidence_list(session, case.id))


def list_cases(session: Session, shop: Shop, *, status: str = "open", now: datetime | None = None) -> list[CaseView]:
    now = now or datetime.now(UTC)
    query = select(ReviewRecoveryCase).where(ReviewRecoveryCase.shop_id == shop.id)
    if status in ("open", "closed"):
        query = query.where(ReviewRecoveryCase.status == status)
    cases = session.scalars(query.order_by(ReviewRecoveryCase.deadline_at)).all()
    return [case_view(session, shop, case, now) for case in cases]


def open_case_count(session: Session, shop_id: str) -> int:
    return session.scalar(select(func.count()).select_from(ReviewRecoveryCase).where(
        ReviewRecoveryCase.shop_id == shop_id, ReviewRecoveryCase.status == "open")) or 0  # fmt: skip
