"""Tencent Cloud SMS channel: the published TC3 example, and SendSms 2021-01-11 against a local server that checks it."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from kefu.channels.base import Delivery
from kefu.channels.phones import InvalidPhone, e164_mainland, mainland_mobile
from kefu.channels.tencent_sms import TencentSmsChannel, is_retryable, tc3_sign, template_param_set

SECRET_ID = "AKIDtest0000000000000000000000000000"
SECRET_KEY = "test-secret-key-0001"
APP_ID = "1400006666"
NOW = 1_763_800_000  # 2025-11-22 UTC


def test_the_published_tc3_example_signs_to_the_published_value():
    signed = tc3_sign(
        secret_id="AKIDz8krbsJ5yKBZQpn74WFkmLPx3*******", secret_key="Gu5t9xGARNpq86cd98joQYCN3*******", service="cvm",
        host="cvm.tencentcloudapi.com", timestamp=1551113065,
        payload=b'{"Limit": 1, "Filters": [{"Values": ["\\u672a\\u547d\\u540d"], "Name": "instance-name"}]}',
    )
    assert signed.canonical_request.endswith("35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064")
    assert signed.string_to_sign == ("TC3-HMAC-SHA256\n1551113065\n2019-02-25/cvm/tc3_request\n"
                                     "5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031")
    assert signed.signature == "2230eefd229f582d8b1b891af7107b91597240707d778ab3738f756258d7652c"
    assert signed.authorization == (
        "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3*******/2019-02-25/cvm/tc3_request, "
        "SignedHeaders=content-type;host, Signature=2230eefd229f582d8b1b891af7107b91597240707d778ab3738f756258d7652c")


@pytest.mark.parametrize(("raw", "mainland"), [
    ("13800000001", "13800000001"), ("+8613800000001", "13800000001"), ("008613800000001", "13800000001"),
    ("8613800000001", "13800000001"), ("138 0000 0001", "13800000001"), ("138-0000-0001", "13800000001"),
    ("19912345678", "19912345678"),
])
def test_mainland_mobiles_are_read_with_or_without_the_country_code(raw, mainland):
    assert mainland_mobile(raw) == mainland
    assert e164_mainland(raw) == "+86" + mainland


@pytest.mark.parametrize("raw", ["12800000001", "0571-88888888", "+14155550100", "1380000000a", "", None])
def test_other_numbers_are_refused(raw):
    with pytest.raises(InvalidPhone):
        mainland_mobile(raw)


def test_template_params_are_positional_strings():
    assert template_param_set({"2": "明天", "1": "王小姐", "10": 3}) == ["王小姐", "明天", "3"]
    assert template_param_set({"name": "王小姐", "when": "明天"}) == ["王小姐", "明天"]


@pytest.mark.parametrize(("code", "retryable"), [
    ("LimitExceeded.PhoneNumberDailyLimit", True), ("InternalError.Timeout", True), ("RequestLimitExceeded", True),
    ("InvalidParameterValue.IncorrectPhoneNumber", False), ("FailedOperation.InsufficientBalanceInSmsPackage", False),
    ("FailedOperation.TemplateIncorrectOrUnapproved", False), ("AuthFailure.SignatureFailure", False),
])
def test_codes_are_split_into_retryable_and_permanent(code, retryable):
    assert is_retryable(code) is retryable


# ---- a local SendSms endpoint ----

STATUS_BY_PHONE = {
    "+8613800000001": ("Ok", "send success"),
    "+8613800000002": ("LimitExceeded.PhoneNumberThirtySecondLimit", "the number of sms messages sent ... 30 seconds"),
    "+8613800000003": ("FailedOperation.InsufficientBalanceInSmsPackage", "insufficient balance in SMS package"),
    "+8613800000004": ("InvalidParameterValue.IncorrectPhoneNumber", "incorrect phone number"),
}


def _server_authorization(headers, body: bytes, secret_id: str, secret_key: str) -> str:
    """TC3 recomputed on the server side from what arrived (its own code, not the channel's)."""
    timestamp = int(headers["X-TC-Timestamp"])
    date = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
    canonical = (f"POST\n/\n\ncontent-type:{headers['Content-Type']}\nhost:{headers['Host']}\n\ncontent-type;host\n"
                 + hashlib.sha256(body).hexdigest())
    scope = f"{date}/sms/tc3_request"
    to_sign = f"TC3-HMAC-SHA256\n{timestamp}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"

    def h(key: bytes, msg: str) -> bytes:
        return hmac.new(key, msg.encode(), hashlib.sha256).digest()

    key = h(h(h(("TC3" + secret_key).encode(), date), "sms"), "tc3_request")
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    return f"TC3-HMAC-SHA256 Credential={secret_id}/{scope}, SignedHeaders=content-type;host, Signature={signature}"


class SendSmsHandler(BaseHTTPRequestHandler):
    seen: list[tuple[dict[str, str], dict]] = []

    def log_message(self, *args) -> None:
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        headers = {k: v for k, v in self.headers.items()}
        payload = json.loads(body)
        SendSmsHandler.seen.append((headers, payload))
        if headers.get("Authorization") != _server_authorization(self.headers, body, SECRET_ID, SECRET_KEY):
            return self._answer({"Error": {"Code": "AuthFailure.SignatureFailure", "Message": "The provided credentials could not be validated."}})
        if (headers.get("X-TC-Action"), headers.get("X-TC-Version")) != ("SendSms", "2021-01-11"):
            return self._answer({"Error": {"Code": "InvalidAction", "Message": "bad action or version"}})
        if not all(isinstance(v, str) for v in payload.get("TemplateParamSet", [])):
            return self._answer({"Error": {"Code": "InvalidParameterValue.TemplateParameterFormatError", "Message": "strings only"}})
        statuses = []
        for phone in payload["PhoneNumberSet"]:
            code, message = STATUS_BY_PHONE.get(phone, ("InvalidParameterValue.IncorrectPhoneNumber", "incorrect phone number"))
            statuses.append({"SerialNo": "5000:1045710669157053657849499619" if code == "Ok" else "", "PhoneNumber": phone,
                             "Fee": 1 if code == "Ok" else 0, "SessionContext": payload.get("SessionContext", ""),
                             "Code": code, "Message": message, "IsoCode": "CN"})
        self._answer({"SendStatusSet": statuses})

    def _answer(self, response: dict) -> None:
        data = json.dumps({"Response": {**response, "RequestId": "a0aabda6-cf91-4f3e-a81f-9198114a2279"}}).encode()
        self.send_response(200)  # TencentCloud API answers errors with HTTP 200 and Response.Error
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture()
def endpoint() -> Iterator[str]:
    SendSmsHandler.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), SendSmsHandler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def _channel(endpoint: str, *, secret_key: str = SECRET_KEY) -> TencentSmsChannel:
    return TencentSmsChannel(secret_id=SECRET_ID, secret_key=secret_key, sdk_app_id=APP_ID, sign_name="测试店铺",
                             endpoint=endpoint, http=httpx.Client(timeout=5), clock=lambda: NOW)


