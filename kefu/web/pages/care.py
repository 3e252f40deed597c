"""Care page: the follow-up visit queue with talking points, surprise gifts that fit, and the gift catalogue."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from kefu.services.care import CareError, complete_visit, schedule_visits, visit_queue
from kefu.services.gifts import GiftError, add_gift_item, catalogue, give_gift, propose_surprise
from kefu.store.growth_tables import GiftItem, GiftRecord
from kefu.store.tables import Customer
from kefu.web.auth import SignedInUser, current_user
from kefu.web.shop_choice import choose_shop
from kefu.web.templating import render

router = APIRouter(include_in_schema=False)


def _page(request: Request, *, notice: str = "", error: str = "", checked=None) -> HTMLResponse:
    with request.app.state.store.session() as session:
        choice = choose_shop(request, session)
        visits = visit_queue(session, choice.shop_id) if choice.shop_id else []
        gifts = catalogue(session, choice.shop_id) if choice.shop_id else []
        records = session.execute(
            select(GiftRecord, Customer.buyer_nick, GiftItem.name)
            .join(Customer, Customer.id == GiftRecord.customer_id)
            .outerjoin(GiftItem, GiftItem.id == GiftRecord.gift_item_id)
            .where(GiftRecord.shop_id == choice.shop_id).order_by(GiftRecord.created_at.desc()).limit(50)
        ).all() if choice.shop_id else []
    return render(request, "growth/care.html", {"shop_choice": choice, "visits": visits, "gifts": gifts,
                                                "records": records, "notice": notice, "error": error,
                                                "checked": checked})


@router.get("/care", response_class=HTMLResponse)
def care_page(request: Request, user: SignedInUser = Depends(current_user)) -> HTMLResponse:
    return _page(request)


@router.post("/care/schedule")
def schedule(request: Request, user: SignedInUser = Depends(current_user)) -> Response:
    with request.app.state.store.session() as session:
        choice = choose_shop(request, session)
        done = schedule_visits(session, choice.shop_id, datetime.now(UTC))
    return _page(request, notice=f"+{done.after_signing + done.birthday + done.winback}")


@router.post("/care/visits/{visit_id}")
def finish_visit(visit_id: str, request: Request, action: str = Form("done"), note: str = Form(""),
                 user: SignedInUser = Depends(current_user)) -> Response:
    with request.app.state.store.session() as session:
        try:
            result = complete_visit(session, visit_id, by=user.username, now=datetime.now(UTC),
                                    send=action == "send", skip=action == "skip", note=note.strip() or None)
        except CareError as exc:
            session.rollback()
            return _page(request, error=str(exc))
    notice = f"{result.status}: {result.reason or ''}" if result is not None else ""
    return _page(request, notice=notice) if notice else RedirectResponse("/care", status_code=303)


def _customer(session, shop_id: str, nick: str) -> Customer:
    found = session.scalar(select(Customer).where(Customer.shop_id == shop_id, Customer.buyer_nick == nick.strip()))
    if found is None:
        raise GiftError(f"找不到客户 {nick} / no customer named {nick}")
    return found


@router.post("/care/gifts/propose")
def propose(request: Request, nick: str = Form(...), user: SignedInUser = Depends(current_user)) -> Response:
    with request.app.state.store.session() as session:
        choice = choose_shop(request, session)
        try:
            record, gift = propose_surprise(session, _customer(session, choice.shop_id, nick).id, by=user.username,
                                            now=datetime.now(UTC))
        except GiftError as exc:
            session.rollback()
            return _page(request, error=str(exc))
    return _page(request, checked={"nick": nick, "choice": gift, "record": record})


@router.post("/care/gifts/give")
def give(request: Request, nick: str = Form(...), gift_item_id: str = Form(...), occasion: str = Form("surprise"),
         user: SignedInUser = Depends(current_user)) -> Response:
    with request.app.state.store.session() as session:
        choice = choose_shop(request, session)
        try:
            record, check = give_gift(session, _customer(session, choice.shop_id, nick).id, gift_item_id,
                                      occasion="birthday" if occasion == "birthday" else "surprise",
                                      by=user.username, now=datetime.now(UTC))
        except GiftError as exc:
            session.rollback()
            return _page(request, error=str(exc))
    return _page(request, checked={"nick": nick, "check": check, "record": record})


@router.post("/care/gifts/items")
def add_item(request: Request, key: str = Form(...), name: str = Form(...), cost: str = Form(...),
             sensitivity: str = Form("none"), suits_gender: str = Form("any"), categories: str = Form(""),
             user: SignedInUser = Depends(current_user)) -> Response:
    with request.app.state.store.session() as session:
        choice = choose_shop(request, session)
        try:
            add_gift_item(session, choice.shop_id, key=key.strip(), name=name.strip(), cost=Decimal(cost),
                          sensitivity=sensitivity, suits_gender=suits_gender,
                          categories=tuple(c.strip() for c in categories.replace("，", ",").split(",") if c.strip()))
        except (GiftError, InvalidOperation) as exc:
            session.rollback()
            return _page(request, error=str(exc) or "cost: 不是金额 / not an amount")
    return RedirectResponse("/care", status_code=303)
