import copy
import json
from datetime import UTC, datetime

import pytest

from kefu.domain.tracking import ParcelState, SubscriptionStatus, merge_events
from kefu.ingest.kuaidi100 import (
    ACK,
    PushRejected,
    error_ack,
    expected_sign,
    parse_push,
    state_for,
    subscribe_request,
    verify_sign,
)

S = ParcelState

# The documented sign vector: the raw `param` exactly as sent, byte for byte.
VECTOR_PARAM = (
    '{"status":"shutdown","billstatus":"check","message":"","lastResult":{"message":"ok","state":"3","status":"200",'
    '"condition":"F00","ischeck":"1","com":"yuantong","nu":"YT0000000000001","data":[{"context":"已签收，签收人凭取货码签收。",'
    '"time":"2025-03-12 17:32:23","ftime":"2025-03-12 17:32:23"}]}}'
)
VECTOR_SALT = "test-salt-0123456789abcdef012345"
VECTOR_SIGN = "E5D25030D8487E7F8E9A5E3CA6992D87"


def fixture_text(fixtures_dir, name):
    return (fixtures_dir / "tracking" / name).read_text(encoding="utf-8")


@pytest.fixture
def sample(fixtures_dir):
    return json.loads(fixture_text(fixtures_dir, "kuaidi100_out_for_delivery.json"))


# --- sign ---------------------------------------------------------------------------------------------------------


def test_documented_sign_vector():
    assert expected_sign(VECTOR_PARAM, VECTOR_SALT) == VECTOR_SIGN
    assert verify_sign(VECTOR_PARAM, VECTOR_SIGN, VECTOR_SALT)


def test_sign_hex_case_and_surrounding_space_do_not_matter():
    assert verify_sign(VECTOR_PARAM, VECTOR_SIGN.lower(), VECTOR_SALT)
    assert verify_sign(VECTOR_PARAM, f" {VECTOR_SIGN}\n", VECTOR_SALT)


@pytest.mark.parametrize(
    "param, sign, salt",
    [
        (VECTOR_PARAM, VECTOR_SIGN, "another-salt"),
        (VECTOR_PARAM.replace("YT0000000000001", "YT0000000000009"), VECTOR_SIGN, VECTOR_SALT),
        (json.dumps(json.loads(VECTOR_PARAM), ensure_ascii=False), VECTOR_SIGN, VECTOR_SALT),  # re-serialised
        (VECTOR_PARAM, "", VECTOR_SALT),
        (VECTOR_PARAM, VECTOR_SIGN[:-1], VECTOR_SALT),
        (VECTOR_PARAM, "签名" + VECTOR_SIGN[2:], VECTOR_SALT),  # not even ASCII: refused, not an exception
    ],
)
def test_wrong_signs_are_refused(param, sign, salt):
    assert not verify_sign(param, sign, salt)


def test_an_empty_salt_still_signs():
    assert verify_sign(VECTOR_PARAM, expected_sign(VECTOR_PARAM, ""), "")
    assert expected_sign(VECTOR_PARAM, "") != VECTOR_SIGN


# --- parsing ------------------------------------------------------------------------------------------------------


def test_vector_param_is_a_signed_parcel():
    update = parse_push(VECTOR_PARAM)
    assert (update.carrier_code, update.waybill_no) == ("yuantong", "YT0000000000001")
    assert update.state is S.SIGNED and update.raw_state == "3" and update.is_terminal
    assert update.subscription is SubscriptionStatus.SHUTDOWN and update.message is None
    (only,) = update.events
    assert only.at == datetime(2025, 3, 12, 9, 32, 23, tzinfo=UTC)
    assert only.description == "已签收，签收人凭取货码签收。" and only.state is S.UNKNOWN


