"""Carrier pushes answered straight from ASGI, ahead of the workbench's middleware, routing and sessions.

A push comes from a machine, by the thousand: sessions, i18n, templates, security headers for pages and FastAPI's
route walk cost more CPU than landing it. A urlencoded POST to a push path is handed to the carrier's `take` here;
everything else (and a multipart push) goes through the full app, where the same routes answer the same way.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from fastapi import FastAPI
from starlette.types import Receive, Scope, Send

from kefu.web.webhooks import kdniao, kuaidi100
from kefu.web.webhooks.forms import is_urlencoded, urlencoded_fields

log = logging.getLogger(__name__)

Take = Callable[[Any, bytes, dict[str, str], dict[str, str]], Awaitable[tuple[int, dict[str, Any]]]]
PUSH_PATHS: dict[str, Take] = {kuaidi100.PATH: kuaidi100.take, kdniao.PATH: kdniao.take}
MAX_BODY = 8 * 1024 * 1024  # a Kdniao push may carry many parcels; anything larger is not a push
JSON_HEADERS = [(b"content-type", b"application/json"), (b"x-content-type-options", b"nosniff")]
TEXT_HEADERS = [(b"content-type", b"text/plain; charset=utf-8"), (b"x-content-type-options", b"nosniff")]


class PushFirstApp(FastAPI):
    """The workbench, except that urlencoded POSTs to a carrier push path skip straight to the carrier's `take`."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            take = PUSH_PATHS.get(scope["path"])
            if take is not None and is_urlencoded(_header(scope, b"content-type")):
                await answer_push(self, take, scope, receive, send)
                return
        await super().__call__(scope, receive, send)


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return ""


async def _body(receive: Receive) -> bytes | None:
    """The whole request body, or None when it is larger than MAX_BODY or the client went away."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


async def answer_push(app: FastAPI, take: Take, scope: Scope, receive: Receive, send: Send) -> None:
    """Read the form, let the carrier's `take` verify and land it, send its JSON ack."""
    body = await _body(receive)
    if body is None:
        await _send(send, 413, TEXT_HEADERS, b"Payload Too Large")
        return
    try:
        status, answer = await take(app.state, body, urlencoded_fields(body), urlencoded_fields(scope.get("query_string", b"")))
    except Exception:  # not acknowledged, so the carrier sends it again; like the full app's plain 500
        log.exception("carrier push to %s failed", scope["path"])
        await _send(send, 500, TEXT_HEADERS, b"Internal Server Error")
        return
    await _send(send, status, JSON_HEADERS, orjson.dumps(answer))  # compact UTF-8, as JSONResponse writes it


async def _send(send: Send, status: int, headers: list[tuple[bytes, bytes]], payload: bytes) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [*headers, (b"content-length", str(len(payload)).encode())]})
    await send({"type": "http.response.body", "body": payload})
