"""Reveal: the clear value of one masked field as an HTMX fragment, with an audit entry for every reveal."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse

from kefu.web.auth import SignedInUser, current_user
from kefu.web.reveal import NotRevealable, reveal_field
from kefu.web.templating import render

router = APIRouter(include_in_schema=False)


@router.post("/reveal/{kind}/{target_id}/{field}", response_class=HTMLResponse)
def reveal(kind: str, target_id: str, field: str, request: Request, user: SignedInUser = Depends(current_user)) -> HTMLResponse:
    """Owners and agents may reveal; each reveal is written to the audit log before the value is sent."""
    with request.app.state.store.session() as session:
        try:
            value = reveal_field(session, user, kind, target_id, field)
        except NotRevealable as exc:
            raise HTTPException(status_code=404, detail=f"nothing to reveal: {exc}") from exc
    response = render(request, "partials/pii_revealed.html", {"value": value, "field": field})
    response.headers["Cache-Control"] = "no-store"
    return response
