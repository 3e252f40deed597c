import base64
import copy
import json
from datetime import UTC, datetime
from urllib.parse import quote

import pytest

from kefu.domain.carriers import CARRIERS
from kefu.domain.tracking import BEIJING, ParcelState, merge_events
from kefu.ingest import kuaidi100
from kefu.ingest.kdniao import (
    PushRejected,
    ack,
    carrier_code_for,
    data_sign,
    error_ack,
    parse_push,
    state_for,
    verify_sign,
)

S = ParcelState

# The documented DataSign vector.
VECTOR_DATA = '{"EBusinessID":"1234567","PushTime":"2025-03-12 08:16:00","Count":"1","Data":[]}'
VECTOR_KEY = "test-api-key"
VECTOR_SIGN = "NmM3OWJiYTdkOGVjNjc3MjZhNzY1MWMyNzFkYTJmYzg="


@pytest.fixture
def push_text(fixtures_dir):
    return (fixtures_dir / "tracking" / "kdniao_push.json").read_text(encoding="utf-8")


@pytest.fixture
def push(push_text):
    return json.loads(push_text)


# --- DataSign -----------------------------------------------------------------------------------------------------


def test_documented_sign_vector():
    assert data_sign(VECTOR_DATA, VECTOR_KEY) == VECTOR_SIGN
    assert verify_sign(VECTOR_DATA, VECTOR_SIGN, VECTOR_KEY)


def test_sign_is_accepted_url_encoded_or_not():
    assert verify_sign(VECTOR_DATA, quote(VECTOR_SIGN, safe=""), VECTOR_KEY)
    assert verify_sign(VECTOR_DATA, VECTOR_SIGN.replace("=", "%3d"), VECTOR_KEY)
    assert verify_sign(VECTOR_DATA, f" {VECTOR_SIGN} ", VECTOR_KEY)


def test_sign_over_upper_case_hex_is_the_same_digest():
    upper = base64.b64encode(base64.b64decode(VECTOR_SIGN).upper()).decode()
    assert upper != VECTOR_SIGN and verify_sign(VECTOR_DATA, upper, VECTOR_KEY)


@pytest.mark.parametrize(
    "data, sign, key",
    [
        (VECTOR_DATA, VECTOR_SIGN, "other-key"),
        (VECTOR_DATA.replace("1234567", "7654321"), VECTOR_SIGN, VECTOR_KEY),
        (json.dumps(json.loads(VECTOR_DATA)), VECTOR_SIGN, VECTOR_KEY),  # re-serialised
        (VECTOR_DATA, "", VECTOR_KEY),
        (VECTOR_DATA, "not base64!", VECTOR_KEY),
        (VECTOR_DATA, VECTOR_SIGN[:-4], VECTOR_KEY),
        (VECTOR_DATA, "6c79bba7d8ec67726a7651c271da2fc8", VECTOR_KEY),  # the bare hex, not base64 of it
    ],
)
def test_wrong_signs_are_refused(data, sign, key):
    assert not verify_sign(data, sign, key)


# --- parsing ------------------------------------------------------------------------------------------------------


def test_vector_push_has_no_parcels():
    assert parse_push(VECTOR_DATA) == []


def test_composed_push(push_text):
    first, second = parse_push(push_text)
    assert (first.carrier_code, first.waybill_no) == ("zhongtong", "78901234567890")
    assert first.state is S.OUT_FOR_DELIVERY and first.raw_state == "202" and not first.is_terminal
    assert first.subscription is None and first.message is None

    assert [e.at for e in first.events] == sorted((e.at for e in first.events), reverse=True)
    assert [(e.raw_state, e.state) for e in first.events] == [
        ("202", S.OUT_FOR_DELIVERY),
        ("205", S.IN_TRANSIT),
        ("204", S.IN_TRANSIT),
        ("2", S.IN_TRANSIT),
        ("1", S.COLLECTED),
    ]
    newest = first.latest_event
    assert newest.at == datetime(2025, 3, 12, 0, 15, 40, tzinfo=UTC) and newest.location == "杭州市"
    assert newest.area_code is None
    assert newest.description == (
        "【杭州市】浙江杭州西湖区文三路网点的快递员[王师傅,139****0000]正在为您派件（请保持电话畅通 138****0011）"
    )
    assert "020-00000000" not in first.events[-1].description
    assert "13900000000" not in repr(first) and "138-0000-0011" not in repr(first)

    assert (second.carrier_code, second.waybill_no) == ("kdniao:XYZEXP", "XY0000000001")
    assert second.state is S.AWAITING_PICKUP and second.raw_state == "0"
    assert second.message == "暂无轨迹信息" and second.events == ()


