"""POST /webhooks/kuaidi100: check Kuaidi100's sign over `param`, then land the parcel update (de-duplicated, recorded)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from kefu.domain.privacy import redact_phones
from kefu.ingest import kuaidi100
from kefu.services.tracking import receive_push

log = logging.getLogger(__name__)

router = APIRouter(tags=["webhooks"])

SOURCE = "kuaidi100"
REFUSED_STATUS = 401  # a push that does not prove it came from Kuaidi100 (like the Shopify webhook's bad HMAC)


def _form_text(value: object) -> str | None:
    return value if isinstance(value, str) else None


@router.post("/webhooks/kuaidi100", summary="快递100 物流推送 / Kuaidi100 tracking pushes")
async def kuaidi100_push(
    request: Request,
    shop: str | None = Query(None, description="店铺 ID，限定运单匹配范围 / shop id that scopes the waybill lookup"),
) -> JSONResponse:
    """Kuaidi100 posts form fields `param` (JSON) and `sign` (md5(param + salt)); answers its ack, or its error ack."""
    body = await request.body()
    form = await request.form()
    param, sign = _form_text(form.get("param")), _form_text(form.get("sign"))
    settings = getattr(request.app.state, "settings", None)
    salt = getattr(settings, "kuaidi100_salt", None)
    scope = (shop or "").strip() or None
    if not salt or param is None or not kuaidi100.verify_sign(param, sign or "", salt):
        reason = "no salt configured" if not salt else ("missing param" if param is None else ("missing sign" if not sign else "bad sign"))
        log.warning("kuaidi100 push refused (%s): shop=%s bytes=%d", reason, redact_phones(scope), len(body))
        return JSONResponse(kuaidi100.error_ack(f"签名校验失败 / push refused: {reason}"), status_code=REFUSED_STATUS)
    outcome = await run_in_threadpool(
        receive_push, request.app.state.store, source=SOURCE, body=body, parse=lambda: [kuaidi100.parse_push(param)],
        now=datetime.now(UTC), shop_id=scope,
    )
    if not outcome.accepted:
        log.warning("kuaidi100 push rejected: shop=%s: %s", redact_phones(scope), redact_phones(outcome.detail))
        return JSONResponse(kuaidi100.error_ack(f"无法读取 / unreadable push: {outcome.detail}"), status_code=400)
    return JSONResponse(kuaidi100.ACK)
