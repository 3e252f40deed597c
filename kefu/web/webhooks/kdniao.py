"""POST /webhooks/kdniao: check Kdniao's DataSign over RequestData, then land every parcel of the push (de-duplicated)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from kefu.domain.privacy import redact_phones
from kefu.ingest import kdniao
from kefu.services.tracking import IncomingPush
from kefu.web.webhooks.forms import form_fields
from kefu.web.webhooks.push_batcher import batcher_for

log = logging.getLogger(__name__)

router = APIRouter(tags=["webhooks"])

SOURCE = "kdniao"
PATH = "/webhooks/kdniao"
REFUSED_STATUS = 401  # a push that does not prove it came from Kdniao


async def take(state: Any, body: bytes, fields: dict[str, str], query: dict[str, str]) -> tuple[int, dict[str, Any]]:
    """One Kdniao push (`RequestData`, `DataSign`, `RequestType` 101): (HTTP status, the ack to send, Success true or false).

    The ack comes once the push is committed, in the same batches as Kuaidi100's (kefu.web.webhooks.push_batcher).
    """
    data, sign = fields.get("RequestData"), fields.get("DataSign")
    request_type = (fields.get("RequestType") or "").strip()
    settings = getattr(state, "settings", None)
    api_key = getattr(settings, "kdniao_api_key", None)
    ebusiness_id = getattr(settings, "kdniao_ebusiness_id", None) or ""
    now = datetime.now(UTC)
    if not api_key or data is None or not kdniao.verify_sign(data, sign or "", api_key):
        reason = "no API key configured" if not api_key else ("missing RequestData" if data is None else ("missing DataSign" if not sign else "bad DataSign"))
        log.warning("kdniao push refused (%s): request_type=%s bytes=%d", reason, redact_phones(request_type[:20]), len(body))
        return REFUSED_STATUS, kdniao.error_ack(ebusiness_id, now, f"push refused: {reason}")
    if request_type != kdniao.PUSH_REQUEST_TYPE:
        log.warning("kdniao push ignored: RequestType %s is not a tracking push", redact_phones(request_type[:20]))
        return 400, kdniao.error_ack(ebusiness_id, now, f"RequestType must be {kdniao.PUSH_REQUEST_TYPE}")
    outcome = await batcher_for(state, SOURCE).submit(IncomingPush(body=body, parse=lambda: kdniao.parse_push(data)))
    if not outcome.accepted:
        log.warning("kdniao push rejected: %s", redact_phones(outcome.detail))
        return 400, kdniao.error_ack(ebusiness_id, now, f"unreadable push: {outcome.detail}")
    return 200, kdniao.ack(ebusiness_id, now)


@router.post(PATH, summary="快递鸟 物流推送 / Kdniao tracking pushes")
async def kdniao_push(request: Request) -> JSONResponse:
    """Kdniao posts `RequestData` (JSON), `DataSign` and `RequestType` 101; answers its ack (Success true or false).

    A urlencoded push is normally answered by kefu.web.webhooks.fast_path before reaching this route.
    """
    body = await request.body()
    status, answer = await take(request.app.state, body, await form_fields(request, body), {})
    return JSONResponse(answer, status_code=status)