def test_same_trace_from_either_service_dedupes_to_the_same_key(push_text, fixtures_dir):
    from_kdniao = parse_push(push_text)[0].events
    from_kuaidi100 = kuaidi100.parse_push(
        (fixtures_dir / "tracking" / "kuaidi100_out_for_delivery.json").read_text(encoding="utf-8")
    ).events
    shared = {e.dedupe_key for e in from_kdniao} & {e.dedupe_key for e in from_kuaidi100}
    assert len(shared) == 3  # 揽收, 离开广州 and 到达网点 are worded alike in both
    fresh = merge_events(from_kuaidi100, from_kdniao)
    assert [e.raw_state for e in fresh] == ["202", "204"]  # the remark-bearing 派件 line and 到达杭州


def test_a_repeated_push_adds_no_events(push_text):
    first = parse_push(push_text)[0]
    assert merge_events(first.events, parse_push(push_text)[0].events) == []


def test_same_second_traces_stay_newest_first(push):
    item = push["Data"][0]
    item["Traces"][3]["AcceptTime"] = item["Traces"][4]["AcceptTime"]  # two lines in the same second
    events = parse_push(json.dumps(push, ensure_ascii=False))[0].events
    assert events[0].raw_state == "202" and events[1].raw_state == "205"


def test_state_comes_from_the_newest_trace_when_the_parcel_has_none(push):
    item = push["Data"][0]
    item["State"], item["StateEx"] = "", ""
    update = parse_push(json.dumps(push, ensure_ascii=False))[0]
    assert update.state is S.OUT_FOR_DELIVERY and update.raw_state == ""


def test_success_may_be_a_string_and_numbers_may_be_numbers(push):
    item = push["Data"][0]
    item.update(Success="true", State=3, StateEx=301)
    update = parse_push(json.dumps(push, ensure_ascii=False))[0]
    assert update.state is S.SIGNED and update.is_terminal and update.raw_state == "301"


@pytest.mark.parametrize(
    "code, expected",
    [
        ("0", S.AWAITING_PICKUP), ("1", S.COLLECTED), ("2", S.IN_TRANSIT), ("3", S.SIGNED), ("4", S.PROBLEM),
        ("5", S.TRANSFERRED), ("6", S.CUSTOMS), ("10", S.AWAITING_PICKUP),
        ("201", S.IN_TRANSIT), ("202", S.OUT_FOR_DELIVERY), ("204", S.IN_TRANSIT), ("205", S.IN_TRANSIT),
        ("206", S.IN_TRANSIT), ("211", S.AT_PICKUP_POINT),
        ("301", S.SIGNED), ("302", S.SIGNED), ("304", S.SIGNED), ("311", S.SIGNED),
        ("401", S.PROBLEM), ("402", S.PROBLEM), ("403", S.PROBLEM), ("404", S.REJECTED), ("405", S.PROBLEM),
        ("406", S.RETURN_SIGNED), ("407", S.RETURNING), ("412", S.PROBLEM), ("413", S.PROBLEM), ("414", S.PROBLEM),
        ("415", S.PROBLEM), ("416", S.PROBLEM), ("417", S.PROBLEM), ("418", S.PROBLEM),
        ("419", S.OUT_FOR_DELIVERY), ("420", S.PROBLEM), ("421", S.PROBLEM), ("422", S.PROBLEM), ("423", S.PROBLEM),
        ("601", S.CUSTOMS), ("602", S.CUSTOMS), ("603", S.CUSTOMS), ("604", S.CUSTOMS),
        # undocumented detail codes fall back to their group
        ("203", S.IN_TRANSIT), ("303", S.SIGNED), ("499", S.PROBLEM), ("605", S.CUSTOMS),
        ("7", S.UNKNOWN), ("", S.UNKNOWN), ("abc", S.UNKNOWN), ("999", S.UNKNOWN),
    ],
)
def test_every_state_code(code, expected):
    assert state_for(code) is expected


