"""POST /webhooks/kuaidi100: check Kuaidi100's sign over `param`, then land the parcel update (de-duplicated, recorded)."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from kefu.domain.privacy import redact_phones
from kefu.ingest import kuaidi100
from kefu.services.tracking import IncomingPush
from kefu.web.webhooks.forms import form_fields, urlencoded_fields
from kefu.web.webhooks.push_batcher import batcher_for

__all__ = ["router", "take", "urlencoded_fields"]

log = logging.getLogger(__name__)

router = APIRouter(tags=["webhooks"])

SOURCE = "kuaidi100"
PATH = "/webhooks/kuaidi100"
REFUSED_STATUS = 401  # a push that does not prove it came from Kuaidi100 (like the Shopify webhook's bad HMAC)


async def take(state: Any, body: bytes, fields: dict[str, str], query: dict[str, str]) -> tuple[int, dict[str, Any]]:
    """One Kuaidi100 push (form fields `param` and `sign`, `?shop=` scoping the waybill): (HTTP status, the ack to send).

    The ack comes once the push is committed, so Kuaidi100 sends again whatever kefu has not stored.
    """
    param, sign = fields.get("param"), fields.get("sign")
    salt = getattr(getattr(state, "settings", None), "kuaidi100_salt", None)
    scope = (query.get("shop") or "").strip() or None
    if not salt or param is None or not kuaidi100.verify_sign(param, sign or "", salt):
        reason = "no salt configured" if not salt else ("missing param" if param is None else ("missing sign" if not sign else "bad sign"))
        log.warning("kuaidi100 push refused (%s): shop=%s bytes=%d", reason, redact_phones(scope), len(body))
        return REFUSED_STATUS, kuaidi100.error_ack(f"签名校验失败 / push refused: {reason}")
    outcome = await batcher_for(state, SOURCE).submit(IncomingPush(body=body, parse=lambda: [kuaidi100.parse_push(param)], shop_id=scope))
    if not outcome.accepted:
        log.warning("kuaidi100 push rejected: shop=%s: %s", redact_phones(scope), redact_phones(outcome.detail))
        return 400, kuaidi100.error_ack(f"无法读取 / unreadable push: {outcome.detail}")
    return 200, kuaidi100.ACK


@router.post(PATH, summary="快递100 物流推送 / Kuaidi100 tracking pushes")
async def kuaidi100_push(
    request: Request,
    shop: str | None = Query(None, description="店铺 ID，限定运单匹配范围 / shop id that scopes the waybill lookup"),
) -> JSONResponse:
    """Kuaidi100 posts form fields `param` (JSON) and `sign` (md5(param + salt)); answers its ack, or its error ack.

    A urlencoded push is normally answered by kefu.web.webhooks.fast_path before reaching this route.
    """
    body = await request.body()
    status, answer = await take(request.app.state, body, await form_fields(request, body), {"shop": shop or ""})
    return JSONResponse(answer, status_code=status)
