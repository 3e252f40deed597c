"""Users page (owner only): add agents, reset passwords, disable and enable log-ins."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse

from kefu.web.auth import (
    SignedInUser,
    UserError,
    create_user,
    generate_password,
    list_users,
    require_owner,
    set_active,
    set_password,
)
from kefu.web.reveal import audit
from kefu.web.shop_choice import choose_shop
from kefu.web.templating import render

router = APIRouter(include_in_schema=False)


def _page(request: Request, *, error: str | None = None, created: tuple[str, str] | None = None,
          status_code: int = 200) -> HTMLResponse:
    with request.app.state.store.session() as session:
        users = list_users(session)
        choice = choose_shop(request, session)
    return render(request, "users.html", {"users": users, "error": error, "created": created, "shop_choice": choice},
                  status_code=status_code)


@router.get("/users", response_class=HTMLResponse)
def users_page(request: Request, owner: SignedInUser = Depends(require_owner)) -> HTMLResponse:
    return _page(request)


@router.post("/users", response_class=HTMLResponse)
def add_user(
    request: Request,
    username: str = Form(...),
    display_name: str = Form(""),
    role: str = Form("agent"),
    password: str = Form(""),
    owner: SignedInUser = Depends(require_owner),
) -> HTMLResponse:
    """Create a user; a generated password is shown once on the page when none was typed."""
    password = password or generate_password()
    try:
        with request.app.state.store.session() as session:
            user = create_user(session, username, password, role=role, display_name=display_name)
            audit(session, owner, "user_add", "user", user.id, f"{user.username} ({role})")
    except UserError as exc:
        return _page(request, error=str(exc), status_code=400)
    return _page(request, created=(username.strip(), password))


@router.post("/users/{username}/password", response_class=HTMLResponse)
def reset_password(username: str, request: Request, owner: SignedInUser = Depends(require_owner)) -> HTMLResponse:
    """Give the user a new generated password (shown once); their open sessions end."""
    password = generate_password()
    try:
        with request.app.state.store.session() as session:
            user = set_password(session, username, password)
            audit(session, owner, "user_password", "user", user.id, user.username)
    except UserError as exc:
        return _page(request, error=str(exc), status_code=400)
    return _page(request, created=(username, password))


@router.post("/users/{username}/active", response_class=HTMLResponse)
def toggle_active(username: str, request: Request, active: bool = Form(...),
                  owner: SignedInUser = Depends(require_owner)) -> HTMLResponse:
    try:
        with request.app.state.store.session() as session:
            user = set_active(session, username, active)
            audit(session, owner, "user_enable" if active else "user_disable", "user", user.id, user.username)
    except UserError as exc:
        return _page(request, error=str(exc), status_code=400)
    return _page(request)
