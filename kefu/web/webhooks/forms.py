"""Form bodies as carriers post them: urlencoded read directly (fast), anything else through Starlette's form parser."""

from __future__ import annotations

import codecs
from urllib.parse import parse_qsl

from starlette.requests import Request

URLENCODED = "application/x-www-form-urlencoded"


def _unquote(raw: bytes) -> str:
    """One form value, percent- and plus-decoded in C (codecs.escape_decode); ValueError on a malformed % escape."""
    raw = raw.replace(b"+", b" ")
    if b"%" in raw:
        raw = codecs.escape_decode(raw.replace(b"\\", b"\\\\").replace(b"%", b"\\x"))[0]
    return raw.decode("utf-8", errors="replace")


def urlencoded_fields(body: bytes) -> dict[str, str]:
    """A form-urlencoded body as {name: first value}, as parse_qsl reads it but about ten times faster on a long `param`."""
    fields: dict[str, str] = {}
    try:
        pairs = [(_unquote(name), _unquote(value)) for name, _, value in (p.partition(b"=") for p in body.split(b"&") if p)]
    except ValueError:  # a malformed escape: let the standard parser say what it makes of it
        pairs = parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True)
    for name, value in pairs:
        fields.setdefault(name, value)
    return fields


def is_urlencoded(content_type: str) -> bool:
    """Whether a Content-Type header names a urlencoded form (parameters such as charset ignored)."""
    return content_type.split(";")[0].strip().lower() == URLENCODED


async def form_fields(request: Request, body: bytes) -> dict[str, str]:
    """The request's text form fields: a urlencoded body read directly, a multipart one through request.form()."""
    if is_urlencoded(request.headers.get("content-type", "")):
        return urlencoded_fields(body)
    form = await request.form()
    return {name: value for name, value in form.multi_items() if isinstance(value, str)}
