"""Reply drafts for every review, the approval queue and the traderate.explain export."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import String, and_, cast, func, or_, select
from sqlalchemy.orm import Session

from kefu.domain.privacy import redact_phones
from kefu.domain.reviews.aspects import praised_aspects
from kefu.domain.reviews.recovery import days_left
from kefu.domain.reviews.replies import ReplyVoice, ReviewForReply, draft_reply, reply_deadline
from kefu.domain.reviews.reward_check import check_reward_wording
from kefu.ids import new_id
from kefu.services.reviews import reviews_rules
from kefu.store.review_tables import Review, ReviewRecoveryCase, ReviewReply
from kefu.store.tables import Shop

REPLY_STATUSES = ("draft", "approved", "exported", "posted")  # posted: the platform already shows a reply
MAX_REPLY_CHARS = 500  # TOP: reply (explanation) up to 500 characters


class ReplyError(ValueError):
    """A reply that cannot be saved or approved; the message is bilingual."""


def voice_of(shop: Shop) -> ReplyVoice:
    voice = reviews_rules(shop)["voice"]
    return ReplyVoice(shop_name=voice.get("shop_name") or shop.name, sign_off=voice.get("sign_off") or "",
                      buyer_word=voice.get("buyer_word") or "亲")  # fmt: skip


def draft_for(review: Review, voice: ReplyVoice) -> str:
    """The draft text for one review."""
    facts = ReviewForReply(review_id=review.id, result=review.result, sentiment=review.sentiment,
                           flagged=bool(review.flagged), aspects=praised_aspects(review.content or ""),
                           topics=tuple(review.topics or ()), item_title=review.item_title,
                           is_follow_up=review.kind == "follow_up")  # fmt: skip
    return draft_reply(facts, voice)[:MAX_REPLY_CHARS]


def draft_replies(session: Session, shop: Shop, reviews: Sequence[Review], *, now: datetime) -> int:
    """A draft for each review that has none; a review re-imported unchanged keeps its reply. Returns drafts made.

    A review whose platform reply exists gets that text with status 'posted'. A draft nobody edited is rewritten when
    its review changed (e.g. the buyer changed the rating).
    """
    if not reviews:
        return 0
    voice = voice_of(shop)
    ids = [review.id for review in reviews]
    existing: dict[str, ReviewReply] = {}
    for start in range(0, len(ids), 500):
        existing.update((reply.review_id, reply) for reply in session.scalars(
            select(ReviewReply).where(ReviewReply.review_id.in_(ids[start : start + 500]))))  # fmt: skip
    made = 0
    for review in reviews:
        reply = existing.get(review.id)
        if review.reply:
            if reply is None:
                session.add(ReviewReply(id=new_id(), shop_id=shop.id, review_id=review.id, text=review.reply,
                                        status="posted", edited=False, created_at=now, updated_at=now))  # fmt: skip
            else:
                reply.text, reply.status, reply.updated_at = review.reply, "posted", now
            continue
        text = draft_for(review, voice)
        if reply is None:
            session.add(ReviewReply(id=new_id(), shop_id=shop.id, review_id=review.id, text=text, status="draft",
                                    edited=False, created_at=now, updated_at=now))  # fmt: skip
            made += 1
        elif reply.status == "draft" and not reply.edited and reply.text != text:
            reply.text, reply.updated_at = text, now
    session.flush()
    return made


# ------------------------------------------------------------------------------------------------------------- the queue


@dataclass(frozen=True)
class QueueFilter:
    """What the review queue shows: rating, flagged only, a topic, reply status, sentiment, kind."""

    result: str | None = None  # good | neutral | bad
    flagged: bool = False
    topic: str | None = None
    reply_status: str | None = None  # draft | approved | exported | posted
    sentiment: str | None = None
    search: str | None = None


@dataclass(frozen=True)
class QueueRow:
    review: Review
    reply: ReviewReply | None
    case: ReviewRecoveryCase | None
    reply_days_left: int
    follow_ups: tuple[Review, ...] = ()


@dataclass(frozen=True)
class QueuePage:
    rows: list[QueueRow]
    total: int
    page: int
    pages: int
    counts: dict[str, int]


def _filtered(shop_id: str, f: QueueFilter):
    conditions = [Review.shop_id == shop_id, Review.kind == "review"]
    if f.result:
        conditions.append(Review.result == f.result)
    if f.flagged:
        conditions.append(Review.flagged.is_(True))
    if f.sentiment:
        conditions.append(Review.sentiment == f.sentiment)
    if f.search:
        like = f"%{f.search}%"
        conditions.append(or_(Review.content.like(like), Review.item_title.like(like), Review.nick.like(like)))
    if f.reply_status:
        conditions.append(ReviewReply.status == f.reply_status)
    return conditions


def list_queue(session: Session, shop: Shop, f: QueueFilter, *, page: int = 1, per_page: int = 50,
               now: datetime | None = None) -> QueuePage:  # fmt: skip
    """One page of the queue, newest first, with each review's reply, recovery case, days left and 追评."""
    now = now or datetime.now(UTC)
    window = int(reviews_rules(shop)["reply_window_days"])
    base = (
        select(Review, ReviewReply, ReviewRecoveryCase)
        .outerjoin(ReviewReply, ReviewReply.review_id == Review.id)
        .outerjoin(ReviewRecoveryCase, ReviewRecoveryCase.review_id == Review.id)
        .where(and_(*_filtered(shop.id, f)))
    )
    if f.topic:  # topics are a JSON list, stored as text on SQLite and json on PostgreSQL: match the quoted code
        code = re.sub(r"[^a-z0-9._]", "", f.topic.lower())
        base = base.where(cast(Review.topics, String).like(f'%"{code}"%'))
    total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    found = session.execute(base.order_by(Review.created_at.desc(), Review.id).offset((page - 1) * per_page)
                            .limit(per_page)).all()  # fmt: skip
    from kefu.services.reviews import follow_ups_of

    follow = follow_ups_of(session, [review.id for review, _, _ in found])
    rows = [QueueRow(review, reply, case, days_left(reply_deadline(review.created_at, window), now),
                     tuple(follow.get(review.id, [])))
            for review, reply, case in found]  # fmt: skip
    counts = dict(session.execute(
        select(ReviewReply.status, func.count()).where(ReviewReply.shop_id == shop.id).group_by(ReviewReply.status)
    ).all())  # fmt: skip
    return QueuePage(rows, total, page, pages, counts)


