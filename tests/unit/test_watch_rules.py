"""Parcel watch rules: policies with carrier and province overrides, every alert rule at its boundaries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kefu.config import SHOP_RULE_DEFAULTS, shop_rules
from kefu.domain import order_status as os_
from kefu.domain.rules import watch as w
from kefu.domain.rules.watch import (
    OrderFacts,
    ShipmentFacts,
    courier_conflict,
    order_alerts,
    parcel_alerts,
    watch_policy,
)

NOW = datetime(2025, 3, 20, 12, 0, tzinfo=UTC)
H = timedelta(hours=1)
TICK = timedelta(microseconds=1)

# Plain numbers without province tables, so each test sets exactly the overrides it is about.
PLAIN = shop_rules({"watch": {"carriers": {}, "provinces": {}}})


def rules_with(**watch) -> dict:
    return shop_rules({"watch": {"carriers": {}, "provinces": {}, **watch}})


def parcel(**fields) -> ShipmentFacts:
    base = {"shipment_id": "s1:o1:ZT1", "order_id": "s1:o1", "waybill_no": "ZT1", "carrier_code": "zhongtong",
            "province": "浙江省", "customer_id": "c1", "tracked": True}
    base.update(fields)
    return ShipmentFacts(**base)


def kinds(drafts) -> list[str]:
    return [d.kind for d in drafts]


# ---------------------------------------------------------------- policy


def test_defaults_come_from_configuration():
    policy = watch_policy(shop_rules(None))
    defaults = SHOP_RULE_DEFAULTS["watch"]
    assert policy.pickup_hours == defaults["pickup_hours"] == 24
    assert policy.stall_hours == defaults["stall_hours"] == 48
    assert policy.ship_promise_hours == 48 and policy.promise_warning_hours == 6
    assert policy.kinds == frozenset(defaults["kinds"])
    assert policy.overridden == frozenset()


@pytest.mark.parametrize("written", ["新疆", "新疆维吾尔自治区", "新疆维吾尔自治区 ", "新疆省", "新 疆"])
def test_province_override_matches_however_the_province_is_written(written):
    policy = watch_policy(rules_with(provinces={"新疆": {"stall_hours": 96}}), "zhongtong", written)
    assert policy.stall_hours == 96 and policy.province == "新疆" and "stall_hours" in policy.overridden


def test_province_table_written_long_matches_a_short_destination():
    policy = watch_policy(rules_with(provinces={"广西壮族自治区": {"stall_hours": 60}}), None, "广西")
    assert policy.stall_hours == 60


@pytest.mark.parametrize(
    ("name", "key"),
    [("新疆维吾尔自治区", "新疆"), ("内蒙古自治区", "内蒙古"), ("宁夏回族自治区", "宁夏"), ("西藏自治区", "西藏"),
     ("广西壮族自治区", "广西"), ("北京市", "北京"), ("浙江省", "浙江"), ("香港特别行政区", "香港"), ("黑龙江省", "黑龙江"),
     ("山西", "山西"), ("陕西省", "陕西"), ("Ontario", "Ontario"), ("", None), (None, None)],
)
def test_province_key(name, key):
    assert w.province_key(name) == key


def test_carrier_override_by_code_or_name():
    by_code = watch_policy(rules_with(carriers={"youzhengguonei": {"stall_hours": 72}}), "youzhengguonei", "浙江")
    by_name = watch_policy(rules_with(carriers={"邮政": {"stall_hours": 72}}), "youzhengguonei", "浙江")
    named_parcel = watch_policy(rules_with(carriers={"youzhengguonei": {"stall_hours": 72}}), "中国邮政", "浙江")
    assert by_code.stall_hours == by_name.stall_hours == named_parcel.stall_hours == 72
    assert watch_policy(rules_with(carriers={"youzhengguonei": {"stall_hours": 72}}), "zhongtong", "浙江").stall_hours == 48


def test_carrier_and_province_both_set_the_more_patient_number_wins():
    rules = rules_with(carriers={"shunfeng": {"stall_hours": 24}, "youzhengguonei": {"stall_hours": 72}},
                       provinces={"新疆": {"stall_hours": 96}})
    assert watch_policy(rules, "shunfeng", "浙江").stall_hours == 24  # a stricter carrier number applies alone
    assert watch_policy(rules, "shunfeng", "新疆").stall_hours == 96
    assert watch_policy(rules, "youzhengguonei", "新疆").stall_hours == 96
    assert watch_policy(rules, "youzhengguonei", "西藏").stall_hours == 72


def test_shop_override_of_one_number_keeps_the_others():
    policy = watch_policy(shop_rules({"watch": {"stall_hours": 36}}), "zhongtong", "浙江")
    assert policy.stall_hours == 36 and policy.pickup_hours == 24


def test_default_remote_provinces_wait_longer():
    rules = shop_rules(None)
    assert watch_policy(rules, "zhongtong", "新疆维吾尔自治区").stall_hours > watch_policy(rules, "zhongtong", "浙江").stall_hours
    assert watch_policy(rules, "ems", "浙江").stall_hours == 72


@pytest.mark.parametrize("bad", [-1, "24", None, True, float("nan")])
def test_a_bad_number_is_refused_by_name(bad):
    with pytest.raises(ValueError, match="watch.pickup_hours"):
        watch_policy(rules_with(pickup_hours=bad))


def test_a_bad_override_is_refused_by_name():
    with pytest.raises(ValueError, match="watch.stall_hours"):
        watch_policy(rules_with(carriers={"zhongtong": {"stall_hours": "long"}}), "zhongtong")


def test_earliest_and_largest_hours_cover_every_override():
    rules = rules_with(stall_hours=48, carriers={"shunfeng": {"stall_hours": 24}}, provinces={"新疆": {"stall_hours": 96}})
    assert w.earliest_hours(rules, "stall_hours") == 24
    assert w.largest_hours(rules, "stall_hours") == 96
    assert w.earliest_hours(rules, "pickup_hours") == w.largest_hours(rules, "pickup_hours") == 24


def test_route_names_carrier_and_province():
    assert watch_policy(PLAIN, "zhongtong", "新疆维吾尔自治区").route == "中通→新疆"
    assert watch_policy(PLAIN, None, None).route == "未知快递→未知地区"
    assert watch_policy(PLAIN, "acme-post", "Ontario").route == "acme-post→Ontario"


# ---------------------------------------------------------------- fake shipping (no pickup scan)


def test_fake_shipping_boundary_and_rule_text():
    policy = watch_policy(PLAIN, "zhongtong", "新疆维吾尔自治区")
    shipped = NOW - 24 * H
    xinjiang = {"status": "awaiting_pickup", "province": "新疆维吾尔自治区"}
    assert parcel_alerts(parcel(**xinjiang, shipped_at=shipped + TICK), policy, NOW) == []
    [draft] = parcel_alerts(parcel(**xinjiang, shipped_at=shipped), policy, NOW)
    assert draft.kind == "fake_shipping" and draft.severity == "critical"
    assert draft.dedupe_key == "fake_shipping:s1:o1:ZT1"
    assert draft.due_at == shipped + 24 * H + 2 * H  # respond_hours.critical
    assert draft.order_id == "s1:o1" and draft.shipment_id == "s1:o1:ZT1" and draft.customer_id == "c1"
    [late] = parcel_alerts(parcel(**xinjiang, shipped_at=NOW - 30 * H), policy, NOW)
    assert late.rule == "揽收超时: 已发货 30 小时无揽收扫描 (规则 pickup_hours=24, 中通→新疆)"
    assert late.detail["param"] == "pickup_hours" and late.detail["limit"] == 24 and late.detail["hours"] == 30


def test_fake_shipping_needs_no_pickup_and_a_state_before_pickup():
    policy = watch_policy(PLAIN)
    old = NOW - 100 * H
    assert parcel_alerts(parcel(status="awaiting_pickup", shipped_at=old, picked_up_at=old + H,
                                last_event_at=NOW), policy, NOW) == []
    assert parcel_alerts(parcel(status="in_transit", shipped_at=old, last_event_at=NOW), policy, NOW) == []
    assert kinds(parcel_alerts(parcel(status="unknown", shipped_at=old), policy, NOW)) == ["fake_shipping"]
    assert parcel_alerts(parcel(status="awaiting_pickup", shipped_at=None), policy, NOW) == []


def test_untracked_parcels_are_judged_only_when_the_shop_says_so():
    old = NOW - 100 * H
    untracked = parcel(status=None, tracked=False, shipped_at=old)
    assert parcel_alerts(untracked, watch_policy(PLAIN), NOW) == []
    assert kinds(parcel_alerts(untracked, watch_policy(rules_with(judge_untracked=True)), NOW)) == ["fake_shipping"]
    subscribed = parcel(status=None, tracked=True, shipped_at=old)
    assert kinds(parcel_alerts(subscribed, watch_policy(PLAIN), NOW)) == ["fake_shipping"]


def test_pickup_hours_by_province():
    policy = watch_policy(rules_with(provinces={"西藏": {"pickup_hours": 48}}), "zhongtong", "西藏自治区")
    assert parcel_alerts(parcel(status="awaiting_pickup", shipped_at=NOW - 30 * H), policy, NOW) == []
    assert kinds(parcel_alerts(parcel(status="awaiting_pickup", shipped_at=NOW - 48 * H), policy, NOW)) == ["fake_shipping"]


# ---------------------------------------------------------------- stall


@pytest.mark.parametrize("state", ["collected", "in_transit", "customs", "transferred", "out_for_delivery"])
def test_stall_boundary_in_every_moving_state(state):
    policy = watch_policy(PLAIN)
    last = NOW - 48 * H
    assert parcel_alerts(parcel(status=state, last_event_at=last + TICK, picked_up_at=last), policy, NOW) == []
    [draft] = parcel_alerts(parcel(status=state, last_event_at=last, picked_up_at=last), policy, NOW)
    assert draft.kind == "stall" and draft.severity == "warning"
    assert draft.dedupe_key == "stall:s1:o1:ZT1:20250318120000"  # the silence is keyed by its last scan
    assert draft.due_at == last + 48 * H + 12 * H


@pytest.mark.parametrize("state", ["awaiting_pickup", "at_pickup_point", "signed", "problem", "rejected", "unknown"])
def test_no_stall_outside_the_moving_states(state):
    drafts = parcel_alerts(parcel(status=state, last_event_at=NOW - 500 * H, picked_up_at=NOW - 500 * H,
                                  shipped_at=NOW - 501 * H), watch_policy(PLAIN), NOW)
    assert "stall" not in kinds(drafts)


def test_stall_rule_text_names_the_override():
    policy = watch_policy(rules_with(carriers={"youzhengguonei": {"stall_hours": 72}}), "youzhengguonei", "青海省")
    assert parcel_alerts(parcel(status="in_transit", last_event_at=NOW - 71 * H), policy, NOW) == []
    [draft] = parcel_alerts(parcel(status="in_transit", carrier_code="youzhengguonei", province="青海省",
                                   last_event_at=NOW - 80 * H), policy, NOW)
    assert draft.rule == "物流停滞: 最后一次扫描已过 80 小时 (规则 stall_hours=72, 邮政→青海)"


def test_stall_falls_back_to_the_state_time_and_a_new_scan_is_a_new_episode():
    policy = watch_policy(PLAIN)
    [by_status] = parcel_alerts(parcel(status="in_transit", status_at=NOW - 50 * H), policy, NOW)
    assert by_status.detail["since"] == (NOW - 50 * H).isoformat()
    first = parcel_alerts(parcel(status="in_transit", last_event_at=NOW - 50 * H), policy, NOW)[0]
    later = parcel_alerts(parcel(status="in_transit", last_event_at=NOW - 49 * H), policy, NOW)[0]
    assert first.dedupe_key != later.dedupe_key
    assert parcel_alerts(parcel(status="in_transit"), policy, NOW) == []  # no time at all: nothing to judge


# ---------------------------------------------------------------- states that are alerts in themselves


@pytest.mark.parametrize(
    ("state", "kind", "severity"),
    [("problem", "exception", "critical"), ("rejected", "rejected", "critical"), ("returning", "returning", "warning"),
     ("return_signed", "returned", "info")],
)
def test_problem_rejected_returning_returned(state, kind, severity):
    at = NOW - 3 * H
    [draft] = parcel_alerts(parcel(status=state, status_at=at, last_event_at=at, picked_up_at=at - H), watch_policy(PLAIN), NOW)
    assert (draft.kind, draft.severity) == (kind, severity)
    assert draft.dedupe_key == f"{kind}:s1:o1:ZT1"
    assert draft.due_at == at + timedelta(hours=PLAIN["watch"]["respond_hours"][severity])
    assert "ZT1" in draft.rule and "中通→浙江" in draft.rule


def test_unknown_state_words_count_as_unknown():
    drafts = parcel_alerts(parcel(status="teleported", shipped_at=NOW - 30 * H), watch_policy(PLAIN), NOW)
    assert kinds(drafts) == ["fake_shipping"]


# ---------------------------------------------------------------- signed


def test_signed_is_info_for_the_care_window_only():
    policy = watch_policy(PLAIN)
    [draft] = parcel_alerts(parcel(status="signed", signed_at=NOW - 2 * H, last_event_at=NOW - 2 * H), policy, NOW)
    assert draft.kind == "signed" and draft.severity == "info"
    assert draft.due_at == NOW - 2 * H + 72 * H
    assert draft.rule == "已签收: 可发签收关怀 (规则 signed_hours=72, 中通→浙江)"
    assert parcel_alerts(parcel(status="signed", signed_at=NOW - 72 * H + TICK), policy, NOW) != []
    assert parcel_alerts(parcel(status="signed", signed_at=NOW - 72 * H), policy, NOW) == []
    assert parcel_alerts(parcel(status="signed"), policy, NOW) == []


# ---------------------------------------------------------------- kinds switched off


def test_kinds_not_configured_are_not_raised():
    policy = watch_policy(rules_with(kinds=["stall"]))
    assert parcel_alerts(parcel(status="awaiting_pickup", shipped_at=NOW - 99 * H), policy, NOW) == []
    assert parcel_alerts(parcel(status="rejected", status_at=NOW), policy, NOW) == []
    assert kinds(parcel_alerts(parcel(status="in_transit", last_event_at=NOW - 99 * H), policy, NOW)) == ["stall"]
    paid = OrderFacts("s1:o2", os_.WAIT_SELLER_SEND_GOODS, NOW - 99 * H)
    assert order_alerts(paid, policy, NOW) == []


# ---------------------------------------------------------------- the shipping promise


def test_ship_promise_warning_then_broken():
    policy = watch_policy(PLAIN)  # promise 48 h, warning 6 h before
    paid = NOW - 48 * H

    def at(moment):
        return order_alerts(OrderFacts("s1:o2", os_.WAIT_SELLER_SEND_GOODS, paid, customer_id="c1"), policy, moment)

    assert at(paid + 42 * H - TICK) == []
    [due] = at(paid + 42 * H)
    assert due.kind == "ship_promise_due" and due.severity == "warning" and due.due_at == paid + 48 * H
    assert due.dedupe_key == "ship_promise_due:s1:o2" and due.order_id == "s1:o2" and due.shipment_id is None
    assert due.rule == "发货承诺将到期: 付款已 42 小时未发货, 还剩 6 小时 (规则 ship_promise_hours=48, promise_warning_hours=6)"
    assert [d.kind for d in at(paid + 48 * H - TICK)] == ["ship_promise_due"]
    [broken] = at(paid + 48 * H)
    assert broken.kind == "ship_promise_broken" and broken.severity == "critical"
    assert broken.rule == "发货超时: 付款已 48 小时未发货 (规则 ship_promise_hours=48)"
    assert broken.due_at == paid + 48 * H + 2 * H


@pytest.mark.parametrize("status", [os_.WAIT_BUYER_PAY, os_.WAIT_BUYER_CONFIRM_GOODS, os_.TRADE_FINISHED, os_.TRADE_CLOSED])
def test_no_promise_alert_unless_paid_and_unshipped(status):
    assert order_alerts(OrderFacts("o", status, NOW - 99 * H), watch_policy(PLAIN), NOW) == []


def test_partly_shipped_orders_still_count_and_unpaid_times_do_not():
    policy = watch_policy(PLAIN)
    assert kinds(order_alerts(OrderFacts("o", os_.SELLER_CONSIGNED_PART, NOW - 99 * H), policy, NOW)) == ["ship_promise_broken"]
    assert order_alerts(OrderFacts("o", os_.WAIT_SELLER_SEND_GOODS, None), policy, NOW) == []


def test_promise_hours_by_listing_and_no_warning_when_zero():
    policy = watch_policy(rules_with(promise_warning_hours=0))
    assert order_alerts(OrderFacts("o", os_.WAIT_SELLER_SEND_GOODS, NOW - 47 * H), policy, NOW) == []
    listing = OrderFacts("o", os_.WAIT_SELLER_SEND_GOODS, NOW - 30 * H, promise_hours=24)
    assert kinds(order_alerts(listing, policy, NOW)) == ["ship_promise_broken"]


# ---------------------------------------------------------------- courier conflicts


def test_courier_conflict_excluded_wanted_and_fine():
    policy = watch_policy(PLAIN, "shentong", "浙江")
    shipped = parcel(carrier_code="shentong", waybill_no="STO9", shipped_at=NOW - H)
    refused = courier_conflict(shipped, set(), {"shentong"}, policy, NOW)
    assert refused.kind == "courier_conflict" and refused.severity == "critical"
    assert refused.rule == "快递不符: 买家不要申通, 实发申通 (STO9)"
    other = courier_conflict(shipped, {"zhongtong"}, set(), policy, NOW)
    assert other.severity == "warning" and other.rule == "快递不符: 买家要中通, 实发申通 (STO9)"
    assert courier_conflict(shipped, {"shentong"}, set(), policy, NOW) is None
    assert courier_conflict(shipped, set(), {"yunda"}, policy, NOW) is None
    by_name = parcel(carrier_code="申通快递", shipped_at=NOW)
    assert courier_conflict(by_name, set(), {"shentong"}, policy, NOW) is not None
    assert courier_conflict(parcel(carrier_code=None), set(), {"shentong"}, policy, NOW) is None
    assert courier_conflict(shipped, set(), {"shentong"}, watch_policy(rules_with(kinds=["stall"])), NOW) is None


# ---------------------------------------------------------------- limits of the store columns


def test_keys_and_rules_fit_their_columns():
    long_id = "s" * 190  # longer than any real id, to show the key still fits
    [draft] = parcel_alerts(parcel(shipment_id=long_id, status="in_transit", last_event_at=NOW - 99 * H,
                                   waybill_no="W" * 300), watch_policy(PLAIN), NOW)
    assert len(draft.dedupe_key) <= 200 and draft.dedupe_key.startswith("stall:#")
    [state] = parcel_alerts(parcel(status="problem", status_at=NOW, waybill_no="W" * 300), watch_policy(PLAIN), NOW)
    assert len(state.rule) <= 200


# ---------------------------------------------------------------- properties

hours = st.floats(min_value=0.25, max_value=24 * 30, allow_nan=False, allow_infinity=False)
fractions = st.floats(min_value=0, max_value=0.999, allow_nan=False)


@settings(max_examples=200, deadline=None)
@given(limit=hours, fraction=fractions)
def test_no_pickup_alert_before_its_threshold(limit, fraction):
    policy = watch_policy(rules_with(pickup_hours=limit))
    shipped = NOW - timedelta(hours=limit * fraction)
    assert parcel_alerts(parcel(status="awaiting_pickup", shipped_at=shipped), policy, NOW) == []
    assert kinds(parcel_alerts(parcel(status="awaiting_pickup", shipped_at=NOW - timedelta(hours=limit)), policy, NOW)) == ["fake_shipping"]


@settings(max_examples=200, deadline=None)
@given(limit=hours, fraction=fractions, state=st.sampled_from(sorted(w.STALL_STATES)),
       province=st.sampled_from(["新疆", "新疆维吾尔自治区", "浙江省", None]))
def test_no_stall_alert_before_its_threshold(limit, fraction, state, province):
    policy = watch_policy(rules_with(stall_hours=limit, provinces={"新疆": {"stall_hours": limit * 2}}), "zhongtong", province)
    assert policy.stall_hours == (limit * 2 if province and province.startswith("新疆") else limit)
    quiet = NOW - timedelta(hours=policy.stall_hours * fraction)
    assert parcel_alerts(parcel(status=state.value, last_event_at=quiet), policy, NOW) == []
    [draft] = parcel_alerts(parcel(status=state.value, last_event_at=NOW - timedelta(hours=policy.stall_hours)), policy, NOW)
    assert f"stall_hours={w._number(policy.stall_hours)}" in draft.rule


@settings(max_examples=200, deadline=None)
@given(promise=hours, warning=st.floats(min_value=0, max_value=48, allow_nan=False), fraction=fractions)
def test_no_promise_alert_before_its_warning_and_broken_only_after_the_promise(promise, warning, fraction):
    policy = watch_policy(rules_with(ship_promise_hours=promise, promise_warning_hours=warning))
    start = max(0.0, promise - warning)
    paid = NOW - timedelta(hours=start * fraction)
    early = order_alerts(OrderFacts("o", os_.WAIT_SELLER_SEND_GOODS, paid), policy, NOW)
    assert early == [] or start == 0
    before_deadline = NOW - timedelta(hours=promise) + timedelta(seconds=1)
    assert "ship_promise_broken" not in kinds(order_alerts(OrderFacts("o", os_.WAIT_SELLER_SEND_GOODS, before_deadline), policy, NOW))
    at_deadline = NOW - timedelta(hours=promise)
    assert kinds(order_alerts(OrderFacts("o", os_.WAIT_SELLER_SEND_GOODS, at_deadline), policy, NOW)) == ["ship_promise_broken"]


@settings(max_examples=100, deadline=None)
@given(
    status=st.sampled_from([None, *[s.value for s in w.ParcelState]]),
    ages=st.lists(st.one_of(st.none(), st.floats(min_value=-10, max_value=2000, allow_nan=False)), min_size=5, max_size=5),
    tracked=st.booleans(),
)
def test_every_draft_is_well_formed(status, ages, tracked):
    shipped, status_at, last, picked, signed = (NOW - timedelta(hours=a) if a is not None else None for a in ages)
    facts = parcel(status=status, shipped_at=shipped, status_at=status_at, last_event_at=last, picked_up_at=picked,
                   signed_at=signed, tracked=tracked)
    drafts = parcel_alerts(facts, watch_policy(shop_rules(None), facts.carrier_code, facts.province), NOW)
    assert len({d.dedupe_key for d in drafts}) == len(drafts)
    for draft in drafts:
        assert draft.kind in w.KINDS and draft.severity in w.SEVERITIES
        assert draft.dedupe_key.startswith(draft.kind + ":") and len(draft.dedupe_key) <= 200
        assert draft.rule and len(draft.rule) <= 200 and draft.shipment_id == facts.shipment_id
