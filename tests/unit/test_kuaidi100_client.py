import json

import httpx
import pytest

from kefu.adapters.kuaidi100_client import (
    Kuaidi100Client,
    SubscribeResult,
    phone_tail,
    read_answer,
    with_shop,
)
from kefu.store.tables import Shipment

CALLBACK = "https://kefu.example.com/webhooks/kuaidi100"


def parcel(carrier="zhongtong", waybill="78901234567890", shop="shop-7"):
    return Shipment(id=f"o:{waybill}", shop_id=shop, order_id="o", carrier_code=carrier, waybill_no=waybill)


class Kuaidi100:
    """A stand-in for poll.kuaidi100.com that checks the documented request shape before answering."""

    def __init__(self, answer=None, status=200, raw=None):
        self.requests = []
        self.answer = answer if answer is not None else {"result": True, "returnCode": "200", "message": "提交成功"}
        self.status = status
        self.raw = raw

    def __call__(self, request: httpx.Request) -> httpx.Response:
        assert request.method == "POST"
        assert str(request.url) == "https://poll.kuaidi100.com/poll"
        assert request.headers["content-type"] == "application/x-www-form-urlencoded"
        form = dict(httpx.QueryParams(request.content.decode("utf-8")))
        assert set(form) == {"schema", "param"} and form["schema"] == "json"
        self.requests.append(json.loads(form["param"]))
        if self.raw is not None:
            return httpx.Response(self.status, content=self.raw)
        return httpx.Response(self.status, json=self.answer)

    def client(self, key="KEY123", salt="s3cret", callback=CALLBACK):
        return Kuaidi100Client(key, salt, callback, httpx.Client(transport=httpx.MockTransport(self)))


def test_subscribe_posts_the_documented_form():
    service = Kuaidi100()
    result = service.client().subscribe(parcel(), to="浙江省杭州市")
    assert result == SubscribeResult("subscribed", "提交成功 / subscribed", "200") and result.ok
    (param,) = service.requests
    assert param == {
        "company": "zhongtong",
        "number": "78901234567890",
        "key": "KEY123",
        "to": "浙江省杭州市",
        "parameters": {"callbackurl": CALLBACK + "?shop=shop-7", "salt": "s3cret", "resultv2": "4"},
    }


def test_sf_gets_only_the_last_four_digits_of_the_phone():
    service = Kuaidi100()
    assert service.client().subscribe(parcel("shunfeng", "SF1400000000001"), phone="13800000001").ok
    assert service.requests[0]["parameters"]["phone"] == "0001"
    masked = service.client().subscribe(parcel("shunfeng", "SF1400000000002"), phone="138****0002")
    assert masked.ok and service.requests[1]["parameters"]["phone"] == "0002"


@pytest.mark.parametrize(
    "code, status, ok, retry",
    [
        ("200", "subscribed", True, False),
        ("501", "already_subscribed", True, False),
        ("600", "bad_key", False, False),
        ("601", "bad_key", False, False),
        ("700", "refused", False, False),
        ("701", "refused", False, False),
        ("702", "refused", False, False),
        ("500", "failed", False, True),
        ("503", "failed", False, True),
        ("999", "failed", False, True),
    ],
)
def test_return_codes(code, status, ok, retry):
    service = Kuaidi100({"result": code == "200", "returnCode": code, "message": "说明"})
    result = service.client().subscribe(parcel())
    assert (result.status, result.return_code, result.ok, result.retry_later) == (status, code, ok, retry)
    assert result.message


def test_a_false_result_with_200_is_not_taken_for_success():
    assert read_answer({"result": False, "returnCode": "200", "message": ""}).status == "failed"


def test_kuaidi100_s_message_is_kept_with_phones_redacted():
    result = read_answer({"result": False, "returnCode": "700", "message": "单号错误，请联系13800000001"})
    assert "138****0001" in result.message and "13800000001" not in result.message


@pytest.mark.parametrize("service", [Kuaidi100(status=502), Kuaidi100(raw=b"<html>busy</html>"), Kuaidi100(raw=b"[1]")])
def test_http_failures_are_worth_a_retry(service):
    result = service.client().subscribe(parcel())
    assert result.status == "failed" and result.retry_later and not result.ok


def test_a_network_error_is_a_failure_not_an_exception():
    def unreachable(request):
        raise httpx.ConnectError("no route", request=request)

    client = Kuaidi100Client("K", "s", CALLBACK, httpx.Client(transport=httpx.MockTransport(unreachable)))
    result = client.subscribe(parcel())
    assert result.status == "failed" and "ConnectError" in result.message


@pytest.mark.parametrize(
    "key, salt, callback, named",
    [(None, "s", CALLBACK, "KEFU_KUAIDI100_KEY"), (" ", "s", CALLBACK, "KEFU_KUAIDI100_KEY"),
     ("K", "", CALLBACK, "KEFU_KUAIDI100_SALT"), ("K", "s", None, "KEFU_KUAIDI100_CALLBACK_URL")],
)
def test_off_until_configured_and_says_why(key, salt, callback, named):
    service = Kuaidi100()
    client = service.client(key=key, salt=salt, callback=callback)
    result = client.subscribe(parcel())
    assert result.status == "off" and named in result.message and named in client.off_reason
    assert service.requests == []  # nothing was sent


@pytest.mark.parametrize(
    "shipment, phone, named",
    [(parcel(carrier=None), None, "company"), (parcel("shunfeng", "SF1"), None, "phone"), (parcel(waybill="Y" * 33), None, "32")],
)
def test_parcels_kuaidi100_would_refuse_are_not_sent(shipment, phone, named):
    service = Kuaidi100()
    result = service.client().subscribe(shipment, phone=phone)
    assert result.status == "invalid" and named in result.message and service.requests == []


@pytest.mark.parametrize(
    "phone, tail",
    [("13800000001", "0001"), ("+86 138-0000-0001", "0001"), ("138****0001", "0001"), ("138****", None), ("", None), (None, None)],
)
def test_phone_tail(phone, tail):
    assert phone_tail(phone) == tail


def test_with_shop():
    assert with_shop(CALLBACK, "7") == CALLBACK + "?shop=7"
    assert with_shop(CALLBACK + "?a=1", "店 1") == CALLBACK + "?a=1&shop=%E5%BA%97+1"
    assert with_shop(CALLBACK, None) == CALLBACK
