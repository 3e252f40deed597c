"""Interface language: Simplified Chinese by default, English on request, the choice remembered in a cookie.

Catalogs are flat JSON files `kefu/i18n/<lang>.json` mapping a key ("nav.customers") to the text; `{name}`
placeholders are filled with `str.format`. A key missing from English falls back to Chinese, then to the key itself.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse

from kefu.web.auth import safe_next

CATALOG_DIR = Path(__file__).resolve().parent.parent / "i18n"
LANGUAGES = ("zh", "en")
DEFAULT_LANGUAGE = "zh"
LANGUAGE_COOKIE = "kefu_lang"
HTML_LANG = {"zh": "zh-CN", "en": "en"}

Translator = Callable[..., str]


@cache
def catalog(lang: str) -> dict[str, str]:
    """The texts of one language, read once."""
    return json.loads((CATALOG_DIR / f"{lang}.json").read_text(encoding="utf-8"))


def translate(lang: str, key: str, **values: object) -> str:
    """The text for `key` in `lang`, with `{placeholders}` filled in."""
    text = catalog(lang).get(key)
    if text is None:
        text = catalog(DEFAULT_LANGUAGE).get(key, key)
    if values:
        try:
            return text.format(**values)
        except (KeyError, IndexError, ValueError):
            return text
    return text


def translator(lang: str) -> Translator:
    """A `t(key, **values)` bound to one language, for templates and handlers."""

    def t(key: str, **values: object) -> str:
        return translate(lang, key, **values)

    return t


def language_of(request: Request) -> str:
    """The language chosen for this request: ?lang=, else the cookie, else Chinese."""
    for candidate in (request.query_params.get("lang"), request.cookies.get(LANGUAGE_COOKIE)):
        if candidate in LANGUAGES:
            return candidate
    return DEFAULT_LANGUAGE


router = APIRouter()


@router.get("/lang/{lang}", include_in_schema=False)
def switch_language(lang: str, request: Request, next: str = "/") -> RedirectResponse:
    """Remember the language in a cookie (one year) and go back to the page the user was on."""
    response = RedirectResponse(safe_next(next), status_code=303)
    if lang in LANGUAGES:
        response.set_cookie(LANGUAGE_COOKIE, lang, max_age=365 * 24 * 3600, samesite="lax", httponly=False)
    return response
