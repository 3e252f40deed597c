import copy
import json
import logging
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from kefu.adapters.kuaidi100_client import Kuaidi100Client
from kefu.domain import order_status
from kefu.domain.tracking import ParcelState
from kefu.ingest import kdniao, kuaidi100
from kefu.ingest.shopify import parse_webhook
from kefu.services.customer360 import customer_360
from kefu.services.shopify_orders import apply_shopify_event
from kefu.services.tracking import (
    apply_tracking_update,
    receive_push,
    replay_unmatched,
    shipment_timeline,
    subscribe_parcels,
    unmatched_key,
)
from kefu.store.tables import (
    Customer,
    Order,
    Shipment,
    Shop,
    TrackingEventRow,
    WebhookDelivery,
)

S = ParcelState
NOW = datetime(2025, 3, 12, 12, 0, tzinfo=UTC)
WAYBILL = "78901234567890"


def text(fixtures_dir, name):
    return (fixtures_dir / "tracking" / name).read_text(encoding="utf-8")


@pytest.fixture
def track(fixtures_dir):
    """The composed Kuaidi100 push (out for delivery, five lines) as a dict to cut down or extend."""
    return json.loads(text(fixtures_dir, "kuaidi100_out_for_delivery.json"))


def push(payload, *, keep=None, state=None, status=None, ischeck=None, add=()):
    """The push with only the `keep` oldest lines (plus `add`, newest first), as Kuaidi100 param text."""
    payload = copy.deepcopy(payload)
    data = payload["lastResult"]["data"]
    if keep is not None:
        data[:] = data[len(data) - keep:]
    data[:0] = list(add)
    if state is not None:
        payload["lastResult"]["state"] = state
    if status is not None:
        payload["status"] = status
    if ischeck is not None:
        payload["lastResult"]["ischeck"] = ischeck
    return kuaidi100.parse_push(json.dumps(payload, ensure_ascii=False))


SIGNED_LINE = {"context": "【杭州市】已签收，签收人凭取货码签收。", "ftime": "2025-03-12 11:05:00", "status": "签收"}


def add_parcel(session, *, shop="shop-a", order_no="3001", waybill=WAYBILL, carrier="zhongtong", platform="taobao",
               status=order_status.WAIT_BUYER_CONFIRM_GOODS, province="浙江省", customer=None):
    if session.get(Shop, shop) is None:
        session.add(Shop(id=shop, name=f"店 {shop}", platform=platform, created_at=NOW))
        session.flush()
    order_id = f"{shop}:{order_no}"
    session.add(Order(id=order_id, shop_id=shop, platform=platform, order_no=order_no, status=status, source="test",
                      receiver_province=province, customer_id=customer, created_at=NOW - timedelta(days=3)))
    session.flush()
    shipment = Shipment(id=f"{order_id}:{waybill}", shop_id=shop, order_id=order_id, carrier_name="中通快递",
                        carrier_code=carrier, waybill_no=waybill, shipped_at=NOW - timedelta(days=2))
    session.add(shipment)
    session.flush()
    return shipment.id


def apply(store, update, *, source="kuaidi100", shop_id=None, now=NOW):
    with store.session() as session:
        return apply_tracking_update(session, update, source=source, now=now, shop_id=shop_id)


def shipment(store, shipment_id):
    with store.session() as session:
        return session.get(Shipment, shipment_id)


def event_count(store):
    with store.session() as session:
        return session.scalar(select(func.count()).select_from(TrackingEventRow))


