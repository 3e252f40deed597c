"""The channel contract: what a message to send looks like (`Delivery`), how a send ended (`DeliveryResult`), `Channel`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Protocol, runtime_checkable


@dataclass(frozen=True)
class Delivery:
    """One message to one recipient; each channel reads the fields it needs (SMS: phone and template, email: address)."""

    message_id: str
    text: str
    to_phone: str | None = None
    to_email: str | None = None
    template_code: str | None = None  # the provider's approved template (Aliyun SMS_…, Tencent's numeric TemplateId)
    template_params: Mapping[str, str] = field(default_factory=dict)  # Tencent: positional, in this order (or "1","2"…)
    sign_name: str | None = None  # the approved SMS signature (签名); the channel's configured one when None
    subject: str | None = None  # email subject
    to_url: str | None = None  # webhook: this address instead of the configured one


@dataclass(frozen=True)
class DeliveryResult:
    """How one send ended: accepted by the provider, or not and whether trying the same send later may work."""

    ok: bool
    provider_message_id: str | None = None
    retryable: bool = False
    error_code: str | None = None
    error: str | None = None

    @classmethod
    def sent(cls, provider_message_id: str | None = None) -> "DeliveryResult":
        return cls(True, provider_message_id=provider_message_id)

    @classmethod
    def failed(cls, code: str, error: str, *, retryable: bool) -> "DeliveryResult":
        return cls(False, retryable=retryable, error_code=code, error=error)


@runtime_checkable
class Channel(Protocol):
    """Something that hands a `Delivery` to a provider and says how it went; never raises for provider or network errors."""

    name: str

    def send(self, delivery: Delivery) -> DeliveryResult: ...


# Error codes the channels use themselves (providers' own codes are passed through as they come).
INVALID_RECIPIENT = "invalid_recipient"  # the phone/email/URL is missing or malformed: permanent
MISSING_TEMPLATE = "missing_template"  # an SMS provider needs an approved template code: permanent
NOT_CONFIGURED = "not_configured"  # credentials missing: permanent until the owner configures the channel
NETWORK = "network"  # the request never reached the provider (connect error/timeout): retryable
TIMEOUT = "timeout"  # sent but no answer in time: the provider may have sent it (SMS APIs are not idempotent)
HTTP_ERROR = "http_error"  # the provider answered with an HTTP error and no readable body
BAD_RESPONSE = "bad_response"  # the provider's answer could not be read
