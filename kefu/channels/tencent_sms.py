"""Tencent Cloud SMS (SendSms, 2021-01-11): TC3-HMAC-SHA256 signed JSON POST, +86 numbers, per-number SendStatusSet codes."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

import httpx

from kefu.channels import http as channel_http
from kefu.channels.base import BAD_RESPONSE, Delivery, DeliveryResult
from kefu.channels.phones import e164_mainland
from kefu.channels.sms_request import sms_essentials
from kefu.domain.privacy import mask_phone

log = logging.getLogger(__name__)

NAME = "tencent_sms"
SERVICE = "sms"
ACTION = "SendSms"
API_VERSION = "2021-01-11"
ALGORITHM = "TC3-HMAC-SHA256"
CONTENT_TYPE = "application/json; charset=utf-8"
OK = "Ok"

# Codes (per number, or for the whole request) worth trying again later unchanged.
RETRYABLE_PREFIXES = ("LimitExceeded.", "InternalError", "RequestLimitExceeded", "ResourceUnavailable")
RETRYABLE_CODES = frozenset({"AuthFailure.SignatureExpire", "FailedOperation.FailResolvePacket"})
EXPLAINED = {
    "InvalidParameterValue.IncorrectPhoneNumber": "手机号格式错误 / the phone number is not valid",
    "FailedOperation.InsufficientBalanceInSmsPackage": "套餐包余量不足，充值后重发 / the SMS package is used up: top up, then resend",
    "FailedOperation.PhoneNumberInBlacklist": "号码在免打扰名单 / the number is on the do-not-disturb list",
    "FailedOperation.SignatureIncorrectOrUnapproved": "签名未审核或不存在 / the sign name is not approved",
    "FailedOperation.TemplateIncorrectOrUnapproved": "模板未审核或不存在 / the template is not approved",
    "FailedOperation.ContainSensitiveWord": "内容含敏感词 / the text has a sensitive word",
    "LimitExceeded.PhoneNumberThirtySecondLimit": "30 秒内发送过 / sent to this number within 30 s: try later",
    "LimitExceeded.PhoneNumberOneHourLimit": "触发号码小时上限 / hourly per-number limit: try later",
    "LimitExceeded.PhoneNumberDailyLimit": "触发号码日上限 / daily per-number limit: try tomorrow",
    "LimitExceeded.PhoneNumberSameContentDailyLimit": "同内容日上限 / same text daily limit: try tomorrow",
    "AuthFailure.SecretIdNotFound": "SecretId 不存在 / check KEFU_TENCENT_SMS_SECRET_ID",
    "AuthFailure.SignatureFailure": "签名错误 / check KEFU_TENCENT_SMS_SECRET_KEY",
    "UnauthorizedOperation.SmsSdkAppIdVerifyFail": "SmsSdkAppId 校验失败 / check KEFU_TENCENT_SMS_SDK_APP_ID",
}


def is_retryable(code: str) -> bool:
    """Whether a Tencent Cloud error code is worth trying again later without changing the message."""
    return code in RETRYABLE_CODES or code.startswith(RETRYABLE_PREFIXES)


def _sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode(), hashlib.sha256).digest()


@dataclass(frozen=True)
class Tc3Signature:
    """The parts of one TC3 signature, kept so tests can compare each step with the published example."""

    canonical_request: str
    string_to_sign: str
    signature: str
    authorization: str
    date: str


def tc3_sign(
    *, secret_id: str, secret_key: str, service: str, host: str, payload: bytes, timestamp: int,
    content_type: str = CONTENT_TYPE, method: str = "POST", canonical_uri: str = "/", canonical_query: str = "",
) -> Tc3Signature:
    """TC3-HMAC-SHA256 over content-type and host: canonical request → string to sign → date/service/tc3_request key chain."""
    date = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
    signed_headers = "content-type;host"
    canonical_headers = f"content-type:{content_type.lower()}\nhost:{host.lower()}\n"
    canonical_request = "\n".join(
        [method, canonical_uri, canonical_query, canonical_headers, signed_headers, _sha256_hex(payload)]
    )
    scope = f"{date}/{service}/tc3_request"
    to_sign = "\n".join([ALGORITHM, str(timestamp), scope, _sha256_hex(canonical_request.encode())])
    key = _hmac(_hmac(_hmac(f"TC3{secret_key}".encode(), date), service), "tc3_request")
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    authorization = f"{ALGORITHM} Credential={secret_id}/{scope}, SignedHeaders={signed_headers}, Signature={signature}"
    return Tc3Signature(canonical_request, to_sign, signature, authorization, date)


def template_param_set(values: Mapping[str, object]) -> list[str]:
    """TemplateParamSet is positional: keys "1", "2"… in number order, otherwise the mapping's own order; all strings."""
    keys = list(values)
    if keys and all(str(k).isdigit() for k in keys):
        keys.sort(key=lambda k: int(k))
    return ["" if values[k] is None else str(values[k]) for k in keys]


