"""Jinja2 set-up for the workbench: display filters (money, shop-local times, masking) and `render`."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from kefu.domain.privacy import mask_address, mask_email, mask_name, mask_phone
from kefu.web.i18n import HTML_LANG, language_of, translator

TEMPLATE_DIR = Path(__file__).parent / "templates"
DEFAULT_TIMEZONE = "Asia/Shanghai"
CURRENCY_SIGNS = {"CNY": "¥", "USD": "$", "EUR": "€", "GBP": "£", "HKD": "HK$", "JPY": "¥"}

templates = Jinja2Templates(directory=str(TEMPLATE_DIR))


def money(amount: Decimal | int | None, currency: str | None = "CNY") -> str:
    """¥1,234.50 — exact, two decimals, thousands separated; an em dash when there is no amount."""
    if amount is None:
        return "—"
    sign = CURRENCY_SIGNS.get(currency or "CNY", (currency or "") + " ")
    value = Decimal(amount).quantize(Decimal("0.01"))
    prefix = "-" if value < 0 else ""
    return f"{prefix}{sign}{abs(value):,.2f}"


def local_time(moment: datetime | None, tz: str | None = None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """An aware time shown in the shop's timezone (Asia/Shanghai unless the shop says otherwise)."""
    if moment is None:
        return "—"
    return moment.astimezone(ZoneInfo(tz or DEFAULT_TIMEZONE)).strftime(fmt)


def local_date(moment: datetime | date | None, tz: str | None = None) -> str:
    if moment is None:
        return "—"
    if isinstance(moment, datetime):
        return local_time(moment, tz, "%Y-%m-%d")
    return moment.isoformat()


def percent(share: float | Decimal | None, digits: int = 0) -> str:
    if share is None:
        return "—"
    return f"{float(share) * 100:.{digits}f}%"


def number(value: float | Decimal | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, (Decimal, float)):
        return f"{value:,.1f}"
    return f"{value:,}"


MASKS = {"name": mask_name, "phone": mask_phone, "address": mask_address, "email": mask_email}

env = templates.env
env.filters.update(money=money, local_time=local_time, local_date=local_date, percent=percent, number=number)
env.filters.update({f"mask_{kind}": fn for kind, fn in MASKS.items()})


def render(request: Request, template: str, context: dict[str, Any] | None = None, *, status_code: int = 200) -> HTMLResponse:
    """Render a page or fragment with the language, translator and signed-in user filled in."""
    lang = language_of(request)
    full = {
        "lang": lang,
        "html_lang": HTML_LANG[lang],
        "t": translator(lang),
        "user": getattr(request.state, "user", None),
        "path": request.url.path,
        "full_path": request.url.path + (("?" + request.url.query) if request.url.query else ""),
        "tz": DEFAULT_TIMEZONE,
    }
    full.update(context or {})
    return templates.TemplateResponse(request, template, full, status_code=status_code)


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"
