"""Customer pages: the searchable list (HTMX table) and the 360 view with tags, notes and profile edited in place."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.services import customer360
from kefu.services.orders_view import search_orders
from kefu.store.tables import Customer, CustomerTag, Order
from kefu.web.auth import SignedInUser, current_user
from kefu.web.shop_choice import choose_shop
from kefu.web.templating import is_htmx, render

router = APIRouter(include_in_schema=False)

PER_PAGE = 50
ORDERS_SHOWN = 10
TIMELINE_SHOWN = 100
TIERS = ("top", "middle", "low", "none")
ORDERINGS = ("total_spent", "last_order_at", "orders_count")
GENDERS = ("female", "male")
MAX_TAG_LENGTH = customer360.MAX_TAG_LENGTH


def province_options(session: Session, shop_id: str | None) -> list[str]:
    query = select(Customer.province).where(Customer.province.is_not(None)).distinct().order_by(Customer.province)
    if shop_id:
        query = query.where(Customer.shop_id == shop_id)
    return list(session.scalars(query))


def tag_options(session: Session, shop_id: str | None) -> list[str]:
    query = select(CustomerTag.tag).distinct().order_by(CustomerTag.tag)
    if shop_id:
        query = query.join(Customer, Customer.id == CustomerTag.customer_id).where(Customer.shop_id == shop_id)
    return list(session.scalars(query))


def tags_by_customer(session: Session, customer_ids: list[str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    if customer_ids:
        rows = session.execute(
            select(CustomerTag.customer_id, CustomerTag.tag).where(CustomerTag.customer_id.in_(customer_ids)).order_by(CustomerTag.tag)
        )
        for customer_id, tag in rows:
            found.setdefault(customer_id, []).append(tag)
    return found


def contact_of(session: Session, customer: Customer) -> dict:
    """Where the 360 finds a name, phone and address to show masked: the customer's own, else their latest order's."""
    latest = session.scalar(
        select(Order)
        .where(Order.customer_id == customer.id, Order.receiver_phone.is_not(None) | Order.receiver_name.is_not(None))
        .order_by(Order.created_at.desc().nulls_last())
        .limit(1)
    )
    contact = {"name": None, "phone": None, "email": None, "address": None}
    if customer.name:
        contact["name"] = ("customer", customer.id, "name", customer.name)
    elif latest and latest.receiver_name:
        contact["name"] = ("order", latest.id, "receiver_name", latest.receiver_name)
    if customer.phone:
        contact["phone"] = ("customer", customer.id, "phone", customer.phone)
    elif latest and latest.receiver_phone:
        contact["phone"] = ("order", latest.id, "receiver_phone", latest.receiver_phone)
    if customer.email:
        contact["email"] = ("customer", customer.id, "email", customer.email)
    if latest and latest.receiver_address:
        region = " ".join(p for p in (latest.receiver_province, latest.receiver_city, latest.receiver_district) if p)
        contact["address"] = ("order", latest.id, "receiver_address", latest.receiver_address, region)
    return contact


@router.get("/customers", response_class=HTMLResponse)
def customers_page(
    request: Request,
    q: str = "",
    tier: str = "",
    province: str = "",
    tag: str = "",
    order_by: str = "total_spent",
    page: int = 1,
    user: SignedInUser = Depends(current_user),
) -> HTMLResponse:
    tier = tier if tier in TIERS else ""
    order_by = order_by if order_by in ORDERINGS else "total_spent"
    with request.app.state.store.session() as session:
        choice = choose_shop(request, session)
        result = customer360.search_customers(
            session, shop_id=choice.shop_id, q=q.strip() or None, tier=tier or None, province=province or None,
            tag=tag or None, page=max(1, page), per_page=PER_PAGE, order_by=order_by,
        )
        context = {
            "shop_choice": choice,
            "tz": choice.timezone,
            "result": result,
            "tags": tags_by_customer(session, [c.id for c in result.items]),
            "q": q, "tier": tier, "province": province, "tag": tag, "order_by": order_by,
            "tiers": TIERS,
            "provinces": province_options(session, choice.shop_id),
            "tag_options": tag_options(session, choice.shop_id),
            "params": {k: v for k, v in {"q": q, "tier": tier, "province": province, "tag": tag,
                                         "order_by": order_by if order_by != "total_spent" else ""}.items() if v},
        }
    if is_htmx(request) and request.headers.get("hx-target") == "customers-table":
        return render(request, "customers/_table.html", context)
    return render(request, "customers/list.html", context)


def _load_360(session: Session, customer_id: str):
    view = customer360.customer_360(session, customer_id)
    customer = session.get(Customer, customer_id)
    if view is None or customer is None:
        raise HTTPException(status_code=404, detail="no such customer")
    return view, customer


@router.get("/customers/{customer_id}", response_class=HTMLResponse)
def customer_page(customer_id: str, request: Request, user: SignedInUser = Depends(current_user)) -> HTMLResponse:
    with request.app.state.store.session() as session:
        view, customer = _load_360(session, customer_id)
        choice = choose_shop(request, session, customer.shop_id)
        orders = search_orders(session, customer_id=customer_id, per_page=ORDERS_SHOWN)
        contact = contact_of(session, customer)
    return render(request, "customers/detail.html", {
        "v": view, "c": customer, "orders": orders, "contact": contact, "shop_choice": choice, "tz": choice.timezone,
        "genders": GENDERS, "timeline_shown": TIMELINE_SHOWN,
    })


def _fragment(request: Request, customer_id: str, template: str, **extra) -> HTMLResponse:
    with request.app.state.store.session() as session:
        view, customer = _load_360(session, customer_id)
        choice = choose_shop(request, session, customer.shop_id)
    return render(request, template, {"v": view, "c": customer, "tz": choice.timezone, "genders": GENDERS, **extra})


def _current_tags(session: Session, customer_id: str) -> list[str]:
    return list(session.scalars(select(CustomerTag.tag).where(CustomerTag.customer_id == customer_id).order_by(CustomerTag.tag)))


@router.post("/customers/{customer_id}/tags", response_class=HTMLResponse)
def edit_tags(customer_id: str, request: Request, add: str = Form(""), remove: str = Form(""),
              user: SignedInUser = Depends(current_user)) -> HTMLResponse:
    """Add tags (comma or space separated) or remove one; answers the tag box."""
    error = None
    with request.app.state.store.session() as session:
        if session.get(Customer, customer_id) is None:
            raise HTTPException(status_code=404, detail="no such customer")
        tags = _current_tags(session, customer_id)
        new = [t.strip() for t in add.replace("，", ",").replace(",", " ").split() if t.strip()]
        if any(len(t) > MAX_TAG_LENGTH for t in new):
            error = "customer.tag_too_long"
        else:
            customer360.set_tags(session, customer_id, [t for t in tags if t != remove.strip()] + new)
    return _fragment(request, customer_id, "customers/_tags.html", error=error)


@router.post("/customers/{customer_id}/notes", response_class=HTMLResponse)
def add_note(customer_id: str, request: Request, body: str = Form(""),
             user: SignedInUser = Depends(current_user)) -> HTMLResponse:
    """Add a note signed by the agent; answers the note list."""
    error = None
    with request.app.state.store.session() as session:
        if session.get(Customer, customer_id) is None:
            raise HTTPException(status_code=404, detail="no such customer")
        if not body.strip():
            error = "customer.note_empty"
        elif len(body.strip()) > customer360.MAX_NOTE_LENGTH:
            error = "customer.note_too_long"
        else:
            customer360.add_note(session, customer_id, body, user.label)
    return _fragment(request, customer_id, "customers/_notes.html", error=error)


@router.post("/customers/{customer_id}/profile", response_class=HTMLResponse)
def edit_profile(
    customer_id: str,
    request: Request,
    gender: str = Form(""),
    birthday: str = Form(""),
    hobbies: str = Form(""),
    personality_type: str = Form(""),
    marketing_consent: str = Form(""),
    user: SignedInUser = Depends(current_user),
) -> HTMLResponse:
    """Save the profile fields an agent fills in; a bad value is named in the answer and nothing is saved."""
    error = None
    try:
        try:
            born = date.fromisoformat(birthday) if birthday else None
        except ValueError:
            raise ValueError(f"birthday: 生日格式应为 YYYY-MM-DD / must be YYYY-MM-DD, got {birthday!r}") from None
        fields = {
            "gender": gender or None,
            "birthday": born,
            "hobbies": hobbies.strip() or None,
            "personality_type": personality_type.strip() or None,
            "marketing_consent": marketing_consent in ("1", "on", "true"),
        }
        with request.app.state.store.session() as session:
            if session.get(Customer, customer_id) is None:
                raise HTTPException(status_code=404, detail="no such customer")
            customer360.update_profile(session, customer_id, **fields)
    except ValueError as exc:
        error = str(exc)
    return _fragment(request, customer_id, "customers/_profile.html", error=error, editing=error is not None)


@router.get("/customers/{customer_id}/profile", response_class=HTMLResponse)
def profile_fragment(customer_id: str, request: Request, edit: bool = False,
                     user: SignedInUser = Depends(current_user)) -> HTMLResponse:
    """The profile box, read-only or as a form (HTMX swaps it in place)."""
    return _fragment(request, customer_id, "customers/_profile.html", error=None, editing=edit)