def test_pushes_in_order_move_the_parcel_forward_and_fill_the_times(store, track):
    with store.session() as session:
        sid = add_parcel(session)
    collected = apply(store, push(track, keep=1, state="1"))
    assert collected.matched and collected.shipment_ids == (sid,)
    assert (collected.previous_state, collected.state, collected.new_events) == (S.UNKNOWN, S.COLLECTED, 1)
    row = shipment(store, sid)
    assert row.status == "collected" and row.status_at == datetime(2025, 3, 10, 9, 5, 33, tzinfo=UTC)
    assert row.picked_up_at == row.status_at and row.out_for_delivery_at is None and row.signed_at is None
    assert (row.tracking_source, row.subscription_status, row.destination_province) == ("kuaidi100", "polling", "浙江省")

    transit = apply(store, push(track, keep=4, state="0"))
    assert (transit.state, transit.new_events) == (S.IN_TRANSIT, 3)
    delivering = apply(store, push(track))
    assert (delivering.state, delivering.new_events) == (S.OUT_FOR_DELIVERY, 1)
    row = shipment(store, sid)
    assert row.out_for_delivery_at == datetime(2025, 3, 12, 0, 15, 40, tzinfo=UTC) == row.last_event_at == row.status_at

    signed = apply(store, push(track, state="3", ischeck="1", status="shutdown", add=[SIGNED_LINE]))
    assert (signed.state, signed.new_events) == (S.SIGNED, 1)
    row = shipment(store, sid)
    assert row.status == "signed" and row.signed_at == datetime(2025, 3, 12, 3, 5, tzinfo=UTC) == row.last_event_at
    assert row.picked_up_at == datetime(2025, 3, 10, 9, 5, 33, tzinfo=UTC)  # unchanged by later pushes
    assert row.subscription_status == "shutdown"
    assert event_count(store) == 6
    with store.session() as session:
        timeline = shipment_timeline(session, sid)
    assert [e.state for e in timeline][:2] == [S.SIGNED, S.OUT_FOR_DELIVERY]
    assert [e.at for e in timeline] == sorted((e.at for e in timeline), reverse=True)


def test_an_out_of_order_push_never_moves_the_parcel_back(store, track):
    with store.session() as session:
        sid = add_parcel(session)
    apply(store, push(track))  # out for delivery
    before = shipment(store, sid)
    late = apply(store, push(track, keep=4, state="0"))  # the older in-transit push arrives afterwards
    assert (late.state, late.previous_state, late.new_events, late.changed) == (S.OUT_FOR_DELIVERY, S.OUT_FOR_DELIVERY, 0, False)
    after = shipment(store, sid)
    assert (after.status, after.status_at, after.last_event_at) == ("out_for_delivery", before.status_at, before.last_event_at)


def test_an_older_push_cannot_swap_peer_states(store, track):
    with store.session() as session:
        sid = add_parcel(session)
    apply(store, push(track, keep=4, state="0"))  # in transit
    stale = apply(store, push(track, keep=3, state="8"))  # an older push saying customs, a peer of in transit
    assert stale.state is S.IN_TRANSIT and shipment(store, sid).status == "in_transit"
    newer = apply(store, push(track, keep=4, state="8"))  # as new as the stored track: the latest report wins
    assert newer.state is S.CUSTOMS


def test_a_repeated_push_and_updateall_add_nothing(store, track):
    with store.session() as session:
        sid = add_parcel(session)
    first = apply(store, push(track))
    again = apply(store, push(track))
    everything = apply(store, push(track, status="updateall"))
    assert (first.new_events, again.new_events, everything.new_events) == (5, 0, 0)
    assert event_count(store) == 5
    row = shipment(store, sid)
    assert row.status == "out_for_delivery" and row.subscription_status == "updateall"


def test_a_push_for_an_unknown_waybill_is_kept_and_replayed_after_the_import(store, track, caplog):
    with caplog.at_level(logging.INFO, logger="kefu.services.tracking"):
        result = apply(store, push(track))
    assert not result.matched and result.state is None and result.shipment_ids == ()
    assert WAYBILL in caplog.text
    assert event_count(store) == 0
    key = unmatched_key("kuaidi100", "zhongtong", WAYBILL)
    with store.session() as session:
        kept = session.get(WebhookDelivery, key)
        assert kept.status == "unmatched" and kept.topic == "parcel"
        assert "13900000000" not in kept.error and "139****0000" in kept.error
    apply(store, push(track, add=[SIGNED_LINE], state="3", ischeck="1"))  # a later push: tracks merged
    with store.session() as session:
        assert len(json.loads(session.get(WebhookDelivery, key).error)["update"]["events"]) == 6

    with store.session() as session:
        assert replay_unmatched(session, now=NOW) == []  # still no such parcel
        sid = add_parcel(session)  # the seller imports the order
    with store.session() as session:
        (replayed,) = replay_unmatched(session, now=NOW)
    assert replayed.shipment_ids == (sid,) and replayed.state is S.SIGNED and replayed.new_events == 6
    with store.session() as session:
        kept = session.get(WebhookDelivery, key)
        assert kept.status == "replayed" and kept.error is None
        assert replay_unmatched(session, now=NOW) == []