@pytest.mark.parametrize(
    "state_ex, state, expected",
    [
        ("404", "4", S.REJECTED),  # the detail wins
        ("202", "2", S.OUT_FOR_DELIVERY),
        ("211", "2", S.AT_PICKUP_POINT),
        ("207", "5", S.TRANSFERRED),  # unknown detail: the main state decides
        ("", "3", S.SIGNED),
        ("", "", S.UNKNOWN),
    ],
)
def test_detail_state_and_main_state_together(state_ex, state, expected):
    assert state_for(state_ex, state) is expected


def test_every_carrier_with_a_kdniao_code_maps_to_its_canonical_code():
    for carrier in CARRIERS:
        if carrier.kdniao:
            assert carrier_code_for(carrier.kdniao) == carrier.code
            assert carrier_code_for(carrier.kdniao.lower()) == carrier.code
    assert carrier_code_for(" sf ") == "shunfeng"
    assert carrier_code_for("xyzexp") == "kdniao:XYZEXP"


def break_it(push, change):
    broken = copy.deepcopy(push)
    change(broken)
    return json.dumps(broken, ensure_ascii=False)


@pytest.mark.parametrize(
    "make, field",
    [
        (lambda p: "{not json", "RequestData"),
        (lambda p: "", "RequestData"),
        (lambda p: '"text"', "RequestData"),
        (lambda p: break_it(p, lambda b: b.update(Data={"x": 1})), "Data"),
        (lambda p: break_it(p, lambda b: b["Data"].insert(0, 5)), "Data[0]"),
        (lambda p: break_it(p, lambda b: b["Data"][0].pop("ShipperCode")), "Data[0].ShipperCode"),
        (lambda p: break_it(p, lambda b: b["Data"][1].update(LogisticCode="")), "Data[1].LogisticCode"),
        (lambda p: break_it(p, lambda b: b["Data"][0].update(Traces="none")), "Data[0].Traces"),
        (lambda p: break_it(p, lambda b: b["Data"][0]["Traces"].insert(2, [])), "Data[0].Traces[2]"),
        (
            lambda p: break_it(p, lambda b: b["Data"][0]["Traces"][1].update(AcceptTime="昨天")),
            "Data[0].Traces[1].AcceptTime",
        ),
        (lambda p: break_it(p, lambda b: b["Data"][0]["Traces"][0].pop("AcceptTime")), "Data[0].Traces[0].AcceptTime"),
    ],
)
def test_unreadable_pushes_name_the_field(push, make, field):
    with pytest.raises(PushRejected) as caught:
        parse_push(make(push))
    assert caught.value.field == field


def test_a_push_without_data_has_no_parcels():
    assert parse_push('{"EBusinessID":"1234567","PushTime":"2025-03-12 08:16:00","Count":"0"}') == []


# --- reply --------------------------------------------------------------------------------------------------------


def test_ack_is_written_in_beijing_time():
    now = datetime(2025, 3, 12, 0, 16, 5, tzinfo=UTC)
    assert ack("1234567", now) == {
        "EBusinessID": "1234567",
        "UpdateTime": "2025-03-12 08:16:05",
        "Success": True,
        "Reason": "",
    }
    assert ack("1234567", now.astimezone(BEIJING)) == ack("1234567", now)


def test_error_ack_and_naive_times():
    now = datetime(2025, 3, 12, 0, 16, 5, tzinfo=UTC)
    assert error_ack("1234567", now, "DataSign mismatch") == {
        "EBusinessID": "1234567",
        "UpdateTime": "2025-03-12 08:16:05",
        "Success": False,
        "Reason": "DataSign mismatch",
    }
    with pytest.raises(ValueError):
        ack("1234567", datetime(2025, 3, 12, 8, 16, 5))
