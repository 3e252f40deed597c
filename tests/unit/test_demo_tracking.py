"""The demo shop's carrier scans: deterministic, real Kuaidi100 pushes, a few parcels in trouble, remote ones slower."""

from __future__ import annotations

import json
import re
import statistics
from collections import Counter
from datetime import UTC, date, timedelta

import pytest

from kefu.config import shop_rules
from kefu.demo.generator import SENT, demo_end, generate_demo_shop
from kefu.demo.tracking import (
    KINDS,
    MOVING,
    NO_PICKUP,
    PROBLEM,
    REJECTED,
    REMOTE,
    SIGNED,
    STALLED,
    demo_pushes,
)
from kefu.domain.carriers import carrier_code
from kefu.domain.rules.watch import watch_policy
from kefu.domain.tracking import ParcelState
from kefu.ingest import kuaidi100

TODAY = date(2026, 11, 22)
END = demo_end(TODAY).astimezone(UTC)
ANY_MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
INVENTED_COURIER_PHONE = re.compile(r"^139000000\d\d$")


@pytest.fixture(scope="module")
def shop():
    return generate_demo_shop(seed=7, today=TODAY, customers=2000)


@pytest.fixture(scope="module")
def pushes(shop):
    return demo_pushes(shop)


@pytest.fixture(scope="module")
def updates(pushes):
    return {p.waybill_no: kuaidi100.parse_push(p.param) for p in pushes}


def test_same_shop_gives_the_same_pushes():
    first = generate_demo_shop(seed=11, today=TODAY, customers=300)
    second = generate_demo_shop(seed=11, today=TODAY, customers=300)
    assert demo_pushes(first) == demo_pushes(second)
    other = generate_demo_shop(seed=12, today=TODAY, customers=300)
    assert [p.param for p in demo_pushes(other)] != [p.param for p in demo_pushes(first)]


def test_every_shipped_order_has_one_push_in_kuaidi100_format(shop, pushes, updates):
    shipped = {o.waybill_no: o for o, _lines in shop.orders if o.waybill_no}
    assert sorted(p.waybill_no for p in pushes) == sorted(shipped)
    for push in pushes:
        payload = json.loads(push.param)
        assert payload["status"] in ("polling", "shutdown")
        last = payload["lastResult"]
        assert {"state", "ischeck", "com", "nu", "data"} <= set(last)
        assert last["com"] == carrier_code(shipped[push.waybill_no].carrier) and last["nu"] == push.waybill_no
        times = [item["ftime"] for item in last["data"]]
        assert times == sorted(times, reverse=True), "newest first"
        assert all({"context", "time", "ftime", "status"} <= set(item) for item in last["data"])
        update = updates[push.waybill_no]
        assert update.carrier_code == last["com"] and update.events
        assert all(e.at <= END for e in update.events), "no scan after the demo's end"
        order = shipped[push.waybill_no]
        assert min(e.at for e in update.events) >= order.shipped_at.astimezone(UTC)


def test_finished_orders_end_signed_and_recent_ones_are_on_their_way(shop, pushes, updates):
    kinds = Counter(p.kind for p in pushes)
    assert set(kinds) <= set(KINDS)
    assert kinds[SIGNED] > len(pushes) * 0.9 and kinds[MOVING] > 0
    by_order = {o.order_no: o for o, _lines in shop.orders}
    for push in pushes:
        update = updates[push.waybill_no]
        if by_order[push.order_no].status_text == "交易成功":
            assert push.kind == SIGNED and update.state is ParcelState.SIGNED and update.is_terminal
            assert push.signed_at <= by_order[push.order_no].finished_at
        if push.kind == MOVING:
            assert update.state in (ParcelState.COLLECTED, ParcelState.IN_TRANSIT, ParcelState.OUT_FOR_DELIVERY,
                                    ParcelState.AT_PICKUP_POINT)


def test_a_few_parcels_need_a_person(shop, pushes, updates):
    sent = sum(1 for o, _l in shop.orders if o.status_text == SENT)
    kinds = Counter(p.kind for p in pushes)
    assert max(3, round(sent * 0.01)) <= kinds[STALLED] <= max(3, round(sent * 0.02))
    assert kinds[PROBLEM] >= 3 and 1 <= kinds[REJECTED] <= 2 and kinds[NO_PICKUP] == 1
    rules = shop_rules(None)
    for push in pushes:
        update = updates[push.waybill_no]
        if push.kind == STALLED:
            silence = END - update.latest_event.at
            assert timedelta(hours=60) <= silence <= timedelta(hours=100)
            assert silence > timedelta(hours=watch_policy(rules, push.carrier_code, push.province).stall_hours)
            assert update.state is ParcelState.IN_TRANSIT
        elif push.kind == PROBLEM:
            assert update.state is ParcelState.PROBLEM and update.raw_state.startswith("2")
        elif push.kind == REJECTED:
            assert update.state is ParcelState.REJECTED
        elif push.kind == NO_PICKUP:
            assert update.state is ParcelState.AWAITING_PICKUP and push.picked_up_at is None
            assert END - update.latest_event.at > timedelta(hours=24)


def test_remote_provinces_are_slower_and_shunfeng_fastest(pushes):
    hours: dict[tuple[str, bool], list[float]] = {}
    for push in pushes:
        if push.kind == SIGNED:
            key = (push.carrier_code, push.province in REMOTE)
            hours.setdefault(key, []).append((push.signed_at - push.picked_up_at).total_seconds() / 3600)
    remote = [h for (_c, far), values in hours.items() if far for h in values]
    near = [h for (_c, far), values in hours.items() if not far for h in values]
    assert statistics.mean(remote) > statistics.mean(near) + 36
    medians = {c: statistics.median(v) for (c, far), v in hours.items() if not far and len(v) > 50}
    assert min(medians, key=medians.get) == "shunfeng"
    assert max(medians, key=medians.get) == "youzhengguonei"


def test_courier_phones_are_invented_and_redacted_on_parse(pushes, updates):
    phones = {m for p in pushes for m in ANY_MOBILE.findall(p.param)}
    assert phones and all(INVENTED_COURIER_PHONE.match(phone) for phone in phones)
    assert not any(ANY_MOBILE.search(e.description) for u in updates.values() for e in u.events)
