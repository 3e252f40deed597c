"""Aliyun SMS channel: the documented signature example, and SendSms against a local server that checks the request."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, quote

import httpx
import pytest

from kefu.channels.aliyun_sms import AliyunSmsChannel, is_retryable, percent_encode, rpc_signature, string_to_sign, template_param
from kefu.channels.base import Delivery

SECRET = "test-secret-0001"
KEY_ID = "LTAI-test-key"

# The example in Alibaba Cloud's SMS HTTP-signature document (GET, Format=XML, key testId/testSecret).
DOC_PARAMS = {
    "AccessKeyId": "testId", "Action": "SendSms", "Format": "XML", "OutId": "123", "PhoneNumbers": "15300000001",
    "RegionId": "cn-hangzhou", "SignName": "阿里云短信测试专用", "SignatureMethod": "HMAC-SHA1",
    "SignatureNonce": "45e25e9b-0a6f-4070-8c85-2956eda1b466", "SignatureVersion": "1.0", "TemplateCode": "SMS_71390007",
    "TemplateParam": '{"customer":"test"}', "Timestamp": "2017-07-12T02:42:19Z", "Version": "2017-05-25",
}


def test_the_documented_sendsms_example_signs_to_the_published_value():
    assert rpc_signature(DOC_PARAMS, "testSecret", "GET") == "zJDF+Lrzhj/ThnlvIToysFRq6t4="
    assert string_to_sign(DOC_PARAMS, "GET").startswith("GET&%2F&AccessKeyId%3DtestId%26Action%3DSendSms%26Format%3DXML")
    assert "SignName%3D%25E9%2598%25BF" in string_to_sign(DOC_PARAMS, "GET")


def test_the_documented_rpc_example_signs_to_the_published_value():
    params = {"Format": "XML", "AccessKeyId": "testid", "Action": "DescribeRegions", "SignatureMethod": "HMAC-SHA1",
              "SignatureNonce": "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf", "SignatureVersion": "1.0", "Version": "2014-05-26",
              "Timestamp": "2016-02-23T12:46:24Z"}
    assert rpc_signature(params, "testsecret", "GET") == "OLeaidS1JvxuMvnyHOwuJ+uX5qY="


def test_percent_encoding_follows_the_pop_rules():
    assert percent_encode("a b") == "a%20b"
    assert percent_encode("*") == "%2A"
    assert percent_encode("~-_.") == "~-_."
    assert percent_encode("/=&+:") == "%2F%3D%26%2B%3A"
    assert percent_encode("店") == "%E5%BA%97"


def test_an_existing_signature_parameter_is_not_signed():
    assert rpc_signature({**DOC_PARAMS, "Signature": "old"}, "testSecret", "GET") == "zJDF+Lrzhj/ThnlvIToysFRq6t4="


def test_template_param_is_a_json_string_of_string_values():
    text = template_param({"name": "张三", "amount": 12.5, "count": 3, "empty": None})
    assert isinstance(text, str)
    assert json.loads(text) == {"name": "张三", "amount": "12.5", "count": "3", "empty": ""}


@pytest.mark.parametrize(("code", "retryable"), [
    ("isv.BUSINESS_LIMIT_CONTROL", True), ("isp.SYSTEM_ERROR", True), ("Throttling.User", True),
    ("isv.MOBILE_NUMBER_ILLEGAL", False), ("isv.AMOUNT_NOT_ENOUGH", False), ("isv.SMS_TEMPLATE_ILLEGAL", False),
    ("isv.BLACK_KEY_CONTROL_LIMIT", False), ("SignatureDoesNotMatch", False),
])
def test_codes_are_split_into_retryable_and_permanent(code, retryable):
    assert is_retryable(code) is retryable


# ---- a local SendSms endpoint ----

# The answer for each phone number, in the documented response shape.
ANSWERS = {
    "13800000001": (200, {"Message": "OK", "RequestId": "F655A8D5-B967-440B-8683-DAD6FF8DE990", "BizId": "900619746936498440^0", "Code": "OK"}),
    "13800000002": (200, {"Message": "触发号码天级流控Permits:10", "RequestId": "R2", "Code": "isv.BUSINESS_LIMIT_CONTROL"}),
    "13800000003": (200, {"Message": "账户余额不足", "RequestId": "R3", "Code": "isv.AMOUNT_NOT_ENOUGH"}),
    "13800000004": (500, {"Message": "The request processing has failed due to some unknown error.", "RequestId": "R4",
                          "Code": "isp.SYSTEM_ERROR"}),
    "13800000005": (502, None),
}
REQUIRED = {"AccessKeyId", "Action", "Format", "PhoneNumbers", "RegionId", "SignName", "SignatureMethod", "SignatureNonce",
            "SignatureVersion", "TemplateCode", "Timestamp", "Version", "Signature"}


def _server_signature(params: dict[str, str], secret: str) -> str:
    """Recomputed here on the server side, independently of the channel's code."""
    def enc(v: str) -> str:
        return quote(v, safe="~")
    query = "&".join(f"{enc(k)}={enc(params[k])}" for k in sorted(params) if k != "Signature")
    to_sign = "POST&%2F&" + enc(query)
    return base64.b64encode(hmac.new((secret + "&").encode(), to_sign.encode(), hashlib.sha1).digest()).decode()


