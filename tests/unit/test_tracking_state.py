from datetime import UTC, datetime, timedelta
from functools import reduce
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kefu.domain.tracking import (
    BEIJING,
    ParcelState,
    PushRejected,
    SubscriptionStatus,
    TrackingEvent,
    TrackingUpdate,
    advance,
    json_object,
    merge_events,
    parse_beijing_time,
)

S = ParcelState
states = st.sampled_from(list(ParcelState))


def event(description="【杭州市】快件已到达 杭州转运中心", at=datetime(2025, 3, 12, 6, 2, 11, tzinfo=BEIJING), **kw):
    fields = {"carrier_code": "zhongtong", "waybill_no": "78901234567890", "state": S.IN_TRANSIT, "raw_state": "0"}
    fields.update(kw)
    return TrackingEvent(at=at, description=description, **fields)


# --- advance: never backwards -------------------------------------------------------------------------------------


ALL_PAIRS = [(current, incoming) for current in ParcelState for incoming in ParcelState]


def test_advance_never_lowers_the_rank_for_any_pair():
    for current, incoming in ALL_PAIRS:
        assert advance(current, incoming).rank >= current.rank, (current, incoming)


@given(st.lists(states, max_size=30))
def test_a_parcel_never_moves_backwards_whatever_order_pushes_arrive_in(pushes):
    seen = [S.UNKNOWN]
    for incoming in pushes:
        seen.append(advance(seen[-1], incoming))
    assert all(a.rank <= b.rank for a, b in pairwise(seen))
    # the parcel ends at least as far along as the furthest push says
    assert seen[-1].rank >= max((p.rank for p in pushes), default=0)


def test_advance_is_one_of_the_two_states_or_a_signed_return():
    for current, incoming in ALL_PAIRS:
        assert advance(current, incoming) in {current, incoming, S.RETURN_SIGNED}


def test_a_repeated_push_changes_nothing():
    for current, incoming in ALL_PAIRS:
        once = advance(current, incoming)
        assert advance(once, incoming) == once, (current, incoming)


def test_an_unknown_push_changes_nothing():
    for state in ParcelState:
        assert advance(state, S.UNKNOWN) == state
        assert advance(S.UNKNOWN, state) == state


@given(st.lists(states, max_size=20))
def test_a_signed_return_is_final(pushes):
    assert reduce(advance, pushes, S.RETURN_SIGNED) == S.RETURN_SIGNED


@pytest.mark.parametrize(
    "current, incoming, expected",
    [
        (S.OUT_FOR_DELIVERY, S.IN_TRANSIT, S.OUT_FOR_DELIVERY),  # stale push arriving late
        (S.COLLECTED, S.OUT_FOR_DELIVERY, S.OUT_FOR_DELIVERY),
        (S.SIGNED, S.OUT_FOR_DELIVERY, S.SIGNED),
        (S.IN_TRANSIT, S.PROBLEM, S.PROBLEM),  # a problem after in transit is allowed
        (S.OUT_FOR_DELIVERY, S.PROBLEM, S.PROBLEM),
        (S.AT_PICKUP_POINT, S.PROBLEM, S.PROBLEM),  # locker not emptied in time
        (S.PROBLEM, S.SIGNED, S.SIGNED),  # a later signed beats a problem
        (S.PROBLEM, S.IN_TRANSIT, S.PROBLEM),  # a stale in-transit does not clear it
        (S.SIGNED, S.PROBLEM, S.SIGNED),
        (S.PROBLEM, S.REJECTED, S.REJECTED),
        (S.REJECTED, S.RETURNING, S.RETURNING),
        (S.RETURNING, S.RETURN_SIGNED, S.RETURN_SIGNED),
        (S.REJECTED, S.SIGNED, S.SIGNED),  # the buyer changed their mind
        (S.RETURNING, S.SIGNED, S.RETURN_SIGNED),  # the sender signed for the return
        (S.IN_TRANSIT, S.CUSTOMS, S.CUSTOMS),  # peers: the latest report wins
        (S.CUSTOMS, S.IN_TRANSIT, S.IN_TRANSIT),
        (S.IN_TRANSIT, S.TRANSFERRED, S.TRANSFERRED),
        (S.AWAITING_PICKUP, S.COLLECTED, S.COLLECTED),
        (S.COLLECTED, S.AWAITING_PICKUP, S.COLLECTED),
    ],
)
def test_advance_examples(current, incoming, expected):
    assert advance(current, incoming) == expected


def test_terminal_and_attention_states():
    assert {s for s in ParcelState if s.is_terminal} == {S.SIGNED, S.REJECTED, S.RETURN_SIGNED}
    assert {s for s in ParcelState if s.needs_attention} == {S.PROBLEM, S.REJECTED, S.RETURNING}
    assert S("out_for_delivery") is S.OUT_FOR_DELIVERY and S.SIGNED == "signed"


# --- events and their dedupe key ----------------------------------------------------------------------------------


def test_event_time_is_kept_in_utc_and_must_be_aware():
    assert event().at == datetime(2025, 3, 11, 22, 2, 11, tzinfo=UTC)
    assert event().at.tzinfo is UTC
    with pytest.raises(ValueError):
        event(at=datetime(2025, 3, 12, 6, 2, 11))


def test_event_description_never_holds_a_phone_number():
    e = event("【杭州市】快递员[王师傅,13900000000]正在为您派件，网点电话0571-00000000")
    assert "13900000000" not in e.description and "139****0000" in e.description
    assert "0571-00000000" not in e.description
    assert "13900000000" not in repr(e)