def send_sms_payload(*, phone: str, sdk_app_id: str, sign_name: str, template_id: str,
                     template_params: Mapping[str, object], session_context: str | None) -> dict[str, object]:
    """The SendSms JSON body for one E.164 number."""
    payload: dict[str, object] = {
        "PhoneNumberSet": [phone],
        "SmsSdkAppId": sdk_app_id,
        "SignName": sign_name,
        "TemplateId": template_id,
        "TemplateParamSet": template_param_set(template_params),
    }
    if session_context:
        payload["SessionContext"] = session_context[:200]
    return payload


class TencentSmsChannel:
    """Sends one templated SMS per delivery through SendSms; off until SecretId, SecretKey and SmsSdkAppId are set."""

    name = NAME

    def __init__(
        self, *, secret_id: str | None, secret_key: str | None, sdk_app_id: str | None, sign_name: str | None,
        http: httpx.Client, endpoint: str = "https://sms.tencentcloudapi.com/", region: str = "ap-guangzhou",
        clock: Callable[[], float] = time.time,
    ):
        self.secret_id = (secret_id or "").strip()
        self.secret_key = (secret_key or "").strip()
        self.sdk_app_id = (sdk_app_id or "").strip()
        self.sign_name = (sign_name or "").strip() or None
        self.http = http
        self.endpoint = endpoint
        self.host = urlsplit(endpoint).netloc
        self.region = region
        self._clock = clock

    @property
    def off_reason(self) -> str | None:
        if not self.secret_id or not self.secret_key or not self.sdk_app_id:
            return ("KEFU_TENCENT_SMS_SECRET_ID / KEFU_TENCENT_SMS_SECRET_KEY / KEFU_TENCENT_SMS_SDK_APP_ID 未设置 / "
                    "Tencent Cloud SMS is not configured")
        return None

    def send(self, delivery: Delivery) -> DeliveryResult:
        ready = sms_essentials(delivery, off_reason=self.off_reason, phone_of=e164_mainland, default_sign=self.sign_name,
                               provider_zh="腾讯云短信", template_field="TemplateId",
                               sign_setting="KEFU_TENCENT_SMS_SIGN_NAME")
        if isinstance(ready, DeliveryResult):
            return ready
        phone, sign_name = ready
        payload = json.dumps(
            send_sms_payload(phone=phone, sdk_app_id=self.sdk_app_id, sign_name=sign_name, template_id=delivery.template_code,
                             template_params=delivery.template_params, session_context=delivery.message_id),
            ensure_ascii=False, separators=(",", ":"),
        ).encode()
        timestamp = int(self._clock())
        signed = tc3_sign(secret_id=self.secret_id, secret_key=self.secret_key, service=SERVICE, host=self.host,
                          payload=payload, timestamp=timestamp)
        headers = {
            "Authorization": signed.authorization,
            "Content-Type": CONTENT_TYPE,
            "Host": self.host,
            "X-TC-Action": ACTION,
            "X-TC-Timestamp": str(timestamp),
            "X-TC-Version": API_VERSION,
            "X-TC-Region": self.region,
        }
        response = channel_http.post(self.http, self.endpoint, channel=NAME, resend_safe=False, content=payload, headers=headers)
        if isinstance(response, DeliveryResult):
            return response
        return self._result(response, phone)

    def _result(self, response: httpx.Response, phone: str) -> DeliveryResult:
        body = channel_http.json_body(response)
        answer = body.get("Response") if isinstance(body, dict) else None
        if not isinstance(answer, dict):
            return channel_http.unreadable_answer(response, "Response object")
        error = answer.get("Error")
        if isinstance(error, dict):
            return self._failed(str(error.get("Code") or "UnknownError"), str(error.get("Message") or ""), phone)
        statuses = answer.get("SendStatusSet")
        status = next((s for s in statuses or () if isinstance(s, dict) and s.get("PhoneNumber") == phone), None)
        if status is None and isinstance(statuses, list) and len(statuses) == 1 and isinstance(statuses[0], dict):
            status = statuses[0]
        if status is None:
            return DeliveryResult.failed(BAD_RESPONSE, "SendStatusSet has no entry for the number", retryable=False)
        code = str(status.get("Code") or "")
        if code == OK:
            return DeliveryResult.sent(str(status.get("SerialNo") or "") or None)
        return self._failed(code or "UnknownError", str(status.get("Message") or ""), phone)

    def _failed(self, code: str, message: str, phone: str) -> DeliveryResult:
        log.warning("tencent sms refused for %s: %s", mask_phone(phone), code)
        explained = EXPLAINED.get(code)
        return DeliveryResult.failed(code, f"{explained} ({message})" if explained else message or code, retryable=is_retryable(code))