def test_composed_sample_is_out_for_delivery_with_phones_redacted(fixtures_dir):
    update = parse_push(fixture_text(fixtures_dir, "kuaidi100_out_for_delivery.json"))
    assert (update.carrier_code, update.waybill_no) == ("zhongtong", "78901234567890")
    assert update.state is S.OUT_FOR_DELIVERY and update.raw_state == "5"
    assert not update.is_terminal and not update.carrier_corrected and not update.carrier_changed
    assert update.subscription is SubscriptionStatus.POLLING
    assert update.old_carrier_code is None and update.new_carrier_code is None

    assert len(update.events) == 5
    assert [e.at for e in update.events] == sorted((e.at for e in update.events), reverse=True)
    newest = update.latest_event
    assert newest.at == datetime(2025, 3, 12, 0, 15, 40, tzinfo=UTC)
    assert newest.state is S.OUT_FOR_DELIVERY and newest.raw_state == "派件"
    assert newest.location == "浙江,杭州市,西湖区" and newest.area_code == "CN330106000000"
    assert newest.description == "【杭州市】浙江杭州西湖区文三路网点的快递员[王师傅,139****0000]正在为您派件"
    assert [e.state for e in update.events] == [S.OUT_FOR_DELIVERY, *[S.IN_TRANSIT] * 3, S.COLLECTED]
    collected = update.events[-1]
    assert "020-00000000" not in collected.description and "已揽收" in collected.description
    assert "13900000000" not in repr(update)


def test_advanced_codes_on_every_line(fixtures_dir):
    update = parse_push(fixture_text(fixtures_dir, "kuaidi100_locker_resultv2.json"))
    assert update.state is S.AT_PICKUP_POINT and update.raw_state == "501" and not update.is_terminal
    assert [(e.raw_state, e.state) for e in update.events] == [
        ("501", S.AT_PICKUP_POINT),
        ("1001", S.IN_TRANSIT),
        ("1002", S.IN_TRANSIT),
        ("103", S.COLLECTED),
    ]
    assert "13800000012" not in update.events[0].description


def test_abort_keeps_the_corrected_carrier(fixtures_dir):
    update = parse_push(fixture_text(fixtures_dir, "kuaidi100_abort_corrected.json"))
    assert update.subscription is SubscriptionStatus.ABORT and update.message == "3天查询无记录"
    assert update.carrier_code == "yuantong" and update.waybill_no == "78901234567891"
    assert (update.old_carrier_code, update.new_carrier_code) == ("yuantong", "zhongtong")
    assert update.carrier_corrected and update.carrier_changed and update.needs_resubscribe
    assert update.events == () and update.state is S.UNKNOWN and not update.is_terminal


def test_a_full_re_push_adds_no_events(sample):
    first = parse_push(json.dumps(sample, ensure_ascii=False))
    sample["status"] = "updateall"
    again = parse_push(json.dumps(sample, ensure_ascii=False))
    assert again.subscription is SubscriptionStatus.UPDATEALL
    assert merge_events(first.events, again.events) == []
    later = copy.deepcopy(sample)
    later["lastResult"]["data"].insert(0, {"context": "【杭州市】已签收", "ftime": "2025-03-12 12:00:00", "status": "签收"})
    assert [e.description for e in merge_events(first.events, parse_push(json.dumps(later)).events)] == ["【杭州市】已签收"]


def test_state_falls_back_to_the_newest_line_then_to_ischeck(sample):
    sample["lastResult"]["state"] = ""
    assert parse_push(json.dumps(sample)).state is S.OUT_FOR_DELIVERY
    sample["lastResult"]["data"] = []
    assert parse_push(json.dumps(sample)).state is S.UNKNOWN
    sample["lastResult"]["ischeck"] = "1"
    signed = parse_push(json.dumps(sample))
    assert signed.state is S.SIGNED and signed.is_terminal


@pytest.mark.parametrize(
    "state, expected",
    [("5", S.SIGNED), ("2", S.SIGNED), ("6", S.RETURN_SIGNED), ("4", S.RETURN_SIGNED), ("14", S.REJECTED)],
)
def test_ischeck_means_signed_for(sample, state, expected):
    sample["lastResult"].update(state=state, ischeck="1")
    update = parse_push(json.dumps(sample))
    assert update.state is expected and update.is_terminal and update.raw_state == state


