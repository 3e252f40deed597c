"""POST /webhooks/shopify: verify Shopify's HMAC signature, then take the delivery in (de-duplicated, recorded)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
from collections.abc import Iterable

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from kefu.services.shopify_orders import receive_delivery

log = logging.getLogger(__name__)

router = APIRouter(tags=["webhooks"])

SIGNATURE_HEADER = "X-Shopify-Hmac-Sha256"


def shopify_signature(secret: str, body: bytes) -> str:
    """base64(HMAC-SHA256(secret, raw body)): what Shopify sends in X-Shopify-Hmac-Sha256."""
    return base64.b64encode(hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()).decode("ascii")


def signature_is_valid(body: bytes, signature: str | None, secrets: Iterable[str]) -> bool:
    """Whether the signature matches the body under any of the secrets (compared in constant time; every secret is tried)."""
    if not signature:
        return False
    given = signature.strip().encode("utf-8")
    matches = [hmac.compare_digest(shopify_signature(secret, body).encode("ascii"), given) for secret in secrets if secret]
    return any(matches)


@router.post("/webhooks/shopify", summary="Shopify 订单推送 / Shopify order webhooks")
async def shopify_webhook(request: Request) -> JSONResponse:
    """Shopify pushes orders, refunds and fulfillments here; answers 401 on a bad signature, 400 on a bad body."""
    body = await request.body()
    headers = request.headers
    settings = getattr(request.app.state, "settings", None)
    secrets = tuple(getattr(settings, "shopify_webhook_secrets", ()) or ())
    topic = headers.get("X-Shopify-Topic")
    shop_domain = headers.get("X-Shopify-Shop-Domain")
    delivery_id = headers.get("X-Shopify-Webhook-Id")
    if not signature_is_valid(body, headers.get(SIGNATURE_HEADER), secrets):
        reason = "no secret configured" if not secrets else ("missing signature" if not headers.get(SIGNATURE_HEADER) else "bad signature")
        log.warning("shopify webhook refused (%s): topic=%s shop=%s webhook_id=%s bytes=%d",
                    reason, topic, shop_domain, delivery_id, len(body))
        return JSONResponse({"status": "unauthorized", "detail": "invalid webhook signature"}, status_code=401)
    outcome = await run_in_threadpool(
        receive_delivery, request.app.state.store, delivery_id=delivery_id, topic=topic, shop_domain=shop_domain, body=body
    )
    if outcome.http_status >= 400:
        log.warning("shopify webhook rejected: topic=%s shop=%s webhook_id=%s: %s", topic, shop_domain, delivery_id, outcome.detail)
    answer = {"status": outcome.status}
    if outcome.detail:
        answer["detail"] = outcome.detail
    return JSONResponse(answer, status_code=outcome.http_status)
