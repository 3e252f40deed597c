"""REST: customers — search, the 360 view, profile edits, notes and tags; personal data masked unless ?reveal=1."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel, Field

from kefu.services import customer360
from kefu.store.tables import Customer
from kefu.web.api.serialize import ORDER_PII, customer_json
from kefu.web.auth import SignedInUser, current_user
from kefu.web.reveal import audit, audit_api_reveal
from kefu.web.shop_choice import choose_shop

router = APIRouter(tags=["customers"])

CUSTOMER_PII = ["name", "phone", "email"]


class ProfilePatch(BaseModel):
    """Profile fields an agent may change; fields left out stay as they are."""

    gender: str | None = Field(None, description="female | male | null")
    birthday: date | None = None
    hobbies: str | None = None
    personality_type: str | None = None
    marketing_consent: bool | None = None


class NoteIn(BaseModel):
    body: str = Field(..., min_length=1, max_length=5000)


class TagsIn(BaseModel):
    tags: list[str] = Field(default_factory=list, description="the customer's complete tag list")


def _require(session, customer_id: str) -> Customer:
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise HTTPException(status_code=404, detail=f"no customer {customer_id}")
    return customer


def _view_json(session, user: SignedInUser, customer_id: str, reveal: bool) -> dict[str, Any]:
    view = customer360.customer_360(session, customer_id)
    if view is None:
        raise HTTPException(status_code=404, detail=f"no customer {customer_id}")
    if reveal:
        audit_api_reveal(session, user, "customer", [customer_id], CUSTOMER_PII + list(ORDER_PII))
    data = view.to_json(mask=not reveal)
    data["pii_masked"] = not reveal
    return data


@router.get("/customers", summary="客户列表 / Search customers")
def list_customers(
    request: Request,
    q: str | None = Query(None, description="part of the buyer nick"),
    tier: str | None = Query(None, description="top | middle | low | none"),
    province: str | None = None,
    tag: str | None = None,
    shop: str | None = Query(None, description="shop id or name; default: the workbench's current shop"),
    order_by: str = Query("total_spent", description="total_spent | last_order_at | orders_count"),
    page: int = Query(1, ge=1),
    per_page: int = Query(50, ge=1, le=200),
    reveal: bool = Query(False, description="names, phones and e-mails in clear (audited)"),
    user: SignedInUser = Depends(current_user),
) -> dict:
    with request.app.state.store.session() as session:
        choice = choose_shop(request, session, shop)
        try:
            result = customer360.search_customers(session, shop_id=choice.shop_id, q=q, tier=tier, province=province,
                                                  tag=tag, page=page, per_page=per_page, order_by=order_by)
        except ValueError as exc:
            raise HTTPException(status_code=422, detail=str(exc)) from exc
        if reveal:
            audit_api_reveal(session, user, "customer", [c.id for c in result.items], CUSTOMER_PII)
        return {
            "items": [customer_json(c, reveal=reveal) for c in result.items],
            "total": result.total,
            "page": result.page,
            "per_page": result.per_page,
            "pages": result.pages,
        }


@router.get("/customers/{customer_id}", summary="客户360 / A customer's 360 view")
def get_customer(customer_id: str, request: Request, reveal: bool = False,
                 user: SignedInUser = Depends(current_user)) -> dict:
    with request.app.state.store.session() as session:
        return _view_json(session, user, customer_id, reveal)


@router.patch("/customers/{customer_id}", summary="修改客户资料 / Change profile fields")
def patch_customer(customer_id: str, patch: ProfilePatch, request: Request,
                   user: SignedInUser = Depends(current_user)) -> dict:
    fields = patch.model_dump(exclude_unset=True)
    with request.app.state.store.session() as session:
        _require(session, customer_id)
        try:
            customer360.update_profile(session, customer_id, **fields)
        except ValueError as exc:
            raise HTTPException(status_code=422, detail=str(exc)) from exc
        audit(session, user, "edit", "customer", customer_id, "api: " + ",".join(sorted(fields)))
    with request.app.state.store.session() as session:
        return _view_json(session, user, customer_id, False)


@router.post("/customers/{customer_id}/notes", status_code=201, summary="添加备注 / Add a note")
def post_note(customer_id: str, note: NoteIn, request: Request, user: SignedInUser = Depends(current_user)) -> dict:
    with request.app.state.store.session() as session:
        _require(session, customer_id)
        try:
            created = customer360.add_note(session, customer_id, note.body, user.label)
        except ValueError as exc:
            raise HTTPException(status_code=422, detail=str(exc)) from exc
        return {"id": created.id, "customer_id": customer_id, "body": created.body, "author": created.author,
                "created_at": created.created_at.isoformat() if created.created_at else None}


@router.put("/customers/{customer_id}/tags", summary="设置标签 / Replace the tag list")
def put_tags(customer_id: str, tags: TagsIn, request: Request, user: SignedInUser = Depends(current_user)) -> dict:
    with request.app.state.store.session() as session:
        _require(session, customer_id)
        try:
            saved = customer360.set_tags(session, customer_id, tags.tags)
        except ValueError as exc:
            raise HTTPException(status_code=422, detail=str(exc)) from exc
        return {"customer_id": customer_id, "tags": saved}