def test_shutdown_is_terminal_and_numbers_may_come_as_numbers(sample):
    sample["status"] = "shutdown"
    sample["lastResult"]["state"] = 0
    update = parse_push(json.dumps(sample))
    assert update.state is S.IN_TRANSIT and update.is_terminal


def test_raw_time_is_used_when_ftime_is_unreadable(sample):
    sample["lastResult"]["data"][0]["ftime"] = "03-12 08:15"
    assert parse_push(json.dumps(sample)).latest_event.at == datetime(2025, 3, 12, 0, 15, 40, tzinfo=UTC)


@pytest.mark.parametrize(
    "code, expected",
    [
        ("0", S.IN_TRANSIT), ("1", S.COLLECTED), ("2", S.PROBLEM), ("3", S.SIGNED), ("4", S.RETURN_SIGNED),
        ("5", S.OUT_FOR_DELIVERY), ("6", S.RETURNING), ("7", S.TRANSFERRED), ("8", S.CUSTOMS),
        ("9", S.UNKNOWN),  # not a Kuaidi100 state
        ("10", S.CUSTOMS), ("11", S.CUSTOMS), ("12", S.CUSTOMS), ("13", S.PROBLEM), ("14", S.REJECTED),
        ("101", S.AWAITING_PICKUP), ("102", S.AWAITING_PICKUP), ("103", S.COLLECTED),
        ("1001", S.IN_TRANSIT), ("1002", S.IN_TRANSIT), ("1003", S.IN_TRANSIT),
        ("501", S.AT_PICKUP_POINT),
        ("301", S.SIGNED), ("302", S.SIGNED), ("303", S.SIGNED), ("304", S.SIGNED),
        ("401", S.RETURN_SIGNED),
        ("201", S.PROBLEM), ("202", S.PROBLEM), ("203", S.PROBLEM), ("204", S.PROBLEM), ("205", S.PROBLEM),
        ("206", S.PROBLEM), ("207", S.PROBLEM), ("208", S.PROBLEM), ("209", S.PROBLEM),
        ("210", S.PROBLEM), ("299", S.PROBLEM),  # undocumented 2xx: still a problem
        ("305", S.SIGNED), ("502", S.OUT_FOR_DELIVERY),  # undocumented sub-states fall back to their parent
        ("1004", S.UNKNOWN), ("15", S.UNKNOWN), ("", S.UNKNOWN), ("abc", S.UNKNOWN),
    ],
)
def test_every_state_code(code, expected):
    assert state_for(code) is expected


@pytest.mark.parametrize(
    "name, expected",
    [
        ("在途", S.IN_TRANSIT), ("揽收", S.COLLECTED), ("疑难", S.PROBLEM), ("签收", S.SIGNED),
        ("退签", S.RETURN_SIGNED), ("派件", S.OUT_FOR_DELIVERY), ("退回", S.RETURNING), ("转投", S.TRANSFERRED),
        ("清关", S.CUSTOMS), ("待清关", S.CUSTOMS), ("清关中", S.CUSTOMS), ("已清关", S.CUSTOMS),
        ("清关异常", S.PROBLEM), ("拒签", S.REJECTED),
        ("已下单", S.AWAITING_PICKUP), ("待揽收", S.AWAITING_PICKUP), ("已揽收", S.COLLECTED),
        ("到达派件城市", S.IN_TRANSIT), ("干线", S.IN_TRANSIT), ("转递", S.IN_TRANSIT),
        ("投柜或驿站", S.AT_PICKUP_POINT), ("本人签收", S.SIGNED), ("派件异常后签收", S.SIGNED), ("代签", S.SIGNED),
        ("投柜或站签收", S.SIGNED), ("已销单", S.RETURN_SIGNED), ("新状态", S.UNKNOWN),
    ],
)
def test_every_state_name(name, expected):
    assert state_for(name) is expected


