"""REST: the review queue, approving replies, the traderate.explain export, recovery cases and root causes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Body, Depends, HTTPException, Query, Request

from kefu.ingest.reviews_file import RESULTS
from kefu.services.review_recovery import RecoveryError, RewardBlocked, case_or_none, complete_step, open_case
from kefu.services.review_replies import (
    REPLY_STATUSES,
    QueueFilter,
    ReplyError,
    approve_reply,
    edit_reply,
    explain_rows,
    list_queue,
)
from kefu.services.reviews import review_or_none
from kefu.services.root_causes import root_cause_report
from kefu.store.review_tables import Review, ReviewRecoveryCase, ReviewReply
from kefu.web.auth import SignedInUser, current_user
from kefu.web.shop_choice import choose_shop

router = APIRouter(tags=["reviews"])


def _shop(request: Request, session, shop: str | None):
    choice = choose_shop(request, session, shop)
    if choice.current is None:
        raise HTTPException(status_code=404, detail="no shop")
    return choice.current


def review_json(review: Review, reply: ReviewReply | None, case: ReviewRecoveryCase | None,
                days_left: int | None = None) -> dict[str, Any]:  # fmt: skip
    return {
        "id": review.id, "kind": review.kind, "parent_id": review.parent_id, "tid": review.tid, "oid": review.oid,
        "order_id": review.order_id, "customer_id": review.customer_id, "product_id": review.product_id,
        "nick": review.nick, "item_title": review.item_title, "result": review.result, "stars": review.stars,
        "content": review.content, "created_at": review.created_at.isoformat(), "sentiment": review.sentiment,
        "sentiment_score": review.sentiment_score, "flagged": review.flagged, "topics": review.topics or [],
        "reply": None if reply is None else {"text": reply.text, "status": reply.status, "edited": reply.edited},
        "reply_days_left": days_left,
        "recovery_case": None if case is None else {"id": case.id, "status": case.status, "step": case.step,
                                                     "deadline_at": case.deadline_at.isoformat(), "cause": case.cause},
    }  # fmt: skip


@router.get("/reviews", summary="评价队列 / The review queue")
def get_reviews(
    request: Request,
    result: str | None = Query(None, description="good, neutral or bad"),
    flagged: bool = Query(False, description="only good ratings whose text reads negative"),
    topic: str | None = Query(None, description="a topic code, e.g. quality.size"),
    reply: str | None = Query(None, description="draft, approved, exported or posted"),
    shop: str | None = Query(None, description="shop id or name; default: the workbench's current shop"),
    page: int = Query(1, ge=1),
    per_page: int = Query(50, ge=1, le=200),
    user: SignedInUser = Depends(current_user),
) -> dict:
    if result and result not in RESULTS:
        raise HTTPException(status_code=422, detail=f"result: one of {', '.join(RESULTS)}")
    if reply and reply not in REPLY_STATUSES:
        raise HTTPException(status_code=422, detail=f"reply: one of {', '.join(REPLY_STATUSES)}")
    with request.app.state.store.session() as session:
        found = _shop(request, session, shop)
        queue = list_queue(session, found, QueueFilter(result=result, flagged=flagged, topic=topic, reply_status=reply),
                           page=page, per_page=per_page)  # fmt: skip
        return {"items": [{**review_json(r.review, r.reply, r.case, r.reply_days_left),
                           "follow_ups": [review_json(f, None, None) for f in r.follow_ups]} for r in queue.rows],
                "total": queue.total, "page": queue.page, "pages": queue.pages, "reply_counts": queue.counts}


@router.put("/reviews/{review_id}/reply", summary="修改回复草稿 / Edit a reply draft")
def put_reply(review_id: str, request: Request, text: str = Body(..., embed=True),
              user: SignedInUser = Depends(current_user)) -> dict:  # fmt: skip
    with request.app.state.store.session() as session:
        found = _shop(request, session, None)
        try:
            reply = edit_reply(session, found.id, review_id, text, actor=user.username)
        except LookupError:
            raise HTTPException(status_code=404, detail="no such review") from None
        except ReplyError as error:
            raise HTTPException(status_code=422, detail=str(error)) from None
        return {"text": reply.text, "status": reply.status}


@router.post("/reviews/{review_id}/approve", summary="审核通过回复 / Approve a reply")
def post_approve(review_id: str, request: Request, user: SignedInUser = Depends(current_user)) -> dict:
    with request.app.state.store.session() as session:
        found = _shop(request, session, None)
        try:
            reply = approve_reply(session, found.id, review_id, actor=user.username)
        except LookupError:
            raise HTTPException(status_code=404, detail="no such review") from None
        except ReplyError as error:
            raise HTTPException(status_code=422, detail=str(error)) from None
        return {"text": reply.text, "status": reply.status}


@router.get("/reviews/explanations", summary="已审核回复（traderate.explain 格式）/ Approved replies, traderate.explain shape")
def get_explanations(request: Request, shop: str | None = None, user: SignedInUser = Depends(current_user)) -> dict:
    with request.app.state.store.session() as session:
        return {"method": "taobao.traderate.explain.add",
                "explanations": explain_rows(session, _shop(request, session, shop), include_exported=True)}


@router.post("/reviews/{review_id}/recovery", summary="开差评挽回案件 / Open a recovery case")
def post_recovery(review_id: str, request: Request, user: SignedInUser = Depends(current_user)) -> dict:
    with request.app.state.store.session() as session:
        found = _shop(request, session, None)
        review = review_or_none(session, review_id, found.id)
        if review is None:
            raise HTTPException(status_code=404, detail="no such review")
        case = open_case(session, found, review, actor=user.username, now=datetime.now(UTC))
        return {"id": case.id, "step": case.step, "deadline_at": case.deadline_at.isoformat()}


@router.post("/reviews/cases/{case_id}/step", summary="完成挽回步骤 / Complete the case's current step")
def post_step(case_id: str, request: Request, facts: dict[str, Any] = Body(default_factory=dict),
              user: SignedInUser = Depends(current_user)) -> dict:  # fmt: skip
    """Body: note, cause, cause_note, remedy, remedy_cost, buyer_satisfied (bool), ask_update (bool)."""
    allowed = {"note", "cause", "cause_note", "remedy", "remedy_cost", "buyer_satisfied", "ask_update"}
    with request.app.state.store.session() as session:
        found = _shop(request, session, None)
        case = case_or_none(session, case_id, found.id)
        if case is None:
            raise HTTPException(status_code=404, detail="no such case")
        try:
            complete_step(session, case, actor=user.username, now=datetime.now(UTC),
                          **{k: v for k, v in facts.items() if k in allowed})  # fmt: skip
        except RewardBlocked as blocked:
            raise HTTPException(status_code=422, detail={"code": blocked.verdict.code, "message": str(blocked),
                                                         "safer_wording": blocked.verdict.safer_wording}) from None
        except RecoveryError as error:
            raise HTTPException(status_code=422, detail=str(error)) from None
        return {"id": case.id, "step": case.step, "status": case.status}


@router.get("/reviews/root-causes", summary="问题根因（帕累托）/ Root causes (Pareto)")
def get_root_causes(request: Request, days: int = Query(180, ge=0), shop: str | None = None,
                    user: SignedInUser = Depends(current_user)) -> dict:  # fmt: skip
    with request.app.state.store.session() as session:
        report = root_cause_report(session, _shop(request, session, shop).id, now=datetime.now(UTC),
                                   days=days or None)  # fmt: skip
    return {"total": report.total, "by_source": report.by_source,
            "bars": [{"cause": b.key, "count": b.count, "share": round(b.share, 4), "cumulative": round(b.cumulative, 4)}
                     for b in report.bars],
            "vital_few": [b.key for b in report.vital],
            "products": [{"product": p.product, "total": p.total, "causes": dict(p.causes)} for p in report.products]}
