"""The knowledge base page: the shop's facts (shipping, returns, products, promotions, brand, FAQ) edited in place."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from kefu.domain.desk.knowledge import DATA_KEYS, KINDS, data_to_lines
from kefu.services.knowledge import (
    EntryNotFound,
    KnowledgeError,
    delete_entry,
    get_entry,
    list_entries,
    save_entry,
    search_knowledge,
    shop_products,
)
from kefu.services.shop_facts import load_shop_facts
from kefu.web.auth import SignedInUser, current_user
from kefu.web.shop_choice import choose_shop
from kefu.web.templating import render

router = APIRouter(include_in_schema=False)


def _context(request: Request, session, *, edit: str = "", kind: str = "", q: str = "") -> dict:
    choice = choose_shop(request, session)
    editing = None
    if edit:
        try:
            editing = get_entry(session, edit)
        except EntryNotFound:
            raise HTTPException(status_code=404, detail="no such entry") from None
    entries = list_entries(session, choice.shop_id)
    return {
        "shop_choice": choice, "tz": choice.timezone, "entries": entries, "kinds": KINDS, "data_keys": DATA_KEYS,
        "editing": editing, "form_kind": editing.kind if editing else (kind if kind in KINDS else "faq"),
        "form": {"title": editing.title, "body": editing.body, "data": data_to_lines(editing.data),
                 "product_id": editing.product_id or "", "active": editing.active} if editing else
                {"title": "", "body": "", "data": "", "product_id": "", "active": True},
        "products": shop_products(session, choice.shop_id), "q": q,
        "hits": search_knowledge(session, choice.shop_id, q) if q and choice.shop_id else [],
        "facts": load_shop_facts(session, choice.shop_id) if choice.shop_id else None,
        "errors": [], "warnings": [],
    }


@router.get("/knowledge", response_class=HTMLResponse)
def knowledge_page(request: Request, edit: str = "", kind: str = "", q: str = "",
                   user: SignedInUser = Depends(current_user)) -> HTMLResponse:
    with request.app.state.store.session() as session:
        return render(request, "knowledge/page.html", _context(request, session, edit=edit, kind=kind, q=q))


@router.post("/knowledge", response_class=HTMLResponse)
def save(request: Request, kind: str = Form(...), title: str = Form(""), body: str = Form(""), data: str = Form(""),
         product_id: str = Form(""), active: str = Form(""), entry_id: str = Form(""),
         user: SignedInUser = Depends(current_user)) -> Response:
    with request.app.state.store.session() as session:
        choice = choose_shop(request, session)
        if choice.shop_id is None:
            raise HTTPException(status_code=422, detail="no shop yet / 还没有店铺")
        try:
            saved = save_entry(session, shop_id=choice.shop_id, kind=kind, title=title, body=body, data=data,
                               product_id=product_id, active=bool(active), entry_id=entry_id or None, by=user.username)
        except EntryNotFound:
            raise HTTPException(status_code=404, detail="no such entry") from None
        except KnowledgeError as exc:
            session.rollback()
            context = _context(request, session)
            context.update({"errors": [str(exc)], "form_kind": kind,
                            "form": {"title": title, "body": body, "data": data, "product_id": product_id,
                                     "active": bool(active)}})
            return render(request, "knowledge/page.html", context, status_code=422)
        if saved.warnings:
            context = _context(request, session, edit=saved.entry.id)
            context["warnings"] = list(saved.warnings)
            return render(request, "knowledge/page.html", context)
    return RedirectResponse("/knowledge", status_code=303)


@router.post("/knowledge/{entry_id}/delete")
def delete(entry_id: str, request: Request, user: SignedInUser = Depends(current_user)) -> Response:
    with request.app.state.store.session() as session:
        try:
            delete_entry(session, entry_id)
        except EntryNotFound:
            raise HTTPException(status_code=404, detail="no such entry") from None
    return RedirectResponse("/knowledge", status_code=303)