def test_line_status_code_wins_over_its_name(sample):
    sample["lastResult"]["data"][0].update(statusCode="501", status="派件")
    assert parse_push(json.dumps(sample)).latest_event.state is S.AT_PICKUP_POINT


def break_it(sample, change):
    broken = copy.deepcopy(sample)
    change(broken)
    return json.dumps(broken, ensure_ascii=False)


@pytest.mark.parametrize(
    "make, field",
    [
        (lambda s: "{not json", "param"),
        (lambda s: "", "param"),
        (lambda s: "[1, 2]", "param"),
        (lambda s: break_it(s, lambda p: p.pop("lastResult")), "lastResult"),
        (lambda s: break_it(s, lambda p: p.update(lastResult="oops")), "lastResult"),
        (lambda s: break_it(s, lambda p: p["lastResult"].pop("nu")), "lastResult.nu"),
        (lambda s: break_it(s, lambda p: p["lastResult"].update(nu="  ")), "lastResult.nu"),
        (lambda s: break_it(s, lambda p: p["lastResult"].pop("com")), "lastResult.com"),
        (lambda s: break_it(s, lambda p: p["lastResult"].update(data={"a": 1})), "lastResult.data"),
        (lambda s: break_it(s, lambda p: p["lastResult"]["data"].insert(0, "x")), "lastResult.data[0]"),
        (
            lambda s: break_it(s, lambda p: p["lastResult"]["data"][1].update(ftime="12日 08:15", time="12日 08:15")),
            "lastResult.data[1].ftime",
        ),
        (
            lambda s: break_it(s, lambda p: p["lastResult"]["data"][2].update(ftime="", time="昨天")),
            "lastResult.data[2].time",
        ),
        (
            lambda s: break_it(s, lambda p: p["lastResult"]["data"][0].update(ftime=None, time=None)),
            "lastResult.data[0].time",
        ),
    ],
)
def test_unreadable_pushes_name_the_field(sample, make, field):
    with pytest.raises(PushRejected) as caught:
        parse_push(make(sample))
    assert caught.value.field == field
    assert field in str(caught.value)


def test_carrier_comes_from_the_correction_when_the_track_has_none(sample):
    sample["lastResult"]["com"] = ""
    sample.update(comOld="yuantong", comNew="ZhongTong", autoCheck="1")
    update = parse_push(json.dumps(sample))
    assert update.carrier_code == "zhongtong" and update.carrier_corrected and update.carrier_changed


# --- replies ------------------------------------------------------------------------------------------------------


def test_acknowledgements():
    assert ACK == {"result": True, "returnCode": "200", "message": "成功"}
    assert json.loads(json.dumps(ACK)) == ACK
    assert error_ack("sign mismatch") == {"result": False, "returnCode": "500", "message": "sign mismatch"}
    assert error_ack()["result"] is False


# --- subscribing --------------------------------------------------------------------------------------------------


def test_subscribe_form_fields():
    form = subscribe_request(
        "ZhongTong", " 78901234567890 ", "KEY123", "https://kefu.example.com/hooks/kuaidi100?shop=7", "s3cret",
        from_="广东省广州市白云区", to="浙江省杭州市西湖区",
    )
    assert form["schema"] == "json" and set(form) == {"schema", "param"}
    param = json.loads(form["param"])
    assert param == {
        "company": "zhongtong",
        "number": "78901234567890",
        "key": "KEY123",
        "from": "广东省广州市白云区",
        "to": "浙江省杭州市西湖区",
        "parameters": {
            "callbackurl": "https://kefu.example.com/hooks/kuaidi100?shop=7",
            "salt": "s3cret",
            "resultv2": "4",
        },
    }
    assert "浙江" in form["param"]  # readable JSON, not \u escapes


