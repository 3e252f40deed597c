"""The workbench application: pages, the REST API under /api, the Shopify webhook, sessions and static files."""

from __future__ import annotations

import asyncio
import importlib
import logging
from contextlib import asynccontextmanager, suppress
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware

from kefu import __version__
from kefu.config import Settings
from kefu.queue.in_process import start_outbox_loop, stop_outbox_loop
from kefu.store.database import Store
from kefu.web import i18n
from kefu.web.api import alerts as alerts_api
from kefu.web.api import cases as cases_api
from kefu.web.api import conversations as conversations_api
from kefu.web.api import couriers as couriers_api
from kefu.web.api import messages as messages_api
from kefu.web.api import reviews as reviews_api
from kefu.web.api import stock as stock_api
from kefu.web.api import returns as returns_api
from kefu.web.api import router as api_router
from kefu.web.auth import (
    SESSION_COOKIE,
    SESSION_MAX_AGE,
    LoginRequired,
    LoginThrottle,
    is_api_request,
    login_redirect_target,
    session_secret,
)
from kefu.web.i18n import language_of, translate
from kefu.web.pages import alerts as alerts_pages
from kefu.web.pages import couriers as couriers_pages
from kefu.web.pages import picklist as picklist_pages
from kefu.web.pages import routers as page_routers
from kefu.web.templating import is_htmx, render
from kefu.web.webhooks.fast_path import PushFirstApp
from kefu.web.webhooks.fast_routes import match_first

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).parent / "static"
WEBHOOK_MODULE = "kefu.web.webhooks.shopify"
CARRIER_WEBHOOK_MODULES = ("kefu.web.webhooks.kuaidi100", "kefu.web.webhooks.kdniao")  # tracking pushes

API_DESCRIPTION = """kefu 客服运营台 REST API.

Authenticate with the workbench session cookie or HTTP Basic (`curl -u agent:password …`).
Personal data (names, phones, addresses, e-mails) is masked unless you pass `?reveal=1`; every reveal is audited.
"""


def shopify_webhook_router():
    """The Shopify webhook router when that module is installed, else None (it is written separately)."""
    try:
        module = importlib.import_module(WEBHOOK_MODULE)
    except ModuleNotFoundError as exc:
        if exc.name in (WEBHOOK_MODULE, "kefu.web.webhooks"):
            return None
        raise
    return getattr(module, "router", None)


def optional_router(module_name: str):
    """The router of a separately written webhook module when it is installed, else None."""
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name in (module_name, "kefu.web.webhooks"):
            return None
        raise
    return getattr(module, "router", None)


def app_from_env() -> FastAPI:
    """The workbench of a server process started by name (`kefu serve --workers N`, uvicorn --factory): the store and
    settings come from the environment (KEFU_DATABASE_URL and the rest), already migrated by the parent."""
    settings = Settings.from_env()
    return create_app(Store(settings.database_url, auto_migrate=False), settings)


def create_app(store: Store, settings: Settings | None = None) -> FastAPI:
    """The workbench for one store. Everything but /login, /static, /lang and the webhook needs a log-in."""
    settings = settings or Settings.from_env()
    app = PushFirstApp(  # carrier pushes skip the middleware below (webhooks/fast_path.py says why)
        title="kefu 客服运营台",
        version=__version__,
        description=API_DESCRIPTION,
        docs_url=None,  # our own /docs page renders the schema without any CDN
        redoc_url=None,
        openapi_url="/openapi.json",
        lifespan=_watch_sweeps,
    )
    app.state.store = store
    app.state.settings = settings
    app.state.login_throttle = LoginThrottle()
    app.add_middleware(
        SessionMiddleware,
        secret_key=session_secret(store, settings),
        session_cookie=SESSION_COOKIE,
        max_age=SESSION_MAX_AGE,
        same_site="lax",
        https_only=settings.cookie_secure,
    )
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    app.include_router(i18n.router)
    app.include_router(picklist_pages.router)  # before /orders/{order_id}, which would take /orders/picklist
    for router in page_routers:
        app.include_router(router)
    app.include_router(alerts_pages.router)
    app.include_router(couriers_pages.router)
    app.include_router(api_router)
    app.include_router(alerts_api.router, prefix="/api")
    app.include_router(cases_api.router, prefix="/api")
    app.include_router(couriers_api.router, prefix="/api")
    app.include_router(conversations_api.router, prefix="/api")
    app.include_router(messages_api.router, prefix="/api")
    app.include_router(reviews_api.router, prefix="/api")
    app.include_router(stock_api.router, prefix="/api")
    app.include_router(returns_api.router, prefix="/api")
    webhooks = shopify_webhook_router()
    if webhooks is not None:
        app.include_router(webhooks)
    for module_name in CARRIER_WEBHOOK_MODULES:
        carrier_webhooks = optional_router(module_name)
        if carrier_webhooks is not None:
            app.include_router(carrier_webhooks)
    # Carrier pushes come by the thousand: match them before walking every page router (fast_routes.py says why).
    match_first(app, [r for r in map(optional_router, CARRIER_WEBHOOK_MODULES) if r is not None])

    app.middleware("http")(_security_headers)
    app.add_exception_handler(LoginRequired, _login_required)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    return app


@asynccontextmanager
async def _watch_sweeps(app: FastAPI):
    """While the server runs, sweep the parcel watch every `watch_sweep_minutes` (0 = off, as in tests)."""
    minutes = app.state.settings.watch_sweep_minutes
    task = asyncio.create_task(_sweep_forever(app.state.store, minutes * 60)) if minutes > 0 else None
    outbox = start_outbox_loop(app.state.store, app.state.settings)  # SQLite: deliver messages in this process
    try:
        yield
    finally:
        await stop_outbox_loop(outbox)
        if task is not None:
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task


async def _sweep_forever(store: Store, seconds: float) -> None:
    """Run the periodic sweeps (kefu.services.periodic) every `seconds`; a failing one is logged, the rest go on."""
    from kefu.services.periodic import run_due
    from kefu.store.leadership import Leadership

    last_run: dict = {}
    sweeper = Leadership(store, "periodic-sweeps")  # with several server processes, one sweeps
    try:
        while True:
            try:
                if await asyncio.to_thread(sweeper.held):
                    await asyncio.to_thread(run_due, store, last_run)
            except Exception:  # the workbench must keep serving whatever the sweeps do
                log.exception("periodic sweeps failed")
            await asyncio.sleep(seconds)
    finally:
        await asyncio.to_thread(sweeper.release)


SECURITY_HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


async def _security_headers(request: Request, call_next) -> Response:
    """No framing by other sites, no MIME sniffing, no full URLs (with customer ids) leaked in Referer."""
    response = await call_next(request)
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


async def _login_required(request: Request, exc: LoginRequired) -> Response:
    if is_api_request(request):
        return JSONResponse(
            {"detail": "login required / 需要登录"}, status_code=401, headers={"WWW-Authenticate": 'Basic realm="kefu"'}
        )
    target = login_redirect_target(exc.next_path)
    if is_htmx(request):
        return Response(status_code=204, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
    """JSON for /api and for anything without a page; a friendly page for 403/404 in the workbench."""
    wants_page = not is_api_request(request) and exc.status_code in (403, 404) and "session" in request.scope
    if not wants_page or is_htmx(request):
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=getattr(exc, "headers", None))
    lang = language_of(request)
    key = "error.forbidden" if exc.status_code == 403 else "error.not_found"
    return render(
        request,
        "error.html",
        {"heading": translate(lang, key), "message": translate(lang, key + "_text"), "shop_choice": None},
        status_code=exc.status_code,
    )