def test_an_abort_with_a_carrier_correction_updates_the_carrier(store, fixtures_dir):
    with store.session() as session:
        sid = add_parcel(session, waybill="78901234567891", carrier="yuantong")
    update = kuaidi100.parse_push(text(fixtures_dir, "kuaidi100_abort_corrected.json"))
    result = apply(store, update)
    assert result.matched and result.carrier_corrected_to == "zhongtong"
    row = shipment(store, sid)
    assert (row.carrier_code, row.carrier_name, row.subscription_status) == ("zhongtong", "中通", "abort")
    assert row.status == "unknown" and row.signed_at is None
    # the next push already uses the corrected carrier and still finds the parcel
    again = apply(store, update)
    assert again.shipment_ids == (sid,) and again.carrier_corrected_to is None


def test_phone_numbers_never_reach_the_store(store, track):
    with store.session() as session:
        add_parcel(session)
    apply(store, push(track))
    with store.session() as session:
        stored = " ".join(session.scalars(select(TrackingEventRow.description)))
    assert "13900000000" not in stored and "020-00000000" not in stored
    assert "139****0000" in stored and "0**-********" in stored


def test_both_services_share_one_track(store, fixtures_dir):
    with store.session() as session:
        sid = add_parcel(session)
    apply(store, kuaidi100.parse_push(text(fixtures_dir, "kuaidi100_out_for_delivery.json")))
    first, unknown = kdniao.parse_push(text(fixtures_dir, "kdniao_push.json"))
    from_kdniao = apply(store, first, source="kdniao")
    assert from_kdniao.new_events == 2  # three lines are worded alike in both services
    assert apply(store, unknown, source="kdniao").matched is False
    row = shipment(store, sid)
    assert row.status == "out_for_delivery" and row.tracking_source == "kdniao" and row.subscription_status == "polling"


def test_the_shop_scopes_the_waybill_and_a_shared_waybill_moves_every_order(store, track):
    with store.session() as session:
        a1 = add_parcel(session, shop="shop-a", order_no="1")
        a2 = add_parcel(session, shop="shop-a", order_no="2")  # 合并发货: two orders, one parcel
        b = add_parcel(session, shop="shop-b", order_no="1", carrier=None)
    result = apply(store, push(track), shop_id="shop-a")
    assert result.shipment_ids == (a1, a2) and result.new_events == 5
    assert shipment(store, a2).status == "out_for_delivery" and shipment(store, b).status is None
    with store.session() as session:
        assert len(shipment_timeline(session, a1)) == len(shipment_timeline(session, a2)) == 5
        assert shipment_timeline(session, b) == []
    # without a shop the carrier decides; a parcel with no carrier is found by its waybill alone
    assert apply(store, push(track)).shipment_ids == (a1, a2)
    fallback = apply(store, push(track), shop_id="shop-b")
    assert fallback.shipment_ids == (b,) and shipment(store, b).carrier_code == "zhongtong"


def test_the_order_moves_forward_but_signing_never_finishes_it(store, track):
    with store.session() as session:
        sid = add_parcel(session, status=order_status.WAIT_SELLER_SEND_GOODS)
    apply(store, push(track, keep=1, state="1"))
    with store.session() as session:
        order = session.get(Order, "shop-a:3001")
        assert order.status == order_status.WAIT_BUYER_CONFIRM_GOODS
        assert order.shipped_at == shipment(store, sid).shipped_at
    apply(store, push(track, state="3", ischeck="1", add=[SIGNED_LINE]))
    with store.session() as session:
        assert session.get(Order, "shop-a:3001").status == order_status.WAIT_BUYER_CONFIRM_GOODS
    assert shipment(store, sid).status == "signed"


def test_receive_push_dedupes_deliveries_and_records_each(store, track):
    with store.session() as session:
        add_parcel(session)
    param = json.dumps(track, ensure_ascii=False)
    body = param.encode()
    parse = lambda: [kuaidi100.parse_push(param)]
    first = receive_push(store, source="kuaidi100", body=body, parse=parse, now=NOW)
    again = receive_push(store, source="kuaidi100", body=body, parse=parse, now=NOW)
    assert (first.status, len(first.results), again.status) == ("processed", 1, "duplicate")
    other = copy.deepcopy(track)
    other["lastResult"]["nu"] = "YT0000000000009"
    other_param = json.dumps(other)
    unmatched = receive_push(store, source="kuaidi100", body=other_param.encode(),
                             parse=lambda: [kuaidi100.parse_push(other_param)], now=NOW)
    assert unmatched.status == "unmatched" and "YT0000000000009" in unmatched.detail
    bad = receive_push(store, source="kuaidi100", body=b"param=x", parse=lambda: [kuaidi100.parse_push("x")], now=NOW)
    assert bad.status == "rejected" and not bad.accepted and "param" in bad.detail
    with store.session() as session:
        pushes = {r.status for r in session.scalars(select(WebhookDelivery).where(WebhookDelivery.topic == "push"))}
    assert pushes == {"processed", "unmatched", "failed"}


