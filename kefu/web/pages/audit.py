"""Audit page (owner only): who revealed which personal field, who logged in, who changed users."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import func, select

from kefu.store.tables import AuditEntry, User
from kefu.web.auth import SignedInUser, require_owner
from kefu.web.shop_choice import choose_shop
from kefu.web.templating import render

router = APIRouter(include_in_schema=False)

PER_PAGE = 100


@router.get("/audit", response_class=HTMLResponse)
def audit_page(request: Request, action: str = "", page: int = 1,
               owner: SignedInUser = Depends(require_owner)) -> HTMLResponse:
    page = max(1, page)
    with request.app.state.store.session() as session:
        conditions = [AuditEntry.action == action] if action else []
        total = session.scalar(select(func.count()).select_from(AuditEntry).where(*conditions)) or 0
        rows = session.execute(
            select(AuditEntry, User.username, User.display_name)
            .outerjoin(User, User.id == AuditEntry.user_id)
            .where(*conditions)
            .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
            .limit(PER_PAGE)
            .offset((page - 1) * PER_PAGE)
        ).all()
        actions = list(session.scalars(select(AuditEntry.action).distinct().order_by(AuditEntry.action)))
        choice = choose_shop(request, session)
    pages = max(1, -(-total // PER_PAGE))
    return render(request, "audit.html", {"rows": rows, "total": total, "page": page, "pages": pages, "action": action,
                                          "actions": actions, "shop_choice": choice,
                                          "params": {"action": action} if action else {}})
