"""Listings page: import listings (CSV or JSON) and see the self-audit's findings, each with its fix."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from pathlib import Path

from fastapi import APIRouter, Depends, File, Request, UploadFile
from fastapi.responses import HTMLResponse

from kefu.ingest.listings_file import UnreadableListings
from kefu.services.listing_audit import audit_shop, import_listings
from kefu.web.auth import SignedInUser, current_user
from kefu.web.shop_choice import choose_shop
from kefu.web.templating import render

router = APIRouter(include_in_schema=False)


def _page(request: Request, *, result=None, error: str = "") -> HTMLResponse:
    with request.app.state.store.session() as session:
        choice = choose_shop(request, session)
        findings = audit_shop(session, choice.shop_id) if choice.shop_id else []
    return render(request, "growth/listings.html", {"shop_choice": choice, "findings": findings, "result": result,
                                                    "error": error})


@router.get("/listings", response_class=HTMLResponse)
def listings_page(request: Request, user: SignedInUser = Depends(current_user)) -> HTMLResponse:
    return _page(request)


@router.post("/listings/import", response_class=HTMLResponse)
async def upload(request: Request, file: UploadFile = File(...), user: SignedInUser = Depends(current_user)) -> HTMLResponse:
    name = Path(file.filename or "listings.csv").name
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(await file.read())
        with request.app.state.store.session() as session:
            choice = choose_shop(request, session)
            try:
                result = import_listings(session, choice.shop_id, path, now=datetime.now(UTC))
            except UnreadableListings as exc:
                session.rollback()
                return _page(request, error=str(exc))
    return _page(request, result=result)
