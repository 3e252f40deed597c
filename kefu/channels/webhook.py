"""A generic JSON webhook: POST each message as JSON with an HMAC-SHA256 signature header, for a seller's own gateway."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import httpx

from kefu.channels import http as channel_http
from kefu.channels.base import HTTP_ERROR, INVALID_RECIPIENT, NOT_CONFIGURED, Delivery, DeliveryResult

NAME = "webhook"
SIGNATURE_HEADER = "X-Kefu-Signature"  # "sha256=" + hex HMAC-SHA256(secret, f"{timestamp}.{body}")
TIMESTAMP_HEADER = "X-Kefu-Timestamp"  # Unix seconds; a receiver should refuse old ones (replays)
MESSAGE_ID_HEADER = "X-Kefu-Message-Id"  # the same on every retry: the receiver's idempotency key
EVENT = "message.send"


def webhook_signature(secret: str, timestamp: str, body: bytes) -> str:
    """The signature header value: sha256= and the hex HMAC-SHA256 of "<timestamp>.<raw body>"."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify_signature(secret: str, timestamp: str, body: bytes, header: str) -> bool:
    """What a receiver does: recompute and compare in constant time."""
    return hmac.compare_digest(webhook_signature(secret, timestamp, body), header or "")


def payload(delivery: Delivery) -> dict[str, Any]:
    """The JSON a receiver gets for one message."""
    return {
        "event": EVENT,
        "message_id": delivery.message_id,
        "text": delivery.text,
        "to_phone": delivery.to_phone,
        "to_email": delivery.to_email,
        "subject": delivery.subject,
        "template_code": delivery.template_code,
        "template_params": {str(k): "" if v is None else str(v) for k, v in delivery.template_params.items()},
        "sign_name": delivery.sign_name,
    }


class WebhookChannel:
    """POSTs every delivery to the configured (or the delivery's own) URL; 2xx is sent, 408/429/5xx retryable."""

    name = NAME

    def __init__(self, *, url: str | None, secret: str | None, http: httpx.Client, clock: Callable[[], float] = time.time):
        self.url = (url or "").strip() or None
        self.secret = (secret or "").strip() or None
        self.http = http
        self._clock = clock

    @property
    def off_reason(self) -> str | None:
        if not self.secret:
            return "KEFU_WEBHOOK_CHANNEL_SECRET 未设置 / the webhook channel has no signing secret"
        return None

    def send(self, delivery: Delivery) -> DeliveryResult:
        off = self.off_reason
        if off:
            return DeliveryResult.failed(NOT_CONFIGURED, off, retryable=False)
        url = delivery.to_url or self.url
        if not url or urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).netloc:
            return DeliveryResult.failed(INVALID_RECIPIENT, "没有有效的 webhook 地址 / no valid http(s) webhook URL "
                                         "(KEFU_WEBHOOK_CHANNEL_URL)", retryable=False)
        body = json.dumps(payload(delivery), ensure_ascii=False, separators=(",", ":")).encode()
        timestamp = str(int(self._clock()))
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            SIGNATURE_HEADER: webhook_signature(self.secret or "", timestamp, body),
            TIMESTAMP_HEADER: timestamp,
            MESSAGE_ID_HEADER: delivery.message_id,
        }
        response = channel_http.post(self.http, url, channel=NAME, resend_safe=True, content=body, headers=headers)
        if isinstance(response, DeliveryResult):
            return response
        if 200 <= response.status_code < 300:
            answer = channel_http.json_body(response)
            provider_id = answer.get("id") if isinstance(answer, dict) else None
            return DeliveryResult.sent(str(provider_id) if provider_id else None)
        retryable = response.status_code in (408, 425, 429) or response.status_code >= 500
        return DeliveryResult.failed(f"http_{response.status_code}" if response.status_code >= 400 else HTTP_ERROR,
                                     f"HTTP {response.status_code}: {response.text[:200]}", retryable=retryable)