def _delivery(phone: str | None, **extra) -> Delivery:
    fields = {"message_id": "msg-7", "text": "您的包裹已到驿站", "to_phone": phone, "template_code": "449739",
              "template_params": {"1": "王小姐", "2": "菜鸟驿站"}}
    return Delivery(**{**fields, **extra})


def test_a_send_is_signed_and_shaped_as_documented(endpoint):
    result = _channel(endpoint).send(_delivery("13800000001"))
    assert result.ok and result.provider_message_id == "5000:1045710669157053657849499619"
    headers, payload = SendSmsHandler.seen[-1]
    assert headers["X-TC-Action"] == "SendSms" and headers["X-TC-Version"] == "2021-01-11"
    assert headers["X-TC-Region"] == "ap-guangzhou" and headers["X-TC-Timestamp"] == str(NOW)
    assert payload == {"PhoneNumberSet": ["+8613800000001"], "SmsSdkAppId": APP_ID, "SignName": "测试店铺",
                       "TemplateId": "449739", "TemplateParamSet": ["王小姐", "菜鸟驿站"], "SessionContext": "msg-7"}


def test_a_delivery_may_name_its_own_sign(endpoint):
    _channel(endpoint).send(_delivery("13800000001", sign_name="另一个店"))
    assert SendSmsHandler.seen[-1][1]["SignName"] == "另一个店"


def test_a_frequency_limit_is_retryable(endpoint):
    result = _channel(endpoint).send(_delivery("13800000002"))
    assert not result.ok and result.retryable and result.error_code == "LimitExceeded.PhoneNumberThirtySecondLimit"


def test_an_empty_package_is_permanent(endpoint):
    result = _channel(endpoint).send(_delivery("13800000003"))
    assert not result.retryable and result.error_code == "FailedOperation.InsufficientBalanceInSmsPackage"


def test_the_providers_own_number_check_is_permanent(endpoint):
    result = _channel(endpoint).send(_delivery("13800000004"))
    assert not result.retryable and result.error_code == "InvalidParameterValue.IncorrectPhoneNumber"


def test_a_wrong_key_comes_back_as_a_request_error(endpoint):
    result = _channel(endpoint, secret_key="wrong").send(_delivery("13800000001"))
    assert result.error_code == "AuthFailure.SignatureFailure" and not result.retryable


def test_a_bad_number_never_reaches_the_provider(endpoint):
    result = _channel(endpoint).send(_delivery("2800000001"))
    assert result.error_code == "invalid_recipient" and SendSmsHandler.seen == []


def test_without_credentials_the_channel_is_off():
    channel = TencentSmsChannel(secret_id=None, secret_key=None, sdk_app_id=None, sign_name=None, http=httpx.Client())
    assert channel.send(_delivery("13800000001")).error_code == "not_configured"
