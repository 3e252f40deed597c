"""One HTTP call for the HTTP channels: network failures become DeliveryResults, never exceptions."""

from __future__ import annotations

import logging
from typing import Any

import httpx

from kefu.channels.base import BAD_RESPONSE, HTTP_ERROR, NETWORK, TIMEOUT, DeliveryResult

log = logging.getLogger(__name__)


def post(http: httpx.Client, url: str, *, channel: str, resend_safe: bool, **kwargs: Any) -> httpx.Response | DeliveryResult:
    """POST and return the response; a failure before the request left is retryable, a timeout after it only if `resend_safe`."""
    try:
        return http.post(url, **kwargs)
    except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
        log.warning("%s: could not reach the provider: %s", channel, type(exc).__name__)
        return DeliveryResult.failed(NETWORK, f"无法连接 / could not connect: {type(exc).__name__}", retryable=True)
    except httpx.TimeoutException as exc:
        log.warning("%s: no answer in time: %s", channel, type(exc).__name__)
        note = "" if resend_safe else " (the provider may have sent it: check its delivery receipts before sending again)"
        return DeliveryResult.failed(TIMEOUT, f"超时 / timed out: {type(exc).__name__}{note}", retryable=resend_safe)
    except httpx.HTTPError as exc:
        log.warning("%s: HTTP failure: %s", channel, type(exc).__name__)
        return DeliveryResult.failed(NETWORK, f"网络错误 / network error: {type(exc).__name__}", retryable=True)


def json_body(response: httpx.Response) -> Any:
    """The response's JSON, or None when it has none."""
    try:
        return response.json()
    except ValueError:
        return None


def unreadable_answer(response: httpx.Response, missing: str) -> DeliveryResult:
    """A provider answer without the part that says what happened: an HTTP error (retryable for 5xx and 429) or a
    body kefu cannot read."""
    retryable = response.status_code >= 500 or response.status_code == 429
    kind = HTTP_ERROR if response.status_code >= 400 else BAD_RESPONSE
    return DeliveryResult.failed(kind, f"HTTP {response.status_code}: no {missing} in the answer", retryable=retryable)
