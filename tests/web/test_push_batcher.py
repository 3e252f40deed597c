"""The push batcher's hold on its database connection (webhooks/push_batcher.py), on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import hashlib
import json
from datetime import UTC, datetime
from urllib.parse import quote

from kefu.ingest import kuaidi100
from kefu.services.tracking import IncomingPush
from kefu.store.tables import Order, Shipment, Shop
from kefu.web.webhooks.push_batcher import PushBatcher

NOW = datetime(2025, 3, 12, 12, 0, tzinfo=UTC)


def _param(waybill: str, hour: int) -> str:
    return json.dumps({"status": "polling", "lastResult": {"state": "0", "ischeck": "0", "com": "zhongtong", "nu": waybill,
                                                          "data": [{"context": f"【杭州市】第 {hour} 站", "ftime": f"2025-03-12 {hour:02d}:00:00"}]}},
                      ensure_ascii=False)


def _push(waybill: str, hour: int) -> IncomingPush:
    param = _param(waybill, hour)
    body = f"param={quote(param, safe='')}&sign={hashlib.md5(param.encode()).hexdigest()}".encode()
    return IncomingPush(body=body, parse=lambda: [kuaidi100.parse_push(param)], shop_id="shop-a")


def _parcels(store, *waybills: str) -> None:
    with store.session() as session:
        session.add(Shop(id="shop-a", name="A 店", platform="taobao", created_at=NOW))
        session.flush()
        for n, waybill in enumerate(waybills):
            session.add(Order(id=f"shop-a:{n}", shop_id="shop-a", platform="taobao", order_no=str(n),
                              status="WAIT_SELLER_SEND_GOODS", source="test"))
            session.flush()
            session.add(Shipment(id=f"shop-a:{n}:{waybill}", shop_id="shop-a", order_id=f"shop-a:{n}",
                                 carrier_code="zhongtong", waybill_no=waybill, shipped_at=NOW))


def _settled(batcher: PushBatcher) -> None:
    batcher._writer.submit(lambda: None).result(timeout=10)  # whatever the writer thread was handed has run


def test_a_batcher_gives_its_connection_back_even_when_its_event_loop_ends_right_after_the_answer(store):
    """asyncio.run (a test client, a server shutting down) cancels the drainer as soon as the push is answered."""
    _parcels(store, "ZT001")
    batcher = PushBatcher(store, "kuaidi100")
    outcome = asyncio.run(batcher.submit(_push("ZT001", 10)))
    _settled(batcher)
    assert outcome.status == "processed"
    assert batcher._connection is None
    again = asyncio.run(batcher.submit(_push("ZT001", 11)))  # a later loop takes a connection again
    _settled(batcher)
    assert again.status == "processed" and batcher._connection is None


def test_two_carriers_batchers_each_hold_a_connection_at_once(store):
    """Kuaidi100's batcher keeps its connection while its pushes keep coming; Kdniao's must not wait for it."""
    _parcels(store, "ZT001", "ZT002")
    busy, other = PushBatcher(store, "kuaidi100"), PushBatcher(store, "kdniao")
    try:
        busy._writer.submit(busy._write, [_push("ZT001", 10)]).result(timeout=10)
        assert busy._connection is not None  # held, as between the batches of a busy carrier
        outcomes = other._writer.submit(other._write, [_push("ZT002", 10)]).result(timeout=10)  # a pool timeout is 30 s
        assert [o.status for o in outcomes] == ["processed"]
    finally:
        for batcher in (busy, other):
            batcher._writer.submit(batcher._release).result(timeout=10)