class SendSmsHandler(BaseHTTPRequestHandler):
    seen: list[dict[str, str]] = []

    def log_message(self, *args) -> None:  # keep test output quiet
        pass

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        assert self.headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded")
        params = dict(parse_qsl(raw.decode(), keep_blank_values=True))
        SendSmsHandler.seen.append(params)
        problem = None
        if REQUIRED - params.keys():
            problem = ("MissingParameter", f"missing {sorted(REQUIRED - params.keys())}")
        elif params["Signature"] != _server_signature(params, SECRET):
            problem = ("SignatureDoesNotMatch", "Specified signature is not matched with our calculation.")
        elif not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", params["Timestamp"]):
            problem = ("InvalidTimeStamp.Format", "bad Timestamp")
        elif "TemplateParam" in params and not all(isinstance(v, str) for v in json.loads(params["TemplateParam"]).values()):
            problem = ("isv.INVALID_JSON_PARAM", "JSON参数不合法，只接受字符串值")
        if problem:
            self._answer(400, {"Code": problem[0], "Message": problem[1], "RequestId": "BAD"})
            return
        status, body = ANSWERS.get(params["PhoneNumbers"], (200, {"Code": "isv.MOBILE_NUMBER_ILLEGAL", "Message": "非法手机号"}))
        self._answer(status, body)

    def _answer(self, status: int, body: dict | None) -> None:
        data = json.dumps(body, ensure_ascii=False).encode() if body is not None else b"<html>bad gateway</html>"
        self.send_response(status)
        self.send_header("Content-Type", "application/json;charset=utf-8" if body is not None else "text/html")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture()
def endpoint() -> Iterator[str]:
    SendSmsHandler.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), SendSmsHandler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def _channel(endpoint: str, *, secret: str = SECRET, http: httpx.Client | None = None) -> AliyunSmsChannel:
    return AliyunSmsChannel(access_key_id=KEY_ID, access_key_secret=secret, sign_name="测试店铺", endpoint=endpoint,
                            http=http or httpx.Client(timeout=5))


def _delivery(phone: str, **extra) -> Delivery:
    fields = {"message_id": "msg-1", "text": "您的订单已发货", "to_phone": phone, "template_code": "SMS_15305001",
              "template_params": {"name": "王小姐", "order": "200000000000000001"}}
    return Delivery(**{**fields, **extra})


def test_a_send_carries_the_documented_parameters_and_a_signature_the_server_accepts(endpoint):
    result = _channel(endpoint).send(_delivery("+86 138-0000-0001"))
    assert result.ok and result.provider_message_id == "900619746936498440^0"
    params = SendSmsHandler.seen[-1]
    assert params["Action"] == "SendSms" and params["Version"] == "2017-05-25" and params["Format"] == "JSON"
    assert params["PhoneNumbers"] == "13800000001"  # the +86 and the dashes are gone
    assert params["SignName"] == "测试店铺" and params["TemplateCode"] == "SMS_15305001"
    assert params["OutId"] == "msg-1"
    assert json.loads(params["TemplateParam"]) == {"name": "王小姐", "order": "200000000000000001"}


def test_every_send_has_a_fresh_nonce(endpoint):
    channel = _channel(endpoint)
    channel.send(_delivery("13800000001"))
    channel.send(_delivery("13800000001", message_id="msg-2"))
    assert SendSmsHandler.seen[0]["SignatureNonce"] != SendSmsHandler.seen[1]["SignatureNonce"]


def test_flow_control_is_retryable(endpoint):
    result = _channel(endpoint).send(_delivery("13800000002"))
    assert not result.ok and result.retryable and result.error_code == "isv.BUSINESS_LIMIT_CONTROL"


def test_a_low_balance_is_permanent_and_says_what_to_do(endpoint):
    result = _channel(endpoint).send(_delivery("13800000003"))
    assert not result.ok and not result.retryable and result.error_code == "isv.AMOUNT_NOT_ENOUGH"
    assert "top up" in (result.error or "")


def test_a_server_error_body_is_read_and_retryable(endpoint):
    result = _channel(endpoint).send(_delivery("13800000004"))
    assert result.error_code == "isp.SYSTEM_ERROR" and result.retryable


def test_a_gateway_error_without_json_is_retryable(endpoint):
    result = _channel(endpoint).send(_delivery("13800000005"))
    assert not result.ok and result.retryable and result.error_code == "http_error"


def test_a_wrong_secret_is_refused_by_the_server_and_permanent(endpoint):
    result = _channel(endpoint, secret="wrong").send(_delivery("13800000001"))
    assert result.error_code == "SignatureDoesNotMatch" and not result.retryable


@pytest.mark.parametrize("phone", ["12800000001", "1380000000", "+1 415 555 0100", "", None, "138000000011"])
def test_bad_phones_never_reach_the_provider(endpoint, phone):
    result = _channel(endpoint).send(_delivery(phone))
    assert result.error_code == "invalid_recipient" and not result.retryable
    assert SendSmsHandler.seen == []


def test_a_template_is_required(endpoint):
    result = _channel(endpoint).send(_delivery("13800000001", template_code=None))
    assert result.error_code == "missing_template" and SendSmsHandler.seen == []


def test_without_credentials_the_channel_is_off():
    channel = AliyunSmsChannel(access_key_id=None, access_key_secret=None, sign_name=None, http=httpx.Client())
    result = channel.send(_delivery("13800000001"))
    assert result.error_code == "not_configured" and "KEFU_ALIYUN_SMS_ACCESS_KEY_ID" in (result.error or "")


def test_an_unreachable_endpoint_is_a_retryable_network_error():
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = _channel(f"http://127.0.0.1:{port}/").send(_delivery("13800000001"))
    assert result.error_code == "network" and result.retryable


def test_a_read_timeout_is_not_blindly_retried_because_sendsms_is_not_idempotent():
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("no answer", request=request)

    channel = _channel("https://dysmsapi.aliyuncs.com/", http=httpx.Client(transport=httpx.MockTransport(slow)))
    result = channel.send(_delivery("13800000001"))
    assert result.error_code == "timeout" and not result.retryable and "receipt" in (result.error or "")
