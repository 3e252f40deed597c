"""Review pages: the reply approval queue, recovery cases with evidence, and the root-cause Pareto."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from urllib.parse import quote

from fastapi import APIRouter, Depends, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from kefu.domain.reviews.aspects import TOPICS
from kefu.domain.reviews.recovery import STEPS, days_left
from kefu.domain.reviews.replies import reply_deadline
from kefu.ingest.reviews_file import RESULTS
from kefu.services.review_recovery import (
    RecoveryError,
    RewardBlocked,
    add_evidence,
    case_or_none,
    case_view,
    complete_step,
    list_cases,
    open_case,
)
from kefu.services.review_replies import (
    REPLY_STATUSES,
    QueueFilter,
    QueueRow,
    ReplyError,
    approve_reply,
    bulk_approve_good,
    edit_reply,
    export_explanations,
    list_queue,
    queue_topics,
)
from kefu.services.reviews import follow_ups_of, model_info, review_or_none, reviews_rules
from kefu.services.root_causes import root_cause_report
from kefu.store.review_tables import ReviewEvidence, ReviewRecoveryCase, ReviewReply
from kefu.web.auth import SignedInUser, current_user
from kefu.web.shop_choice import choose_shop
from kefu.web.templating import is_htmx, render

router = APIRouter(include_in_schema=False)

PER_PAGE = 40
SENTIMENTS = ("positive", "neutral", "negative")
SAFE_INLINE = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})


def _now() -> datetime:
    return datetime.now(UTC)


def _shop_or_404(request: Request, session):
    choice = choose_shop(request, session)
    if choice.current is None:
        raise HTTPException(status_code=404, detail="no shop yet")
    return choice


@router.get("/reviews", response_class=HTMLResponse)
def reviews_page(
    request: Request, result: str = "", flagged: str = "", topic: str = "", reply: str = "", sentiment: str = "",
    q: str = "", page: int = 1, user: SignedInUser = Depends(current_user),
) -> HTMLResponse:
    f = QueueFilter(result=result if result in RESULTS else None, flagged=flagged == "1",
                    topic=topic or None, reply_status=reply if reply in REPLY_STATUSES else None,
                    sentiment=sentiment if sentiment in SENTIMENTS else None, search=q.strip()[:50] or None)
    with request.app.state.store.session() as session:
        choice = choose_shop(request, session)
        context = {"shop_choice": choice, "tz": choice.timezone, "results": RESULTS, "statuses": REPLY_STATUSES,
                   "sentiments": SENTIMENTS, "f": f, "page_result": None, "topics": [], "model": None,
                   "params": {k: v for k, v in {"result": result, "flagged": flagged, "topic": topic, "reply": reply,
                                                "sentiment": sentiment, "q": q}.items() if v}}  # fmt: skip
        if choice.current is not None:
            context["page_result"] = list_queue(session, choice.current, f, page=page, per_page=PER_PAGE, now=_now())
            context["topics"] = queue_topics(session, choice.current.id)
            context["model"] = model_info(session, choice.current.id)
            context["window"] = reviews_rules(choice.current)["reply_window_days"]
    if is_htmx(request) and request.headers.get("hx-target") == "reviews-table":
        return render(request, "reviews/_table.html", context)
    return render(request, "reviews/list.html", context)


def _row(request: Request, session, choice, review_id: str, error: str | None = None) -> HTMLResponse:
    review = review_or_none(session, review_id, choice.shop_id)
    if review is None:
        raise HTTPException(status_code=404, detail="no such review")
    reply = session.scalar(select(ReviewReply).where(ReviewReply.review_id == review.id))
    case = session.scalar(select(ReviewRecoveryCase).where(ReviewRecoveryCase.review_id == review.id))
    window = int(reviews_rules(choice.current)["reply_window_days"])
    row = QueueRow(review, reply, case, days_left(reply_deadline(review.created_at, window), _now()),
                   tuple(follow_ups_of(session, [review.id]).get(review.id, [])))  # fmt: skip
    return render(request, "reviews/_row.html", {"r": row, "tz": choice.timezone, "error": error},
                  status_code=200)  # fmt: skip  (HTMX swaps only 2xx: the error shows in the row)


@router.post("/reviews/import", response_class=HTMLResponse)
async def import_reviews(request: Request, files: list[UploadFile] = File(...),
                         user: SignedInUser = Depends(current_user)) -> HTMLResponse:  # fmt: skip
    """Upload TOP trade-rate JSON/CSV or Shopify review CSV files into the current shop; shows what landed."""
    import tempfile
    from pathlib import Path

    from kefu.services.reviews import import_review_file

    store = request.app.state.store
    with store.session() as session:
        choice = choose_shop(request, session)
        shop_name = choice.current.name if choice.current else None
    results = []
    with tempfile.TemporaryDirectory() as work:
        for upload in files:
            name = Path(upload.filename or "reviews.csv").name
            path = Path(work) / "upload"
            path.write_bytes(await upload.read())
            results.append(import_review_file(store, path, shop_name, display_name=name, created_by=user.username))
    return render(request, "reviews/_imported.html", {"results": results})


@router.post("/reviews/{review_id}/reply", response_class=HTMLResponse)
def save_reply(review_id: str, request: Request, text: str = Form(""), user: SignedInUser = Depends(current_user)):
    with request.app.state.store.session() as session:
        choice = _shop_or_404(request, session)
        try:
            edit_reply(session, choice.shop_id, review_id, text, actor=user.username, now=_now())
        except LookupError:
            raise HTTPException(status_code=404, detail="no such review") from None
        except ReplyError as error:
            session.rollback()
            return _row(request, session, choice, review_id, str(error))
        return _row(request, session, choice, review_id)


@router.post("/reviews/{review_id}/approve", response_class=HTMLResponse)
def approve(review_id: str, request: Request, user: SignedInUser = Depends(current_user)):
    with request.app.state.store.session() as session:
        choice = _shop_or_404(request, session)
        try:
            approve_reply(session, choice.shop_id, review_id, actor=user.username, now=_now())
        except LookupError:
            raise HTTPException(status_code=404, detail="no such review") from None
        except ReplyError as error:
            session.rollback()
            return _row(request, session, choice, review_id, str(error))
        return _row(request, session, choice, review_id)


@router.post("/reviews/approve-good")
def approve_good(request: Request, user: SignedInUser = Depends(current_user)) -> Response:
    with request.app.state.store.session() as session:
        choice = _shop_or_404(request, session)
        approved = bulk_approve_good(session, choice.current, actor=user.username, now=_now())
    return RedirectResponse(f"/reviews?approved={approved}", status_code=303)


@router.post("/reviews/export")
def export(request: Request, fmt: str = Form("json"), user: SignedInUser = Depends(current_user)) -> Response:
    with request.app.state.store.session() as session:
        choice = _shop_or_404(request, session)
        body = export_explanations(session, choice.current, fmt="csv" if fmt == "csv" else "json", now=_now())
    suffix, media = ("csv", "text/csv; charset=utf-8") if fmt == "csv" else ("json", "application/json")
    return Response(body, media_type=media,
                    headers={"Content-Disposition": f'attachment; filename="traderate-explain.{suffix}"'})


@router.post("/reviews/{review_id}/recovery")
def open_recovery(review_id: str, request: Request, user: SignedInUser = Depends(current_user)) -> Response:
    with request.app.state.store.session() as session:
        choice = _shop_or_404(request, session)
        review = review_or_none(session, review_id, choice.shop_id)
        if review is None:
            raise HTTPException(status_code=404, detail="no such review")
        case = open_case(session, choice.current, review, actor=user.username, now=_now(), link_complaint=True)
        case_id = case.id
    if is_htmx(request):
        return Response(status_code=204, headers={"HX-Redirect": f"/reviews/cases/{case_id}"})
    return RedirectResponse(f"/reviews/cases/{case_id}", status_code=303)


@router.get("/reviews/cases", response_class=HTMLResponse)
def cases_page(request: Request, status: str = "open", user: SignedInUser = Depends(current_user)) -> HTMLResponse:
    status = status if status in ("open", "closed", "all") else "open"
    with request.app.state.store.session() as session:
        choice = choose_shop(request, session)
        views = list_cases(session, choice.current, status=status, now=_now()) if choice.current else []
        return render(request, "reviews/cases.html", {"shop_choice": choice, "tz": choice.timezone, "views": views,
                                                      "status": status, "steps": STEPS})  # fmt: skip


def _case_page(request: Request, session, choice, case_id: str, error: str | None = None,
               blocked=None, form: dict | None = None) -> HTMLResponse:  # fmt: skip
    case = case_or_none(session, case_id, choice.shop_id)
    if case is None:
        raise HTTPException(status_code=404, detail="no such case")
    view = case_view(session, choice.current, case, _now())
    return render(request, "reviews/case.html",
                  {"shop_choice": choice, "tz": choice.timezone, "v": view, "steps": STEPS, "topics": TOPICS,
                   "error": error, "blocked": blocked, "form": form or {}},
                  status_code=200)  # fmt: skip  (a form shown again with its error, as a page)


@router.get("/reviews/cases/{case_id}", response_class=HTMLResponse)
def case_page(case_id: str, request: Request, user: SignedInUser = Depends(current_user)) -> HTMLResponse:
    with request.app.state.store.session() as session:
        return _case_page(request, session, _shop_or_404(request, session), case_id)


@router.post("/reviews/cases/{case_id}/step", response_class=HTMLResponse)
def case_step(
    case_id: str, request: Request, note: str = Form(""), cause: str = Form(""), cause_note: str = Form(""),
    remedy: str = Form(""), remedy_cost: str = Form(""), satisfied: str = Form(""), ask_update: str = Form(""),
    user: SignedInUser = Depends(current_user),
) -> Response:
    form = {"note": note, "cause": cause, "cause_note": cause_note, "remedy": remedy, "remedy_cost": remedy_cost,
            "satisfied": satisfied, "ask_update": ask_update}
    with request.app.state.store.session() as session:
        choice = _shop_or_404(request, session)
        case = case_or_none(session, case_id, choice.shop_id)
        if case is None:
            raise HTTPException(status_code=404, detail="no such case")
        try:
            complete_step(session, case, actor=user.username, now=_now(), note=note or None, cause=cause or None,
                          cause_note=cause_note or None, remedy=remedy if case.step == "remedy" else None,
                          remedy_cost=remedy_cost or None,
                          buyer_satisfied={"yes": True, "no": False}.get(satisfied), ask_update=ask_update == "1")
        except RewardBlocked as blocked:
            session.rollback()
            return _case_page(request, session, choice, case_id, blocked=blocked.verdict, form=form)
        except RecoveryError as error:
            session.rollback()
            return _case_page(request, session, choice, case_id, error=str(error), form=form)
    return RedirectResponse(f"/reviews/cases/{case_id}", status_code=303)


@router.post("/reviews/cases/{case_id}/evidence", response_class=HTMLResponse)
async def case_evidence(case_id: str, request: Request, file: UploadFile = File(...), note: str = Form(""),
                        user: SignedInUser = Depends(current_user)) -> Response:  # fmt: skip
    data = await file.read()
    with request.app.state.store.session() as session:
        choice = _shop_or_404(request, session)
        case = case_or_none(session, case_id, choice.shop_id)
        if case is None:
            raise HTTPException(status_code=404, detail="no such case")
        try:
            add_evidence(session, choice.current, case, file_name=file.filename or "evidence",
                         content_type=file.content_type or "application/octet-stream", data=data,
                         actor=user.username, now=_now(), note=note or None)  # fmt: skip
        except RecoveryError as error:
            session.rollback()
            return _case_page(request, session, choice, case_id, error=str(error))
    return RedirectResponse(f"/reviews/cases/{case_id}", status_code=303)


@router.get("/reviews/evidence/{evidence_id}")
def evidence_file(evidence_id: str, request: Request, user: SignedInUser = Depends(current_user)) -> Response:
    with request.app.state.store.session() as session:
        choice = _shop_or_404(request, session)
        row = session.get(ReviewEvidence, evidence_id)
        if row is None or row.shop_id != choice.shop_id:
            raise HTTPException(status_code=404, detail="no such file")
        inline = row.content_type in SAFE_INLINE  # never inline SVG or HTML: they can carry scripts
        disposition = "inline" if inline else "attachment"
        return Response(row.data, media_type=row.content_type if inline else "application/octet-stream",
                        headers={"Content-Disposition": f"{disposition}; filename*=UTF-8''{quote(row.file_name)}",
                                 "X-Content-Type-Options": "nosniff"})  # fmt: skip


@router.get("/reviews/root-causes", response_class=HTMLResponse)
def root_causes_page(request: Request, days: int = 180, user: SignedInUser = Depends(current_user)) -> HTMLResponse:
    days = days if days in (30, 90, 180, 365, 0) else 180
    with request.app.state.store.session() as session:
        choice = choose_shop(request, session)
        report = root_cause_report(session, choice.shop_id, now=_now(), days=days or None) if choice.current else None
    chart = None
    if report and report.bars:
        chart = json.dumps({"keys": [b.key for b in report.bars], "counts": [b.count for b in report.bars],
                            "cumulative": [round(b.cumulative * 100, 1) for b in report.bars]}, ensure_ascii=False)
    return render(request, "reviews/root_causes.html", {"shop_choice": choice, "report": report, "chart": chart,
                                                        "days": days})  # fmt: skip