def test_dedupe_key_is_stable_across_pushes_and_representations():
    key = event().dedupe_key
    assert len(key) == 32 and int(key, 16) >= 0
    same_moment_in_utc = datetime(2025, 3, 11, 22, 2, 11, tzinfo=UTC)
    assert event(at=same_moment_in_utc).dedupe_key == key
    assert event(at=same_moment_in_utc + timedelta(microseconds=500)).dedupe_key == key
    assert event(" 【杭州市】快件已到达  杭州转运中心\n").dedupe_key == key  # whitespace
    assert event("【杭州市】快件已到达 杭州转运中心", state=S.OUT_FOR_DELIVERY, raw_state="5").dedupe_key == key
    assert event(carrier_code="ZhongTong", waybill_no=" 78901234567890 ").dedupe_key == key
    assert event("（网点）已揽收").dedupe_key == event("(网点)已揽收").dedupe_key  # full-width brackets
    assert event("快递员13900000000派件").dedupe_key == event("快递员139****0000派件").dedupe_key


def test_dedupe_key_separates_different_lines():
    key = event().dedupe_key
    assert event("【杭州市】快件离开 杭州转运中心").dedupe_key != key
    assert event(at=datetime(2025, 3, 12, 6, 2, 12, tzinfo=BEIJING)).dedupe_key != key
    assert event(waybill_no="78901234567891").dedupe_key != key
    assert event(carrier_code="yuantong").dedupe_key != key


def track():
    times = [datetime(2025, 3, 12, hour, 0, tzinfo=BEIJING) for hour in (9, 8, 7)]
    return [event(f"第{n}条", at=t) for n, t in enumerate(times)]


def test_merge_keeps_only_new_events_newest_first():
    old = track()[1:]
    fresh = merge_events(old, list(reversed(track())))
    assert fresh == [track()[0]]


def test_merge_of_a_repeated_or_full_re_push_adds_nothing():
    stored = track()
    assert merge_events(stored, track()) == []
    assert merge_events(stored, track() + track()) == []  # updateall
    assert merge_events([e.dedupe_key for e in stored], track()) == []


def test_merge_drops_duplicates_inside_one_push():
    assert merge_events([], track() + track()) == track()
    assert merge_events([], []) == []


# --- updates, times, errors ---------------------------------------------------------------------------------------


def test_update_carrier_correction_and_resubscribe():
    aborted = TrackingUpdate(
        carrier_code="yuantong", waybill_no="1", state=S.UNKNOWN, raw_state="", is_terminal=False,
        subscription=SubscriptionStatus.ABORT, old_carrier_code="yuantong", new_carrier_code="zhongtong",
    )
    assert aborted.carrier_changed and aborted.needs_resubscribe and aborted.latest_event is None
    plain = TrackingUpdate(carrier_code="yuantong", waybill_no="1", state=S.IN_TRANSIT, raw_state="0",
                           is_terminal=False, events=tuple(track()))
    assert not plain.carrier_changed and not plain.needs_resubscribe
    assert plain.latest_event == track()[0]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2025-03-12 08:15:40", datetime(2025, 3, 12, 0, 15, 40, tzinfo=UTC)),
        ("2025-03-12 08:15", datetime(2025, 3, 12, 0, 15, tzinfo=UTC)),
        ("2025/03/12 08:15:40", datetime(2025, 3, 12, 0, 15, 40, tzinfo=UTC)),
        ("2025-03-12T08:15:40+08:00", datetime(2025, 3, 12, 0, 15, 40, tzinfo=UTC)),
        ("2025-03-12 08:15:40+00:00", datetime(2025, 3, 12, 8, 15, 40, tzinfo=UTC)),
        (" 2025-03-01 00:30:00 ", datetime(2025, 2, 28, 16, 30, tzinfo=UTC)),
    ],
)
def test_carrier_times_are_beijing_time(text, expected):
    assert parse_beijing_time(text) == expected


@pytest.mark.parametrize("text", ["", "yesterday", "2025-13-01 00:00:00", "12/03/2025"])
def test_bad_carrier_times_are_refused(text):
    with pytest.raises(ValueError):
        parse_beijing_time(text)


def test_push_rejected_names_the_field():
    error = PushRejected("lastResult.nu", "is missing")
    assert error.field == "lastResult.nu" and str(error) == "lastResult.nu is missing"
    assert isinstance(error, ValueError)


@pytest.mark.parametrize(("raw", "expected"), [
    ('{"a": "快递", "n": 1}', {"a": "快递", "n": 1}),
    ('{"big": 123456789012345678901234567890}', {"big": 123456789012345678901234567890}),  # exact, beyond 64 bits (orjson would make it a float)
    ('{"x": NaN}', None),  # the standard reader's extension: read, not refused
    ('{"s": "\\ud800"}', {"s": "\ud800"}),  # a lone surrogate escape, as Python reads it
])
def test_a_push_body_reads_as_the_standard_json_reader_reads_it(raw, expected):
    payload = json_object(raw, "param")
    if expected is None:
        assert payload["x"] != payload["x"]  # NaN
    else:
        assert payload == expected


@pytest.mark.parametrize("raw", ["", "not json", "[1, 2]", '{"a": ', None])
def test_a_push_body_that_is_not_a_json_object_is_refused_naming_the_field(raw):
    with pytest.raises(PushRejected) as caught:
        json_object(raw, "param")
    assert "param" in str(caught.value)
