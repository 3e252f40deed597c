"""The set-based landing of push batches (tracking_batch, kefu.store.bulk) on SQLite and PostgreSQL: lifecycle messages,
out-of-order pushes inside one batch, concurrent batches of the same parcels, and the bulk row writers themselves."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from kefu.domain.tracking import ParcelState, TrackingEvent, TrackingUpdate
from kefu.ingest import kuaidi100
from kefu.services.tracking import IncomingPush, receive_push, receive_pushes
from kefu.store.bulk import insert_rows, update_rows
from kefu.store.messaging_tables import OutboxMessage
from kefu.store.tables import Shipment, Shop, TrackingEventRow, WebhookDelivery
from messaging_helpers import NOW, add_buyer, add_order, add_parcel, make_shop

H = timedelta(hours=1)
FIELDS = ("status", "status_at", "last_event_at", "picked_up_at", "out_for_delivery_at", "signed_at", "destination_province",
          "tracking_source", "subscription_status", "carrier_code", "carrier_name")


def _update(waybill: str, state: ParcelState, at: datetime, text: str) -> TrackingUpdate:
    event = TrackingEvent("zhongtong", waybill, at, state, "x", text)
    return TrackingUpdate("zhongtong", waybill, state, "x", state is ParcelState.SIGNED, (event,))


def _incoming(update: TrackingUpdate, tag: str) -> IncomingPush:
    return IncomingPush(body=f"{tag}:{update.waybill_no}:{update.state}".encode(), parse=lambda: [update])


def test_a_batch_queues_out_for_delivery_and_signed_care_like_the_single_path(store):
    with store.session() as s:
        shop_id = make_shop(s, messaging={"quiet_purposes": []})
        cid = add_buyer(s, shop_id, consent=True)
        oid = add_order(s, shop_id, "9001", cid, paid_at=NOW - 50 * H, shipped_at=NOW - 40 * H)
        add_parcel(s, shop_id, oid, "ZT9", status="in_transit", shipped_at=NOW - 40 * H)
    delivering = _update("ZT9", ParcelState.OUT_FOR_DELIVERY, NOW - H, "派送中")
    outcomes = receive_pushes(store, source="kuaidi100", pushes=[_incoming(delivering, "a"), _incoming(delivering, "b")], now=NOW)
    assert [o.status for o in outcomes] == ["processed", "processed"]
    assert [o.results[0].new_events for o in outcomes] == [1, 0]
    receive_pushes(store, source="kuaidi100", pushes=[_incoming(_update("ZT9", ParcelState.SIGNED, NOW, "已签收"), "c")], now=NOW)
    with store.session() as s:
        sent = sorted((m.event, m.status) for m in s.scalars(select(OutboxMessage)))
        parcel = s.scalar(select(Shipment).where(Shipment.waybill_no == "ZT9"))
    assert sent == [("parcel.out_for_delivery", "queued"), ("parcel.signed", "queued")]
    assert (parcel.status, parcel.out_for_delivery_at, parcel.signed_at) == ("signed", NOW - H, NOW)


def _kuaidi100_param(waybill: str, payload: dict) -> str:
    payload = json.loads(json.dumps(payload))
    payload["lastResult"]["nu"] = waybill
    return json.dumps(payload, ensure_ascii=False)


def test_an_older_push_in_the_same_batch_never_moves_the_parcel_back(store, fixtures_dir):
    newer = json.loads((fixtures_dir / "tracking" / "kuaidi100_out_for_delivery.json").read_text(encoding="utf-8"))
    older = json.loads(json.dumps(newer))
    older["lastResult"].update(state="0", data=older["lastResult"]["data"][2:])
    with store.session() as s:
        s.add(Shop(id="shop-a", name="店 A", platform="taobao", created_at=NOW))
        s.flush()
        cid = add_buyer(s, "shop-a")
        for no, waybill in (("1", "ZT001"), ("2", "ZT002")):
            add_order(s, "shop-a", no, cid, status="WAIT_SELLER_SEND_GOODS")
            add_parcel(s, "shop-a", f"shop-a:{no}", waybill, shipped_at=NOW - 40 * H)
    texts = [_kuaidi100_param("ZT001", p) for p in (newer, older)]
    for text in texts:  # one by one, as the single path lands them
        receive_push(store, source="kuaidi100", body=text.encode(), parse=lambda t=text: [kuaidi100.parse_push(t)], now=NOW)
    batch = [_kuaidi100_param("ZT002", p) for p in (newer, older)]
    outcomes = receive_pushes(store, source="kuaidi100", now=NOW, pushes=[
        IncomingPush(body=t.encode(), parse=lambda t=t: [kuaidi100.parse_push(t)]) for t in batch])
    assert [o.status for o in outcomes] == ["processed", "processed"] and outcomes[1].results[0].new_events == 0
    with store.session() as s:
        one = s.scalar(select(Shipment).where(Shipment.waybill_no == "ZT001"))
        other = s.scalar(select(Shipment).where(Shipment.waybill_no == "ZT002"))
        assert other.status == "out_for_delivery"
        assert [getattr(one, f) for f in FIELDS] == [getattr(other, f) for f in FIELDS]
        stored = " ".join(s.scalars(select(TrackingEventRow.description).where(TrackingEventRow.waybill_no == "ZT002")))
    assert stored and "13900000000" not in stored  # the courier's phone in the fixture, redacted as on the single path


def test_concurrent_batches_of_the_same_parcels_land_every_event_once(store):
    with store.session() as s:
        s.add(Shop(id="shop-a", name="店 A", platform="taobao", created_at=NOW))
        s.flush()
        cid = add_buyer(s, "shop-a")
        for n in range(8):
            add_order(s, "shop-a", str(n), cid, status="WAIT_SELLER_SEND_GOODS")
            add_parcel(s, "shop-a", f"shop-a:{n}", f"ZT{n:03d}", shipped_at=NOW - 40 * H)
    states = (ParcelState.COLLECTED, ParcelState.IN_TRANSIT, ParcelState.OUT_FOR_DELIVERY)
    updates = [_update(f"ZT{n:03d}", state, NOW - (3 - k) * H, f"第 {k} 站") for k, state in enumerate(states) for n in range(8)]
    errors: list[BaseException] = []

    def land(tag: str, chunk: list[TrackingUpdate]) -> None:
        try:
            for start in range(0, len(chunk), 4):
                receive_pushes(store, source="kuaidi100", now=NOW, pushes=[_incoming(u, tag) for u in chunk[start:start + 4]])
        except BaseException as exc:  # noqa: BLE001 - reported by the test below
            errors.append(exc)

    threads = [threading.Thread(target=land, args=(tag, updates if tag == "a" else updates[::-1])) for tag in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with store.session() as s:
        assert s.scalar(select(func.count()).select_from(TrackingEventRow)) == 24
        assert s.scalar(select(func.count()).select_from(WebhookDelivery)) == 48
        assert set(s.scalars(select(Shipment.status))) == {"out_for_delivery"}


def test_bulk_rows_insert_skip_and_update_on_both_stores(store):
    when = datetime(2025, 3, 1, 8, 30, tzinfo=UTC)
    rows = [{"id": f"k{n}", "source": "kuaidi100", "topic": "push", "received_at": when, "status": "processed",
             "error": None if n else "无 / none"} for n in range(3)]
    table = WebhookDelivery.__table__
    with store.engine.begin() as conn:
        insert_rows(conn, table, rows)
        insert_rows(conn, table, [{**rows[0], "status": "failed"}], skip_existing=True)  # already there: left alone
        update_rows(conn, table, [{"id": "k1", "status": "replayed", "error": "再来"}, {"id": "k2", "status": "failed", "error": None}])
        update_rows(conn, table, [])
    with store.session() as s:
        got = {d.id: (d.status, d.error, d.received_at) for d in s.scalars(select(WebhookDelivery))}
    assert got == {"k0": ("processed", "无 / none", when), "k1": ("replayed", "再来", when), "k2": ("failed", None, when)}
