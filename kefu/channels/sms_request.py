"""What every SMS provider needs before a request is built: credentials, a valid number, an approved template and a
sign name; each missing piece is a permanent failure that says what to set."""

from __future__ import annotations

from collections.abc import Callable

from kefu.channels.base import INVALID_RECIPIENT, MISSING_TEMPLATE, NOT_CONFIGURED, Delivery, DeliveryResult
from kefu.channels.phones import InvalidPhone


def sms_essentials(delivery: Delivery, *, off_reason: str | None, phone_of: Callable[[str | None], str],
                   default_sign: str | None, provider_zh: str, template_field: str,
                   sign_setting: str) -> tuple[str, str] | DeliveryResult:
    """(phone in the provider's form, sign name), or the failure that stops the send."""
    if off_reason:
        return DeliveryResult.failed(NOT_CONFIGURED, off_reason, retryable=False)
    try:
        phone = phone_of(delivery.to_phone)
    except InvalidPhone as exc:
        return DeliveryResult.failed(INVALID_RECIPIENT, str(exc), retryable=False)
    sign_name = delivery.sign_name or default_sign
    if not delivery.template_code or not sign_name:
        missing = template_field if not delivery.template_code else f"SignName ({sign_setting})"
        return DeliveryResult.failed(MISSING_TEMPLATE, f"{provider_zh}需要审核过的模板和签名 / missing {missing}",
                                     retryable=False)
    return phone, sign_name
