"""The courier scoreboard on SQLite and PostgreSQL: facts in one query, alerts as exceptions and complaints."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from kefu.domain import order_status as os_
from kefu.services.courier_scoreboard import (
    parcel_facts,
    scoreboard_view,
    shop_scoreboard,
)
from kefu.services.shops import get_or_create_shop
from kefu.store.tables import Alert, Order, Shipment, Shop

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
H = timedelta(hours=1)


def add_parcel(s, shop_id, no, *, carrier, province, hours=None, status="signed", dest=None, shipped_days_ago=5,
               carrier_name=None):
    oid = f"{shop_id}:{no}"
    s.add(Order(id=oid, shop_id=shop_id, platform="taobao", order_no=no, status=os_.TRADE_FINISHED, source="test",
                receiver_province=province, created_at=NOW - 300 * H))
    s.flush()
    picked = NOW - timedelta(days=shipped_days_ago)
    sid = f"{oid}:W{no}"
    s.add(Shipment(id=sid, shop_id=shop_id, order_id=oid, carrier_code=carrier, carrier_name=carrier_name,
                   waybill_no=f"W{no}", status=status, shipped_at=picked - H, picked_up_at=picked,
                   signed_at=picked + hours * H if hours is not None else None, destination_province=dest))
    s.flush()
    return sid


def alert(s, shop_id, sid, kind, n):
    s.add(Alert(id=f"a{n}", shop_id=shop_id, kind=kind, dedupe_key=f"{kind}:{sid}:{n}", shipment_id=sid, raised_at=NOW,
                status="resolved"))


def test_facts_and_scores_from_one_query(store):
    with store.session() as s:
        shop_id = get_or_create_shop(s, "快递店").id
        other = get_or_create_shop(s, "别的店").id
        add_parcel(s, shop_id, "1", carrier="zhongtong", province="新疆维吾尔自治区", hours=60)
        add_parcel(s, shop_id, "2", carrier="zhongtong", province="新疆维吾尔自治区", hours=80)
        stalled = add_parcel(s, shop_id, "3", carrier="zhongtong", province="新疆维吾尔自治区", status="in_transit")
        conflict = add_parcel(s, shop_id, "4", carrier=None, carrier_name="顺丰速运", province="浙江省", hours=20)
        add_parcel(s, shop_id, "5", carrier="yuantong", province="浙江省", dest="上海市", status="rejected")
        add_parcel(s, shop_id, "6", carrier="yuantong", province="浙江省", hours=30, shipped_days_ago=400)  # too old
        add_parcel(s, other, "7", carrier="zhongtong", province="新疆", hours=1)
        alert(s, shop_id, stalled, "stall", 1)
        alert(s, shop_id, stalled, "exception", 2)  # two alerts, still one exceptional parcel
        alert(s, shop_id, conflict, "courier_conflict", 3)
        alert(s, shop_id, conflict, "signed", 4)  # not an exception
        s.flush()

        assert len(parcel_facts(s, shop_id)) == 6
        board = shop_scoreboard(s, shop_id, now=NOW)
        xj = board.row("zhongtong", "新疆")
        assert (xj.parcels, xj.delivered, xj.median_hours, xj.p90_hours) == (3, 2, 70.0, 80.0)
        assert (xj.exceptions, xj.complaints, xj.price) == (1, 0, Decimal(11))
        sf = board.row("shunfeng", "浙江")
        assert (sf.parcels, sf.exceptions, sf.complaints, sf.price) == (1, 0, 1, Decimal(20))
        yt = board.row("yuantong", "上海")  # the parcel's own destination wins over the order's province
        assert (yt.parcels, yt.exceptions) == (1, 1)
        assert board.row("yuantong", "浙江") is None  # shipped 400 days ago, outside the lookback
        assert board.totals["zhongtong"].median_hours == 70.0  # the other shop's parcel is not counted


def test_shop_prices_and_recommendation(store):
    with store.session() as s:
        shop = get_or_create_shop(s, "偏远店")
        s.get(Shop, shop.id).settings = {"courier_province_prices": {"新疆": {"zhongtong": 25}},
                                         "courier_score": {"min_sample": 2, "lookback_days": 365}}
        s.flush()
        for i, h in enumerate((70, 90)):
            add_parcel(s, shop.id, f"z{i}", carrier="zhongtong", province="新疆", hours=h)
        for i, h in enumerate((40, 50)):
            add_parcel(s, shop.id, f"s{i}", carrier="shunfeng", province="新疆", hours=h)
        add_parcel(s, shop.id, "y0", carrier="yuantong", province="新疆", hours=30)
        s.flush()
        view = scoreboard_view(s, shop.id, province="新疆", priority="cheapest", now=NOW)
        assert view.board.row("zhongtong", "新疆").price == Decimal(25)
        assert [r.carrier for r in view.recommendation.ranked] == ["shunfeng", "zhongtong"]
        assert [c.carrier for c in view.recommendation.too_few] == ["yuantong"]
        fast = scoreboard_view(s, shop.id, province="新疆", priority="fastest", now=NOW)
        assert fast.recommendation.best.carrier == "shunfeng"
        assert scoreboard_view(s, shop.id, province="", priority="nonsense", now=NOW).recommendation.priority == "cheapest"