def queue_topics(session: Session, shop_id: str) -> list[str]:
    """The topics found on the shop's reviews, for the filter."""
    seen: set[str] = set()
    for (topics,) in session.execute(select(Review.topics).where(Review.shop_id == shop_id, Review.topics.isnot(None))):
        seen.update(topics or [])
    return sorted(seen)


def _reply(session: Session, shop_id: str, review_id: str) -> ReviewReply:
    reply = session.scalar(select(ReviewReply).where(ReviewReply.review_id == review_id,
                                                     ReviewReply.shop_id == shop_id))  # fmt: skip
    if reply is None:
        raise LookupError(review_id)
    return reply


def check_reply_text(text: str) -> str:
    """The reply as it may be saved: trimmed, phones redacted, ≤500 characters, no reward tied to the review."""
    text = (redact_phones(text.strip()) or "").strip()
    if not text:
        raise ReplyError("回复不能为空 / the reply is empty")
    if len(text) > MAX_REPLY_CHARS:
        raise ReplyError(f"回复最多 {MAX_REPLY_CHARS} 字 / a reply has at most {MAX_REPLY_CHARS} characters")
    verdict = check_reward_wording(text)
    if verdict.blocked:
        raise ReplyError(f"{verdict.message_zh} / {verdict.message_en}")
    return text


def edit_reply(session: Session, shop_id: str, review_id: str, text: str, *, actor: str | None,
               now: datetime | None = None) -> ReviewReply:  # fmt: skip
    """Save an edited draft (back to draft if it had been approved but not exported)."""
    reply = _reply(session, shop_id, review_id)
    if reply.status in ("exported", "posted"):
        raise ReplyError("回复已导出或已发布 / the reply was already exported or posted")
    reply.text, reply.edited, reply.status, reply.updated_at = check_reply_text(text), True, "draft", now or datetime.now(UTC)
    reply.approved_by = reply.approved_at = None
    session.flush()
    return reply


def approve_reply(session: Session, shop_id: str, review_id: str, *, actor: str | None,
                  now: datetime | None = None) -> ReviewReply:  # fmt: skip
    reply = _reply(session, shop_id, review_id)
    if reply.status != "draft":
        return reply
    check_reply_text(reply.text)
    now = now or datetime.now(UTC)
    reply.status, reply.approved_by, reply.approved_at, reply.updated_at = "approved", actor, now, now
    session.flush()
    return reply


def bulk_approve_good(session: Session, shop: Shop, *, actor: str | None, now: datetime | None = None) -> int:
    """Approve every draft of a good, unflagged review whose text reads positive enough; returns how many."""
    now = now or datetime.now(UTC)
    floor = float(reviews_rules(shop)["bulk_approve_min_score"])
    replies = session.scalars(
        select(ReviewReply).join(Review, Review.id == ReviewReply.review_id).where(
            ReviewReply.shop_id == shop.id, ReviewReply.status == "draft", Review.result == "good",
            Review.flagged.is_(False), Review.sentiment_score >= floor,
        )
    ).all()  # fmt: skip
    for reply in replies:
        reply.status, reply.approved_by, reply.approved_at, reply.updated_at = "approved", actor, now, now
    session.flush()
    return len(replies)


# -------------------------------------------------------------------------------------------------------------- export


def explain_rows(session: Session, shop: Shop, *, include_exported: bool = False) -> list[dict[str, Any]]:
    """Approved replies in the shape of taobao.traderate.explain.add: {oid, tid, reply} (plus the review id)."""
    statuses = ("approved", "exported") if include_exported else ("approved",)
    rows = session.execute(
        select(Review.id, Review.tid, Review.oid, Review.kind, ReviewReply.text)
        .join(ReviewReply, ReviewReply.review_id == Review.id)
        .where(ReviewReply.shop_id == shop.id, ReviewReply.status.in_(statuses))
        .order_by(Review.created_at)
    ).all()  # fmt: skip
    return [{"oid": row.oid or row.tid, "tid": row.tid, "reply": row.text, "review_id": row.id,
             "is_append": row.kind == "follow_up"} for row in rows]  # fmt: skip


def export_explanations(session: Session, shop: Shop, *, fmt: str = "json", mark: bool = True,
                        now: datetime | None = None) -> str:  # fmt: skip
    """The approved replies as JSON or CSV for traderate.explain; marks them exported unless mark=False."""
    rows = explain_rows(session, shop)
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=["oid", "tid", "reply", "review_id", "is_append"])
        writer.writeheader()
        writer.writerows(rows)
        body = buffer.getvalue()
    else:
        body = json.dumps({"method": "taobao.traderate.explain.add", "explanations": rows}, ensure_ascii=False, indent=2)
    if mark and rows:
        now = now or datetime.now(UTC)
        for reply in session.scalars(select(ReviewReply).where(ReviewReply.review_id.in_([r["review_id"] for r in rows]))):
            reply.status, reply.exported_at = "exported", now
        session.flush()
    return body
