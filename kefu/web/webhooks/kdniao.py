"""POST /webhooks/kdniao: check Kdniao's DataSign over RequestData, then land every parcel of the push (de-duplicated)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from kefu.domain.privacy import redact_phones
from kefu.ingest import kdniao
from kefu.services.tracking import receive_push

log = logging.getLogger(__name__)

router = APIRouter(tags=["webhooks"])

SOURCE = "kdniao"
REFUSED_STATUS = 401  # a push that does not prove it came from Kdniao


def _form_text(value: object) -> str | None:
    return value if isinstance(value, str) else None


@router.post("/webhooks/kdniao", summary="快递鸟 物流推送 / Kdniao tracking pushes")
async def kdniao_push(request: Request) -> JSONResponse:
    """Kdniao posts `RequestData` (JSON), `DataSign` and `RequestType` 101; answers its ack (Success true or false)."""
    body = await request.body()
    form = await request.form()
    data, sign = _form_text(form.get("RequestData")), _form_text(form.get("DataSign"))
    request_type = (_form_text(form.get("RequestType")) or "").strip()
    settings = getattr(request.app.state, "settings", None)
    api_key = getattr(settings, "kdniao_api_key", None)
    ebusiness_id = getattr(settings, "kdniao_ebusiness_id", None) or ""
    now = datetime.now(UTC)
    if not api_key or data is None or not kdniao.verify_sign(data, sign or "", api_key):
        reason = "no API key configured" if not api_key else ("missing RequestData" if data is None else ("missing DataSign" if not sign else "bad DataSign"))
        log.warning("kdniao push refused (%s): request_type=%s bytes=%d", reason, redact_phones(request_type[:20]), len(body))
        return JSONResponse(kdniao.error_ack(ebusiness_id, now, f"push refused: {reason}"), status_code=REFUSED_STATUS)
    if request_type != kdniao.PUSH_REQUEST_TYPE:
        log.warning("kdniao push ignored: RequestType %s is not a tracking push", redact_phones(request_type[:20]))
        return JSONResponse(kdniao.error_ack(ebusiness_id, now, f"RequestType must be {kdniao.PUSH_REQUEST_TYPE}"), status_code=400)
    outcome = await run_in_threadpool(
        receive_push, request.app.state.store, source=SOURCE, body=body, parse=lambda: kdniao.parse_push(data), now=now,
    )
    if not outcome.accepted:
        log.warning("kdniao push rejected: %s", redact_phones(outcome.detail))
        return JSONResponse(kdniao.error_ack(ebusiness_id, now, f"unreadable push: {outcome.detail}"), status_code=400)
    return JSONResponse(kdniao.ack(ebusiness_id, now))
