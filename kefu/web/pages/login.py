"""Log-in and log-out pages."""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from kefu.web.auth import LoginThrottle, authenticate, log_in, log_out, safe_next
from kefu.web.i18n import language_of, translate
from kefu.web.reveal import audit
from kefu.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "/") -> HTMLResponse:
    return render(request, "login.html", {"next": safe_next(next), "error": None, "username": ""})


@router.post("/login")
def login_submit(
    request: Request, username: str = Form(""), password: str = Form(""), next: str = Form("/")
):
    """Check the password; on success start a session and go where the user was heading."""
    store = request.app.state.store
    throttle: LoginThrottle = request.app.state.login_throttle
    address = request.client.host if request.client else "?"
    username = username.strip()
    if throttle.blocked(address, username):
        error = translate(language_of(request), "login.throttled")
        return render(request, "login.html", {"next": safe_next(next), "error": error, "username": username},
                      status_code=429)
    with store.session() as session:
        user = authenticate(session, username, password)
        if user is not None:
            log_in(request, user)
            audit(session, user, "login", "user", user.id, user.username)
    if user is None:
        throttle.failed(address, username)
        error = translate(language_of(request), "login.failed")
        return render(request, "login.html", {"next": safe_next(next), "error": error, "username": username},
                      status_code=401)
    throttle.succeeded(address, username)
    return RedirectResponse(safe_next(next), status_code=303)


@router.get("/favicon.ico")
def favicon() -> RedirectResponse:
    return RedirectResponse("/static/favicon.svg", status_code=301)


@router.api_route("/logout", methods=["GET", "POST"])
def logout(request: Request) -> RedirectResponse:
    log_out(request)
    return RedirectResponse("/login", status_code=303)