def test_subscribe_leaves_out_what_was_not_given():
    param = json.loads(subscribe_request("yuantong", "YT1", "K", "http://h/cb", "salt")["param"])
    assert "from" not in param and "to" not in param and "phone" not in param["parameters"]


@pytest.mark.parametrize("company", ["shunfeng", "SHUNFENG", "shunfengkuaiyun", "fengwang"])
def test_sf_needs_a_phone(company):
    with pytest.raises(ValueError, match="phone"):
        subscribe_request(company, "SF0000000000001", "K", "https://h/cb", "salt")


@pytest.mark.parametrize(
    "phone, sent",
    [
        ("0000", "0000"),
        ("13800000001", "13800000001"),
        ("+86 138-0000-0001", "13800000001"),
        ("020-00000000", "02000000000"),
    ],
)
def test_sf_phone_full_or_last_four(phone, sent):
    form = subscribe_request("shunfeng", "SF0000000000001", "K", "https://h/cb", "salt", phone=phone)
    assert json.loads(form["param"])["parameters"]["phone"] == sent


@pytest.mark.parametrize(
    "args, kwargs, message",
    [
        (("", "YT1", "K", "https://h/cb", "s"), {}, "company"),
        (("yuantong", " ", "K", "https://h/cb", "s"), {}, "number"),
        (("yuantong", "Y" * 33, "K", "https://h/cb", "s"), {}, "32"),
        (("yuantong", "YT1", "", "https://h/cb", "s"), {}, "key"),
        (("yuantong", "YT1", "K", "ftp://h/cb", "s"), {}, "callback_url"),
        (("yuantong", "YT1", "K", "https://h/cb", "s"), {"phone": "12"}, "phone"),
    ],
)
def test_subscribe_refuses_calls_kuaidi100_would_refuse(args, kwargs, message):
    with pytest.raises(ValueError, match=message):
        subscribe_request(*args, **kwargs)


def _push_with(lines: list) -> str:
    return json.dumps({"status": "polling", "lastResult": {"state": "0", "com": "zhongtong", "nu": "ZT0000000000042",
                                                           "data": lines}}, ensure_ascii=False)


def test_a_line_sent_again_in_a_later_push_reads_the_same():
    first = {"context": "【杭州市】快件离开 杭州转运中心", "time": "2025-06-01 08:00:00", "ftime": "2025-06-01 08:00:00"}
    newer = {"context": "【广州市】快件到达 广州转运中心", "time": "2025-06-02 09:30:00", "ftime": "2025-06-02 09:30:00"}
    once = parse_push(_push_with([first])).events[0]
    again = parse_push(_push_with([newer, first])).events
    assert again[1] == once and again[1].dedupe_key == once.dedupe_key
    assert again[0].at == datetime(2025, 6, 2, 1, 30, tzinfo=UTC) and again[0].dedupe_key != once.dedupe_key
    other_waybill = json.loads(_push_with([first]))
    other_waybill["lastResult"]["nu"] = "ZT0000000000043"
    assert parse_push(json.dumps(other_waybill)).events[0].waybill_no == "ZT0000000000043"


def test_a_bad_line_is_named_by_its_place_in_each_push():
    bad = {"context": "派件中", "time": "yesterday", "ftime": "yesterday"}
    good = {"context": "已揽收", "time": "2025-06-01 08:00:00", "ftime": "2025-06-01 08:00:00"}
    with pytest.raises(PushRejected, match=r"data\[0\]\.ftime"):
        parse_push(_push_with([bad]))
    with pytest.raises(PushRejected, match=r"data\[2\]\.ftime"):
        parse_push(_push_with([good, good, bad]))


def test_a_line_with_an_object_in_a_field_is_still_read():
    odd = {"context": "已揽收", "ftime": "2025-06-01 08:00:00", "areaName": {"province": "浙江"}}
    (event,) = parse_push(_push_with([odd])).events
    assert event.location == str({"province": "浙江"}) and event.description == "已揽收"
