"""The watch sweep on SQLite and PostgreSQL: alerts raised once, cleared when their condition goes, and the queue."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from kefu.cli import app as cli_app
from kefu.domain import order_status as os_
from kefu.domain.rules.watch import AlertDraft
from kefu.ids import customer_id as make_customer_id
from kefu.services.customer360 import customer_360
from kefu.services.shops import get_or_create_shop
from kefu.services.watch import (
    AlertNotFound,
    acknowledge_alert,
    insert_ignoring,
    list_alerts,
    open_alert_count,
    queue_options,
    raise_alerts,
    resolve_alert,
    sweep,
    sweep_shops,
)
from kefu.store.tables import Alert, Customer, Order, OrderRequirement, Shipment

NOW = datetime(2025, 3, 20, 12, 0, tzinfo=UTC)
H = timedelta(hours=1)


def add_order(session, shop_id, no, *, status=os_.WAIT_BUYER_CONFIRM_GOODS, nick="tb_买家", province="浙江省", **fields):
    cid = make_customer_id(shop_id, "taobao", nick)
    if session.get(Customer, cid) is None:
        session.add(Customer(id=cid, shop_id=shop_id, platform="taobao", buyer_key=nick, buyer_nick=nick, created_at=NOW))
        session.flush()
    oid = f"{shop_id}:{no}"
    session.add(Order(id=oid, shop_id=shop_id, platform="taobao", order_no=no, customer_id=cid, buyer_nick=nick,
                      status=status, source="test", receiver_province=province, created_at=NOW - 200 * H, **fields))
    session.flush()
    return oid


def add_parcel(session, shop_id, order_id, waybill, *, carrier="zhongtong", **fields):
    sid = f"{order_id}:{waybill}"
    session.add(Shipment(id=sid, shop_id=shop_id, order_id=order_id, carrier_code=carrier, waybill_no=waybill, **fields))
    session.flush()
    return sid


@pytest.fixture
def shop(store):
    """One parcel or order for every rule, and some that call for nothing."""
    with store.session() as s:
        shop_id = get_or_create_shop(s, "监控店").id
        ids = {}
        o = add_order(s, shop_id, "1001", province="新疆维吾尔自治区")
        ids["stall"] = add_parcel(s, shop_id, o, "ZT-STALL", status="in_transit", shipped_at=NOW - 150 * H,
                                  picked_up_at=NOW - 149 * H, last_event_at=NOW - 100 * H)  # 新疆: 96 h
        o = add_order(s, shop_id, "1002", province="新疆")
        ids["moving"] = add_parcel(s, shop_id, o, "ZT-MOVING", status="in_transit", shipped_at=NOW - 90 * H,
                                   picked_up_at=NOW - 89 * H, last_event_at=NOW - 90 * H)  # under 96 h: fine
        o = add_order(s, shop_id, "1003")
        ids["fake"] = add_parcel(s, shop_id, o, "YT-FAKE", carrier="yuantong", status="awaiting_pickup",
                                 shipped_at=NOW - 30 * H, tracking_source="kuaidi100")
        o = add_order(s, shop_id, "1004")
        ids["untracked"] = add_parcel(s, shop_id, o, "YT-UNTRACKED", carrier="yuantong", shipped_at=NOW - 30 * H)
        o = add_order(s, shop_id, "1005")
        ids["problem"] = add_parcel(s, shop_id, o, "ST-PROBLEM", carrier="shentong", status="problem",
                                    status_at=NOW - 5 * H, last_event_at=NOW - 5 * H, picked_up_at=NOW - 40 * H)
        o = add_order(s, shop_id, "1006", status=os_.TRADE_BUYER_SIGNED)
        ids["signed"] = add_parcel(s, shop_id, o, "SF-SIGNED", carrier="shunfeng", status="signed",
                                   signed_at=NOW - 10 * H, last_event_at=NOW - 10 * H, picked_up_at=NOW - 40 * H)
        o = add_order(s, shop_id, "1007", status=os_.TRADE_FINISHED)
        add_parcel(s, shop_id, o, "SF-OLD-SIGNED", carrier="shunfeng", status="signed", signed_at=NOW - 500 * H,
                   last_event_at=NOW - 500 * H)
        ids["due"] = add_order(s, shop_id, "2001", status=os_.WAIT_SELLER_SEND_GOODS, paid_at=NOW - 44 * H)
        ids["late"] = add_order(s, shop_id, "2002", status=os_.WAIT_SELLER_SEND_GOODS, paid_at=NOW - 50 * H)
        add_order(s, shop_id, "2003", status=os_.WAIT_SELLER_SEND_GOODS, paid_at=NOW - 10 * H)  # in time
        o = add_order(s, shop_id, "3001")
        s.add(OrderRequirement(id="req-1", shop_id=shop_id, order_id=o, kind="courier_excluded", value="shentong",
                               source="buyer_message", source_text="不要发申通", created_at=NOW))
        ids["conflict"] = add_parcel(s, shop_id, o, "ST-CONFLICT", carrier="shentong", status="in_transit",
                                     shipped_at=NOW - 3 * H, picked_up_at=NOW - 2 * H, last_event_at=NOW - 2 * H)
        return shop_id, ids


def alerts_of(store, shop_id):
    with store.session() as s:
        return list(s.scalars(select(Alert).where(Alert.shop_id == shop_id).order_by(Alert.kind, Alert.dedupe_key)))


def test_sweep_raises_one_alert_per_condition(store, shop):
    shop_id, ids = shop
    with store.session() as s:
        result = sweep(s, shop_id, now=NOW)
    assert result.raised_by_kind == {"stall": 1, "fake_shipping": 1, "exception": 1, "signed": 1,
                                     "ship_promise_due": 1, "ship_promise_broken": 1, "courier_conflict": 1}
    assert result.raised == 7 and result.live == 7 and result.resolved == 0
    by_kind = {a.kind: a for a in alerts_of(store, shop_id)}
    stall = by_kind["stall"]
    assert stall.shipment_id == ids["stall"] and stall.order_id == f"{shop_id}:1001"
    assert stall.customer_id == make_customer_id(shop_id, "taobao", "tb_买家")
    assert stall.rule == "物流停滞: 最后一次扫描已过 100 小时 (规则 stall_hours=96, 中通→新疆)"
    assert stall.severity == "warning" and stall.status == "open" and stall.raised_at == NOW
    assert stall.due_at == NOW - 100 * H + 96 * H + 12 * H
    assert stall.detail["limit"] == 96 and stall.detail["province"] == "新疆"
    assert by_kind["fake_shipping"].shipment_id == ids["fake"]  # the untracked parcel is not judged
    assert by_kind["fake_shipping"].rule == "揽收超时: 已发货 30 小时无揽收扫描 (规则 pickup_hours=24, 圆通→浙江)"
    assert by_kind["ship_promise_due"].order_id == ids["due"] and by_kind["ship_promise_broken"].order_id == ids["late"]
    assert by_kind["courier_conflict"].severity == "critical" and "买家不要申通" in by_kind["courier_conflict"].rule


def test_a_second_sweep_adds_nothing(store, shop):
    shop_id, _ = shop
    with store.session() as s:
        sweep(s, shop_id, now=NOW)
    with store.session() as s:
        again = sweep(s, shop_id, now=NOW + timedelta(minutes=10))
    assert again.raised == 0 and again.resolved == 0 and again.live == 7
    assert len(alerts_of(store, shop_id)) == 7


def test_a_stalled_parcel_that_moves_is_resolved_and_a_new_stall_is_a_new_alert(store, shop):
    shop_id, ids = shop
    with store.session() as s:
        sweep(s, shop_id, now=NOW)
    with store.session() as s:
        s.get(Shipment, ids["stall"]).last_event_at = NOW + H
    with store.session() as s:
        moved = sweep(s, shop_id, now=NOW + 2 * H)
    assert moved.resolved == 1 and moved.raised == 0
    [old] = [a for a in alerts_of(store, shop_id) if a.kind == "stall"]
    assert old.status == "resolved" and old.resolved_by == "sweep" and old.resolved_at == NOW + 2 * H
    with store.session() as s:
        stalled_again = sweep(s, shop_id, now=NOW + 100 * H)
    stalls = [a for a in alerts_of(store, shop_id) if a.kind == "stall"]
    assert stalled_again.raised_by_kind.get("stall") == 3  # this parcel again, and two that were moving before
    assert sorted(a.status for a in stalls if a.shipment_id == ids["stall"]) == ["open", "resolved"]


def test_a_shipped_order_clears_its_promise_alerts_and_a_near_promise_turns_into_a_broken_one(store, shop):
    shop_id, ids = shop
    with store.session() as s:
        sweep(s, shop_id, now=NOW)
    with store.session() as s:
        s.get(Order, ids["late"]).status = os_.WAIT_BUYER_CONFIRM_GOODS
    with store.session() as s:
        later = sweep(s, shop_id, now=NOW + 5 * H)  # the "due" order passes its 48 h promise
    assert later.raised_by_kind == {"ship_promise_broken": 1}
    promise = {(a.kind, a.order_id): a for a in alerts_of(store, shop_id) if a.kind.startswith("ship_promise")}
    assert promise[("ship_promise_broken", ids["late"])].status == "resolved"
    assert promise[("ship_promise_due", ids["due"])].status == "resolved"
    assert promise[("ship_promise_broken", ids["due"])].status == "open"


def test_an_alert_resolved_by_hand_is_not_raised_again(store, shop):
    shop_id, _ = shop
    with store.session() as s:
        sweep(s, shop_id, now=NOW)
        fake = s.scalar(select(Alert).where(Alert.kind == "fake_shipping"))
        resolve_alert(s, fake.id, "xiaomei", now=NOW + H)
    with store.session() as s:
        again = sweep(s, shop_id, now=NOW + 2 * H)
    assert again.raised == 0
    fake = [a for a in alerts_of(store, shop_id) if a.kind == "fake_shipping"]
    assert len(fake) == 1 and fake[0].resolved_by == "xiaomei"


def test_signed_alerts_leave_the_queue_after_the_care_window(store, shop):
    shop_id, _ = shop
    with store.session() as s:
        sweep(s, shop_id, now=NOW)
    with store.session() as s:
        sweep(s, shop_id, now=NOW + 70 * H)
    [signed] = [a for a in alerts_of(store, shop_id) if a.kind == "signed"]
    assert signed.status == "resolved" and signed.resolved_by == "sweep"


def test_a_live_alert_outside_the_look_back_stays_while_its_condition_holds(store, shop):
    shop_id, _ = shop
    with store.session() as s:
        sweep(s, shop_id, now=NOW)
    with store.session() as s:
        far = sweep(s, shop_id, now=NOW + 2000 * H)  # every subject is older than the 720 h look-back now
    problem = [a for a in alerts_of(store, shop_id) if a.kind == "exception"]
    assert problem[0].status == "open"
    assert far.raised == 0


def test_shop_settings_change_the_numbers_and_the_kinds(store, shop):
    shop_id, _ = shop
    from kefu.store.tables import Shop

    with store.session() as s:
        s.get(Shop, shop_id).settings = {"watch": {"stall_hours": 200, "provinces": {},
                                                   "kinds": ["stall", "fake_shipping"]}}
    with store.session() as s:
        result = sweep(s, shop_id, now=NOW)
    assert result.raised_by_kind == {"fake_shipping": 1}


def test_shops_are_swept_apart(store, shop):
    shop_id, _ = shop
    with store.session() as s:
        other = get_or_create_shop(s, "别的店").id
        o = add_order(s, other, "9001", nick="tb_别人")
        add_parcel(s, other, o, "ZT-OTHER", status="in_transit", last_event_at=NOW - 60 * H)
    with store.session() as s:
        assert sweep(s, other, now=NOW).raised == 1
    assert alerts_of(store, shop_id) == []
    results = sweep_shops(store, now=NOW)
    assert {r.shop_id: r.raised for r in results} == {shop_id: 7, other: 0}


def test_sweep_takes_a_connection_too(store, shop):
    shop_id, _ = shop
    with store.engine.begin() as conn:
        assert sweep(conn, shop_id, now=NOW).raised == 7


def test_a_broken_shop_configuration_does_not_stop_the_others(store, shop):
    shop_id, _ = shop

    with store.session() as s:
        bad = get_or_create_shop(s, "坏配置店")
        bad.settings = {"watch": {"stall_hours": "soon"}}
    errors = []
    results = sweep_shops(store, now=NOW, on_error=lambda sid, exc: errors.append((sid, str(exc))))
    assert [r.shop_id for r in results] == [shop_id]
    assert errors and "watch.stall_hours" in errors[0][1]
    with pytest.raises(ValueError):
        sweep_shops(store, now=NOW, shop_ids=[errors[0][0]])


def test_the_same_key_is_never_inserted_twice(store, shop):
    shop_id, ids = shop
    draft = AlertDraft("stall", "warning", "stall:x", NOW, "rule", order_id=None, shipment_id=ids["stall"])
    with store.session() as s:
        assert len(raise_alerts(s.connection(), shop_id, [draft, draft], NOW)) == 1
        assert raise_alerts(s.connection(), shop_id, [draft], NOW) == []
        row = {"id": "dup", "shop_id": shop_id, "kind": "stall", "severity": "warning", "status": "open",
               "dedupe_key": "stall:x", "raised_at": NOW}
        s.connection().execute(insert_ignoring(s.connection(), Alert.__table__, "dedupe_key"), [row])
        assert s.scalar(select(func.count()).select_from(Alert).where(Alert.dedupe_key == "stall:x")) == 1


# ---------------------------------------------------------------- the queue


def test_queue_filters_order_and_actions(store, shop):
    shop_id, ids = shop
    with store.session() as s:
        sweep(s, shop_id, now=NOW)
    with store.session() as s:
        everything = list_alerts(s, shop_id=shop_id)
        assert everything.total == 7
        assert [r.alert.severity for r in everything.items][:3] == ["critical"] * 3  # most severe first
        assert list_alerts(s, shop_id=shop_id, kind="stall").items[0].waybill_no == "ZT-STALL"
        assert list_alerts(s, shop_id=shop_id, carrier="中通").total == 1
        assert list_alerts(s, shop_id=shop_id, carrier="shentong").total == 2
        assert list_alerts(s, shop_id=shop_id, province="新疆维吾尔自治区").total == 1
        assert list_alerts(s, shop_id=shop_id, province="新疆").items[0].province == "新疆维吾尔自治区"
        assert list_alerts(s, shop_id=shop_id, order_id=ids["due"]).total == 1
        row = list_alerts(s, shop_id=shop_id, kind="stall").items[0]
        assert row.buyer_nick == "tb_买家" and row.order_label == "1001"
        options = queue_options(s, shop_id)
        assert options["kinds"][0] == "fake_shipping" and "新疆" in options["provinces"]
        assert "zhongtong" in options["carriers"]
        assert open_alert_count(s, shop_id) == 7
        stall_id = row.alert.id
        acknowledge_alert(s, stall_id, "xiaomei", now=NOW)
    with store.session() as s:
        assert open_alert_count(s, shop_id) == 6
        assert list_alerts(s, shop_id=shop_id, status="acknowledged").items[0].alert.detail["acknowledged_by"] == "xiaomei"
        resolve_alert(s, stall_id, "xiaomei", now=NOW)
        acknowledge_alert(s, stall_id, "boss")  # a resolved alert stays resolved
    with store.session() as s:
        assert s.get(Alert, stall_id).status == "resolved"
        assert list_alerts(s, shop_id=shop_id).total == 6
        assert list_alerts(s, shop_id=shop_id, status="resolved").total == 1
        assert list_alerts(s, shop_id=shop_id, status="all").total == 7
        with pytest.raises(AlertNotFound):
            resolve_alert(s, "nope", "boss")


def test_alerts_show_on_the_customer_timeline(store, shop):
    shop_id, _ = shop
    with store.session() as s:
        sweep(s, shop_id, now=NOW)
    with store.session() as s:
        view = customer_360(s, make_customer_id(shop_id, "taobao", "tb_买家"))
    alerts = [e for e in view.timeline if e.kind == "alert"]
    assert len(alerts) == 7
    assert any(e.text.startswith("物流停滞") and e.order_id == f"{shop_id}:1001" for e in alerts)
    assert [e.at for e in view.timeline] == sorted((e.at for e in view.timeline), reverse=True)


def test_cli_sweep(sqlite_store, tmp_path):
    with sqlite_store.session() as s:
        shop_id = get_or_create_shop(s, "命令行店").id
        o = add_order(s, shop_id, "1")
        add_parcel(s, shop_id, o, "ZT1", status="in_transit", last_event_at=datetime.now(UTC) - 60 * H)
    runner = CliRunner()
    out = runner.invoke(cli_app, ["--db", sqlite_store.url, "watch", "sweep", "--shop", "命令行店", "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert data["results"][0]["raised_by_kind"] == {"stall": 1} and data["errors"] == []
    table = runner.invoke(cli_app, ["--db", sqlite_store.url, "watch", "sweep"])
    assert table.exit_code == 0 and "新提醒" in table.output
    missing = runner.invoke(cli_app, ["--db", sqlite_store.url, "watch", "sweep", "--shop", "没有这家"])
    assert missing.exit_code == 1
