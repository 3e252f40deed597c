"""Carrier pushes taken in as a batch (receive_pushes, what the Kuaidi100 webhook does under load) on both stores."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from kefu.domain import order_status
from kefu.ingest import kuaidi100
from kefu.services import tracking
from kefu.services.tracking import IncomingPush, receive_push, receive_pushes
from kefu.store.tables import Order, Shipment, Shop, TrackingEventRow, WebhookDelivery

NOW = datetime(2025, 3, 12, 12, 0, tzinfo=UTC)


def add_parcel(session, *, shop: str, order_no: str, waybill: str, carrier: str = "zhongtong") -> str:
    if session.get(Shop, shop) is None:
        session.add(Shop(id=shop, name=f"店 {shop}", platform="taobao", created_at=NOW))
        session.flush()
    order_id = f"{shop}:{order_no}"
    session.add(Order(id=order_id, shop_id=shop, platform="taobao", order_no=order_no, source="test",
                      status=order_status.WAIT_SELLER_SEND_GOODS, receiver_province="浙江省"))
    session.flush()
    session.add(Shipment(id=f"{order_id}:{waybill}", shop_id=shop, order_id=order_id, carrier_code=carrier,
                         waybill_no=waybill, shipped_at=NOW - timedelta(days=2)))
    session.flush()
    return f"{order_id}:{waybill}"


def param(waybill: str, lines: int, *, carrier: str = "zhongtong", state: str = "0") -> str:
    """A Kuaidi100 param whose track has `lines` scans (the newest first), one hour apart."""
    data = [{"context": f"【杭州市】第 {n} 站，快递员 13900000000", "ftime": (NOW - timedelta(hours=10 - n)).strftime("%Y-%m-%d %H:%M:%S"),
             "status": "揽收" if n == 0 else "在途"} for n in range(lines - 1, -1, -1)]
    return json.dumps({"status": "polling", "message": "", "lastResult": {"state": state, "ischeck": "0", "com": carrier,
                                                                         "nu": waybill, "data": data}}, ensure_ascii=False)


def incoming(text: str, shop: str | None = "shop-a") -> IncomingPush:
    return IncomingPush(body=f"param={text}".encode(), parse=lambda: [kuaidi100.parse_push(text)], shop_id=shop)


def counts(store) -> tuple[int, dict[str, int]]:
    with store.session() as session:
        events = session.scalar(select(func.count()).select_from(TrackingEventRow))
        rows = session.execute(select(WebhookDelivery.status, func.count()).where(WebhookDelivery.topic == "push")
                               .group_by(WebhookDelivery.status)).all()
    return int(events), {status: int(n) for status, n in rows}


def test_a_batch_lands_like_pushes_one_by_one(store):
    with store.session() as session:
        first = add_parcel(session, shop="shop-a", order_no="1", waybill="ZT001")
        second = add_parcel(session, shop="shop-a", order_no="2", waybill="ZT002")
    pushes = [incoming(param("ZT001", 1, state="1")), incoming(param("ZT002", 2)), incoming(param("ZT001", 3)),
              incoming(param("ZT001", 3))]  # the last is a repeat of the third: a duplicate
    outcomes = receive_pushes(store, source="kuaidi100", pushes=pushes, now=NOW)
    assert [o.status for o in outcomes] == ["processed", "processed", "processed", "duplicate"]
    assert [o.results[0].new_events for o in outcomes[:3]] == [1, 2, 2]
    events, deliveries = counts(store)
    assert events == 5 and deliveries == {"processed": 3}
    with store.session() as session:
        parcel = session.get(Shipment, first)
        assert parcel.status == "in_transit" and parcel.picked_up_at is not None and parcel.tracking_source == "kuaidi100"
        assert parcel.last_event_at == NOW - timedelta(hours=8 + 8)  # the newest scan, written in Beijing time
        assert session.get(Shipment, second).status == "in_transit"
        assert session.get(Order, "shop-a:1").status == order_status.WAIT_BUYER_CONFIRM_GOODS
        descriptions = list(session.scalars(select(TrackingEventRow.description)))
        assert all("13900000000" not in d for d in descriptions)  # courier phones redacted, as on the single path
    again = receive_pushes(store, source="kuaidi100", pushes=[incoming(param("ZT002", 2))], now=NOW)
    assert again[0].status == "duplicate"


def test_unknown_waybills_bad_pushes_and_other_shops_in_one_batch(store):
    with store.session() as session:
        add_parcel(session, shop="shop-a", order_no="1", waybill="ZT001")
        add_parcel(session, shop="shop-b", order_no="9", waybill="ZT009")
    pushes = [incoming(param("ZT404", 2)), incoming("not json"), incoming(param("ZT009", 1)),
              incoming(param("ZT001", 1))]
    outcomes = receive_pushes(store, source="kuaidi100", pushes=pushes, now=NOW)
    assert [o.status for o in outcomes] == ["unmatched", "rejected", "unmatched", "processed"]
    assert not outcomes[1].accepted and outcomes[1].detail
    events, deliveries = counts(store)
    assert events == 1 and deliveries == {"unmatched": 2, "failed": 1, "processed": 1}
    with store.session() as session:
        kept = session.get(WebhookDelivery, tracking.unmatched_key("kuaidi100", "zhongtong", "ZT404"))
        assert kept is not None and kept.status == "unmatched"
    # The parcel's order arrives later; the next push for it (in a batch) marks the kept one replayed.
    with store.session() as session:
        add_parcel(session, shop="shop-a", order_no="4", waybill="ZT404")
    later = receive_pushes(store, source="kuaidi100", pushes=[incoming(param("ZT404", 3))], now=NOW)
    assert later[0].status == "processed"
    with store.session() as session:
        assert session.get(WebhookDelivery, tracking.unmatched_key("kuaidi100", "zhongtong", "ZT404")).status == "replayed"


def test_a_failed_push_that_comes_again_is_taken_in(store):
    with store.session() as session:
        add_parcel(session, shop="shop-a", order_no="1", waybill="ZT001")
    text = param("ZT001", 2)
    broken = IncomingPush(body=f"param={text}".encode(), parse=lambda: [kuaidi100.parse_push("{")], shop_id="shop-a")
    assert receive_pushes(store, source="kuaidi100", pushes=[broken], now=NOW)[0].status == "rejected"
    assert receive_pushes(store, source="kuaidi100", pushes=[incoming(text)], now=NOW)[0].status == "processed"
    assert counts(store) == (2, {"processed": 1})


def test_a_colliding_batch_is_taken_in_one_push_at_a_time(store, monkeypatch):
    with store.session() as session:
        add_parcel(session, shop="shop-a", order_no="1", waybill="ZT001")
        add_parcel(session, shop="shop-a", order_no="2", waybill="ZT002")
    calls = []

    def collide(*args, **kwargs):
        calls.append(args)
        raise IntegrityError("INSERT", {}, Exception("duplicate key"))

    monkeypatch.setattr(tracking, "_receive_batch", collide)
    outcomes = receive_pushes(store, source="kuaidi100", pushes=[incoming(param("ZT001", 2)), incoming(param("ZT002", 1))],
                              now=NOW)
    assert len(calls) == 1 and [o.status for o in outcomes] == ["processed", "processed"]
    assert counts(store) == (3, {"processed": 2})


def test_the_batch_and_the_single_path_agree_on_the_same_pushes(store):
    with store.session() as session:
        add_parcel(session, shop="shop-a", order_no="1", waybill="ZT001")
        add_parcel(session, shop="shop-a", order_no="2", waybill="ZT002")
    texts = [param("ZT001", n) for n in (1, 2, 4)]
    for text in texts:
        receive_push(store, source="kuaidi100", body=text.encode(), parse=lambda t=text: [kuaidi100.parse_push(t)],
                     now=NOW, shop_id="shop-a")
    batch = [incoming(t.replace("ZT001", "ZT002")) for t in texts]
    receive_pushes(store, source="kuaidi100", pushes=batch, now=NOW)
    with store.session() as session:
        one, other = session.get(Shipment, "shop-a:1:ZT001"), session.get(Shipment, "shop-a:2:ZT002")
        fields = ("status", "status_at", "last_event_at", "picked_up_at", "out_for_delivery_at", "signed_at",
                  "destination_province", "tracking_source", "subscription_status")
        assert [getattr(one, f) for f in fields] == [getattr(other, f) for f in fields]
        per_parcel = dict(session.execute(select(TrackingEventRow.shipment_id, func.count()).group_by(TrackingEventRow.shipment_id)).all())
    assert per_parcel == {"shop-a:1:ZT001": 4, "shop-a:2:ZT002": 4}


def test_an_empty_batch_does_nothing(store):
    assert receive_pushes(store, source="kuaidi100", pushes=[], now=NOW) == []
    assert counts(store) == (0, {})