def test_shopify_fulfillments_move_the_same_parcel(store, fixtures_dir, track):
    def shopify(topic, name, **changes):
        payload = json.loads((fixtures_dir / "shopify" / name).read_text(encoding="utf-8"))
        payload.update(changes)
        with store.session() as session:
            return apply_shopify_event(session, "kefu-test.myshopify.com", parse_webhook(topic, payload))

    applied = shopify("orders/create", "order_paid.json")
    shopify("fulfillments/create", "fulfillment_delivered.json", shipment_status="in_transit",
            updated_at="2025-03-12T09:00:00+08:00")
    sid = f"{applied.order_id}:SF1400000000001"
    row = shipment(store, sid)
    assert (row.status, row.tracking_source, row.carrier_code) == ("in_transit", "shopify", "shunfeng")
    assert row.destination_province == "Zhejiang"
    shopify("fulfillments/update", "fulfillment_delivered.json")
    row = shipment(store, sid)
    assert row.status == "signed" and row.signed_at == datetime(2025, 3, 14, 3, 30, tzinfo=UTC)
    # a late carrier push for the same waybill cannot move it back
    late = copy.deepcopy(track)
    late["lastResult"].update(com="shunfeng", nu="SF1400000000001")
    apply(store, kuaidi100.parse_push(json.dumps(late)))
    assert shipment(store, sid).status == "signed"
    with store.session() as session:
        assert session.get(Order, applied.order_id).status == order_status.TRADE_FINISHED  # Shopify's own rule


def test_the_360_timeline_shows_parcel_scans(store, track):
    with store.session() as session:
        session.add(Shop(id="shop-a", name="店 shop-a", platform="taobao", created_at=NOW))
        session.flush()
        session.add(Customer(id="c1", shop_id="shop-a", platform="taobao", buyer_key="tb_kitty", buyer_nick="tb_kitty",
                             created_at=NOW))
        session.flush()
        add_parcel(session, customer="c1")
    apply(store, push(track))
    with store.session() as session:
        view = customer_360(session, "c1")
    parcels = [e for e in view.timeline if e.kind == "parcel"]
    assert len(parcels) == 5 and all(e.order_id == "shop-a:3001" for e in parcels)
    assert parcels[0].text.startswith("派件中 · ") and "139****0000" in parcels[0].text
    assert all("13900000000" not in e.text for e in view.timeline)
    assert view.to_json()["timeline"][0]["kind"] == "parcel"


# ---- subscribing ----


def kuaidi100_answering(code="200"):
    seen = []

    def handler(request):
        seen.append(request)
        return httpx.Response(200, json={"result": code == "200", "returnCode": code, "message": "ok"})

    return seen, httpx.Client(transport=httpx.MockTransport(handler))


def test_subscribe_parcels_picks_shipped_unsigned_unwatched_parcels(store):
    with store.session() as session:
        fresh = add_parcel(session, order_no="1", waybill="ZT1")
        aborted = add_parcel(session, order_no="2", waybill="ZT2")
        watched = add_parcel(session, order_no="3", waybill="ZT3")
        signed = add_parcel(session, order_no="4", waybill="ZT4")
        old = add_parcel(session, order_no="5", waybill="ZT5")
        session.get(Shipment, aborted).subscription_status = "abort"
        session.get(Shipment, watched).subscription_status = "polling"
        session.get(Shipment, signed).status = "signed"
        session.get(Shipment, old).shipped_at = NOW - timedelta(days=90)
    seen, http = kuaidi100_answering()
    client = Kuaidi100Client("KEY", "salt", "https://kefu.example.com/webhooks/kuaidi100", http)
    with store.session() as session:
        report = subscribe_parcels(session, client, since=NOW - timedelta(days=30))
    assert report.counts == {"subscribed": 2} and report.problems == [] and report.stopped is None
    assert [json.loads(dict(httpx.QueryParams(r.content.decode()))["param"])["number"] for r in seen] == ["ZT1", "ZT2"]
    assert shipment(store, fresh).subscription_status == shipment(store, aborted).subscription_status == "polling"

    off = Kuaidi100Client(None, "salt", "https://h/cb", http)
    with store.session() as session:
        report = subscribe_parcels(session, off, since=NOW - timedelta(days=30))
    assert report.total == 0 and "KEFU_KUAIDI100_KEY" in report.stopped


