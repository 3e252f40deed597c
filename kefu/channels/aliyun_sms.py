"""Alibaba Cloud SMS (dysmsapi 2017-05-25 SendSms): RPC-style HMAC-SHA1 signature, JSON-string TemplateParam, codes mapped."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from urllib.parse import quote

import httpx

from kefu.channels import http as channel_http
from kefu.channels.base import Delivery, DeliveryResult
from kefu.channels.phones import mainland_mobile
from kefu.channels.sms_request import sms_essentials
from kefu.domain.privacy import mask_phone

log = logging.getLogger(__name__)

NAME = "aliyun_sms"
API_VERSION = "2017-05-25"
OK = "OK"

# Codes worth trying again later unchanged: flow control and Alibaba Cloud's own failures (isp.*, Throttling*, see below).
RETRYABLE_CODES = frozenset({
    "isv.BUSINESS_LIMIT_CONTROL",  # per-number flow control (1/min, 5/h, 10/day for codes; 50/day notices)
    "isv.DAY_LIMIT_CONTROL",  # the account's daily cap
    "isp.SYSTEM_ERROR",
    "isp.GATEWAY_ERROR",
    "ServiceUnavailable",
    "InternalError",
    "SignatureNonceUsed",  # a fresh nonce goes with the next try
    "InvalidTimeStamp.Expired",  # clock skew or a slow queue: the next try is signed anew
})
# What the seller should do about the common permanent codes (shown with the code).
EXPLAINED = {
    "isv.MOBILE_NUMBER_ILLEGAL": "手机号格式错误 / the phone number is not valid",
    "isv.AMOUNT_NOT_ENOUGH": "账户余额不足，充值后重发 / the account balance is too low: top up, then resend",
    "isv.SMS_SIGNATURE_ILLEGAL": "签名不可用（未审核或不存在）/ the sign name is not approved",
    "isv.SMS_TEMPLATE_ILLEGAL": "模板不可用（未审核或不存在）/ the template is not approved",
    "isv.TEMPLATE_MISSING_PARAMETERS": "模板变量缺少 / a template variable is missing",
    "isv.INVALID_JSON_PARAM": "模板变量不是字符串 JSON / TemplateParam must be a JSON object of strings",
    "isv.BLACK_KEY_CONTROL_LIMIT": "内容含禁止词 / the text has a blocked keyword",
    "isv.PARAM_LENGTH_LIMIT": "变量超长 / a template variable is too long",
    "isv.BUSINESS_LIMIT_CONTROL": "触发号码流控，稍后重试 / per-number flow control: try later",
    "isv.DAY_LIMIT_CONTROL": "触发日发送上限 / the daily limit is reached",
    "isv.OUT_OF_SERVICE": "业务停机 / the account is suspended",
    "InvalidAccessKeyId.NotFound": "AccessKey 不存在 / check KEFU_ALIYUN_SMS_ACCESS_KEY_ID",
    "SignatureDoesNotMatch": "签名不匹配 / check KEFU_ALIYUN_SMS_ACCESS_KEY_SECRET",
}


def is_retryable(code: str) -> bool:
    """Whether a SendSms Code is worth trying again later without changing the message."""
    return code in RETRYABLE_CODES or code.startswith(("isp.", "Throttling"))


def percent_encode(value: str) -> str:
    """Alibaba Cloud POP percent-encoding: RFC 3986 unreserved characters kept, space as %20, * as %2A, ~ kept."""
    return quote(value, safe="~")


def string_to_sign(params: Mapping[str, str], method: str = "POST") -> str:
    """METHOD&%2F&percent-encoded canonical query (parameters sorted by name, Signature left out)."""
    canonical = "&".join(f"{percent_encode(k)}={percent_encode(v)}" for k, v in sorted(params.items()) if k != "Signature")
    return f"{method}&{percent_encode('/')}&{percent_encode(canonical)}"


def rpc_signature(params: Mapping[str, str], access_key_secret: str, method: str = "POST") -> str:
    """Base64 of HMAC-SHA1 over the string to sign, keyed with the AccessKey secret and '&'."""
    digest = hmac.new(f"{access_key_secret}&".encode(), string_to_sign(params, method).encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def template_param(values: Mapping[str, object]) -> str:
    """TemplateParam as Alibaba Cloud wants it: a JSON string whose values are all strings."""
    return json.dumps({str(k): "" if v is None else str(v) for k, v in values.items()}, ensure_ascii=False, separators=(",", ":"))


def send_sms_params(
    *, access_key_id: str, phone: str, sign_name: str, template_code: str, template_params: Mapping[str, object],
    out_id: str | None, region: str, nonce: str, timestamp: str,
) -> dict[str, str]:
    """Every SendSms parameter except the signature (common RPC parameters included)."""
    params = {
        "AccessKeyId": access_key_id,
        "Action": "SendSms",
        "Format": "JSON",
        "PhoneNumbers": phone,
        "RegionId": region,
        "SignName": sign_name,
        "SignatureMethod": "HMAC-SHA1",
        "SignatureNonce": nonce,
        "SignatureVersion": "1.0",
        "TemplateCode": template_code,
        "Timestamp": timestamp,
        "Version": API_VERSION,
    }
    if template_params:
        params["TemplateParam"] = template_param(template_params)
    if out_id:
        params["OutId"] = out_id[:64]
    return params


def _utc_timestamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class AliyunSmsChannel:
    """Sends one templated SMS per delivery through SendSms (form POST); off until an AccessKey pair is configured."""

    name = NAME

    def __init__(
        self, *, access_key_id: str | None, access_key_secret: str | None, sign_name: str | None, http: httpx.Client,
        endpoint: str = "https://dysmsapi.aliyuncs.com/", region: str = "cn-hangzhou",
        nonce: Callable[[], str] = lambda: uuid.uuid4().hex, timestamp: Callable[[], str] = _utc_timestamp,
    ):
        self.access_key_id = (access_key_id or "").strip()
        self.access_key_secret = (access_key_secret or "").strip()
        self.sign_name = (sign_name or "").strip() or None
        self.http = http
        self.endpoint = endpoint
        self.region = region
        self._nonce = nonce
        self._timestamp = timestamp

    @property
    def off_reason(self) -> str | None:
        if not self.access_key_id or not self.access_key_secret:
            return ("KEFU_ALIYUN_SMS_ACCESS_KEY_ID / KEFU_ALIYUN_SMS_ACCESS_KEY_SECRET 未设置 / "
                    "the Aliyun SMS AccessKey is not configured")
        return None

    def send(self, delivery: Delivery) -> DeliveryResult:
        ready = sms_essentials(delivery, off_reason=self.off_reason, phone_of=mainland_mobile, default_sign=self.sign_name,
                               provider_zh="阿里云短信", template_field="TemplateCode",
                               sign_setting="KEFU_ALIYUN_SMS_SIGN_NAME")
        if isinstance(ready, DeliveryResult):
            return ready
        phone, sign_name = ready
        params = send_sms_params(
            access_key_id=self.access_key_id, phone=phone, sign_name=sign_name, template_code=delivery.template_code,
            template_params=delivery.template_params, out_id=delivery.message_id, region=self.region,
            nonce=self._nonce(), timestamp=self._timestamp(),
        )
        params["Signature"] = rpc_signature(params, self.access_key_secret, "POST")
        response = channel_http.post(self.http, self.endpoint, channel=NAME, resend_safe=False, data=params)
        if isinstance(response, DeliveryResult):
            return response
        return self._result(response, phone)

    def _result(self, response: httpx.Response, phone: str) -> DeliveryResult:
        body = channel_http.json_body(response)
        code = str(body.get("Code") or "") if isinstance(body, dict) else ""
        if not code:
            return channel_http.unreadable_answer(response, "SendSms Code")
        if code == OK:
            return DeliveryResult.sent(str(body.get("BizId") or "") or None)
        message = str(body.get("Message") or "")
        explained = EXPLAINED.get(code)
        log.warning("aliyun sms refused for %s: %s", mask_phone(phone), code)
        return DeliveryResult.failed(code, f"{explained} ({message})" if explained else message or code, retryable=is_retryable(code))