def test_subscribe_stops_at_a_bad_key(store):
    with store.session() as session:
        add_parcel(session, order_no="1", waybill="ZT1")
        add_parcel(session, order_no="2", waybill="ZT2")
    seen, http = kuaidi100_answering("600")
    with store.session() as session:
        report = subscribe_parcels(session, Kuaidi100Client("BAD", "s", "https://h/cb", http), since=NOW - timedelta(days=30))
    assert len(seen) == 1 and report.counts == {"bad_key": 1} and "KEFU_KUAIDI100_KEY" in report.stopped


def test_cli_track_subscribe(sqlite_store, monkeypatch):
    from kefu.cli import app
    from kefu.cli import tracking as cli_tracking

    with sqlite_store.session() as session:
        sid = add_parcel(session, order_no="1", waybill="ZT1")
        session.get(Shipment, sid).shipped_at = datetime.now(UTC) - timedelta(days=1)
    url = sqlite_store.engine.url.render_as_string(hide_password=False)
    runner = CliRunner()
    for name in ("KEFU_KUAIDI100_KEY", "KEFU_KUAIDI100_SALT", "KEFU_KUAIDI100_CALLBACK_URL"):
        monkeypatch.delenv(name, raising=False)
    off = runner.invoke(app, ["--db", url, "track", "subscribe"])
    assert off.exit_code == 0 and "KEFU_KUAIDI100_KEY" in off.output

    seen, http = kuaidi100_answering()
    monkeypatch.setattr(cli_tracking, "http_client", lambda: http)
    monkeypatch.setenv("KEFU_KUAIDI100_KEY", "KEY")
    monkeypatch.setenv("KEFU_KUAIDI100_SALT", "salt")
    monkeypatch.setenv("KEFU_KUAIDI100_CALLBACK_URL", "https://kefu.example.com/webhooks/kuaidi100")
    done = runner.invoke(app, ["--db", url, "track", "subscribe", "--shop", "shop-a", "--since", "7", "--json"])
    assert done.exit_code == 0, done.output
    assert json.loads(done.output)["counts"] == {"subscribed": 1}
    param = json.loads(dict(httpx.QueryParams(seen[0].content.decode()))["param"])
    assert param["parameters"]["callbackurl"] == "https://kefu.example.com/webhooks/kuaidi100?shop=shop-a"
    assert shipment(sqlite_store, sid).subscription_status == "polling"
    replay = runner.invoke(app, ["--db", url, "track", "replay"])
    assert replay.exit_code == 0 and "matched: 0" in replay.output


def test_a_push_that_came_before_its_order_is_applied_by_the_import(store, tmp_path):
    from pathlib import Path

    from sqlalchemy import select

    from kefu.ingest import kuaidi100
    from kefu.services.import_orders import import_taobao_files
    from kefu.services.tracking import apply_tracking_update
    from kefu.store.tables import Shipment

    param = (
        '{"status":"polling","message":"","lastResult":{"message":"ok","state":"0","status":"200","ischeck":"0",'
        '"com":"zhongtong","nu":"78901234567890","data":[{"context":"【广州市】快件离开 广州转运中心",'
        '"time":"2025-03-12 06:02:11","ftime":"2025-03-12 06:02:11"}]}}'
    )
    with store.session() as session:
        result = apply_tracking_update(session, kuaidi100.parse_push(param), source="kuaidi100", now=NOW)
        assert not result.matched
    fixture = Path(__file__).parent.parent / "fixtures" / "taobao" / "ExportOrderList202503121030.csv"
    import_taobao_files(store, [fixture], "测试店")
    with store.session() as session:
        parcel = session.scalar(select(Shipment).where(Shipment.waybill_no == "78901234567890"))
        assert parcel.status == "in_transit" and parcel.last_event_at is not None
