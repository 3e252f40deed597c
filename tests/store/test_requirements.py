"""Buyer requirements in the store on SQLite and PostgreSQL: read after imports, courier conflicts, the pick list."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from kefu.domain import order_status as os_
from kefu.services import requirements as req
from kefu.services.import_orders import import_taobao_files
from kefu.services.requirements import (
    extract_requirements,
    pick_list,
    record_requirements,
    requirements_for_orders,
    requirements_of_order,
    shipped_with_excluded_courier,
)
from kefu.services.shops import get_or_create_shop
from kefu.services.watch import sweep
from kefu.store.tables import Alert, Order, OrderLine, OrderRequirement, Shipment

NOW = datetime(2025, 3, 12, 4, 0, tzinfo=UTC)  # Wednesday, 12:00 in Shanghai
H = timedelta(hours=1)
UPLOAD = "web_upload_ExportOrderList202503121030.csv"


def add_order(session, shop_id, no, message=None, *, status=os_.WAIT_SELLER_SEND_GOODS, paid_at=NOW, **fields):
    oid = f"{shop_id}:{no}"
    session.add(Order(id=oid, shop_id=shop_id, platform="taobao", order_no=no, status=status, source="test",
                      buyer_message=message, created_at=paid_at, paid_at=paid_at, **fields))
    session.flush()
    return oid


def reqs(store, order_id):
    with store.session() as s:
        return [(r.kind, r.value) for r in requirements_for_orders(s, [order_id]).get(order_id, [])]


def test_messages_are_read_once_and_phones_never_stored(store):
    with store.session() as s:
        shop_id = get_or_create_shop(s, "留言店").id
        asks = add_order(s, shop_id, "1", "不要发申通，发中通，周六前要到 电话13800000001")
        quiet = add_order(s, shop_id, "2", "质量好的话会回购")
        add_order(s, shop_id, "3", None)
        add_order(s, shop_id, "4", "")
    with store.session() as s:
        assert extract_requirements(s, shop_id, now=NOW) == 2
    assert reqs(store, asks) == [("courier_excluded", "shentong"), ("courier_wanted", "zhongtong"),
                                 ("deliver_by", "2025-03-15")]
    assert reqs(store, quiet) == []
    with store.session() as s:
        rows = list(s.scalars(select(OrderRequirement).where(OrderRequirement.order_id == asks)))
        assert all(r.source == "buyer_message" and "13800000001" not in r.source_text for r in rows)
        assert "138****0001" in rows[0].source_text
        marks = list(s.scalars(select(OrderRequirement).where(OrderRequirement.order_id == quiet)))
        assert [m.kind for m in marks] == ["none"]
        assert extract_requirements(s, shop_id, now=NOW) == 0  # nothing new to read


def test_only_orders_in_motion_or_recent_are_read(store):
    """A year of finished history is not read at import (its pages read it when shown); recent and open orders are."""
    with store.session() as s:
        shop_id = get_or_create_shop(s, "历史店").id
        old_done = add_order(s, shop_id, "1", "请发中通", status=os_.TRADE_FINISHED, paid_at=NOW - 2000 * H)
        recent_done = add_order(s, shop_id, "2", "请发中通", status=os_.TRADE_FINISHED, paid_at=NOW - 10 * H)
        old_open = add_order(s, shop_id, "3", "请发中通", status=os_.WAIT_SELLER_SEND_GOODS, paid_at=NOW - 2000 * H)
    with store.session() as s:
        assert extract_requirements(s, shop_id, now=NOW) == 2
    assert reqs(store, old_done) == [] and reqs(store, recent_done) == reqs(store, old_open) == [
        ("courier_wanted", "zhongtong")]


def test_the_order_day_is_the_shops_local_day(store):
    with store.session() as s:
        shop_id = get_or_create_shop(s, "时区店").id
        late_evening = datetime(2025, 3, 11, 17, 0, tzinfo=UTC)  # Wednesday 01:00 in Shanghai, Tuesday in UTC
        oid = add_order(s, shop_id, "1", "今天发", paid_at=late_evening)
        extract_requirements(s, shop_id, now=NOW)
    assert reqs(store, oid) == [("ship_time", "2025-03-12")]


def test_chat_lines_add_requirements(store):
    with store.session() as s:
        shop_id = get_or_create_shop(s, "聊天店").id
        oid = add_order(s, shop_id, "1", "请发中通")
        extract_requirements(s, shop_id, now=NOW)
        found = record_requirements(s, oid, "不要放发票，我电话13800000002", now=NOW + H)
        assert [(f.kind, f.value) for f in found] == [("other", "no_invoice")]
        record_requirements(s, oid, "不要放发票", now=NOW + 2 * H)  # the same ask again adds nothing
    assert reqs(store, oid) == [("courier_wanted", "zhongtong"), ("other", "no_invoice")]
    with store.session() as s:
        chat = s.scalar(select(OrderRequirement).where(OrderRequirement.source == "chat"))
        assert "13800000002" not in chat.source_text


def test_an_import_reads_the_buyer_messages(store, fixtures_dir):
    import_taobao_files(store, [fixtures_dir / "taobao" / UPLOAD], "导入店")
    with store.session() as s:
        by_order = {o.order_no: o.id for o in s.scalars(select(Order))}
        found = {no: [(r.kind, r.value) for r in rows]
                 for no, rows in ((no, requirements_for_orders(s, [oid]).get(oid, [])) for no, oid in by_order.items()) if rows}
    assert found["3901000000000000012"] == [("courier_wanted", "zhongtong")]  # on its way
    assert found["3901000000000000013"] == [("courier_excluded", "shentong")]  # waiting to ship
    # a finished order from long ago is history: not read at import, but its page reads the message when shown
    assert "3901000000000000011" not in found
    with store.session() as s:
        finished = s.get(Order, by_order["3901000000000000011"])
        assert [(r.kind, r.value) for r in requirements_of_order(s, finished)] == [("deliver_by", "2025-02-15")]
        waiting = s.get(Order, by_order["3901000000000000013"])
        assert [(r.kind, r.value) for r in requirements_of_order(s, waiting)] == [("courier_excluded", "shentong")]
        assert requirements_of_order(s, s.get(Order, by_order["3901000000000000014"])) == []
    with store.session() as s:
        before = s.scalar(select(func.count()).select_from(OrderRequirement))
    import_taobao_files(store, [fixtures_dir / "taobao" / UPLOAD], "导入店")  # again: nothing doubled
    with store.session() as s:
        assert s.scalar(select(func.count()).select_from(OrderRequirement)) == before
        assert s.scalar(select(func.count()).select_from(OrderRequirement).where(OrderRequirement.kind != "none")) == 2
        assert s.scalar(select(func.count()).select_from(OrderRequirement)) == 2  # no message read twice


def test_a_failure_reading_messages_never_undoes_the_import(store, fixtures_dir, monkeypatch, caplog):
    def broken(conn, shop_id, *, now):
        conn.exec_driver_sql("SELECT no_such_column FROM orders")  # a failed statement inside the import's transaction

    monkeypatch.setattr(req, "extract_requirements", broken)
    with caplog.at_level(logging.ERROR, logger="kefu.services.requirements"):
        results = import_taobao_files(store, [fixtures_dir / "taobao" / UPLOAD], "坏掉也要导入")
    assert results[0].rows_new == 5 and not results[0].error
    assert "buyer requirements not read" in caplog.text
    with store.session() as s:
        assert s.scalar(select(func.count()).select_from(Order)) == 5
        assert s.scalar(select(func.count()).select_from(OrderRequirement)) == 0


def test_a_parcel_with_a_refused_courier_raises_an_alert_and_it_clears_when_the_ask_goes(store):
    with store.session() as s:
        shop_id = get_or_create_shop(s, "快递店").id
        refused = add_order(s, shop_id, "1", "别发申通", status=os_.WAIT_BUYER_CONFIRM_GOODS)
        wanted = add_order(s, shop_id, "2", "只要韵达", status=os_.WAIT_BUYER_CONFIRM_GOODS)
        fine = add_order(s, shop_id, "3", "请发中通", status=os_.WAIT_BUYER_CONFIRM_GOODS)
        for oid, carrier, name in ((refused, "shentong", "申通快递"), (wanted, "zhongtong", "中通快递"),
                                   (fine, "zhongtong", "中通快递")):
            s.add(Shipment(id=f"{oid}:W", shop_id=shop_id, order_id=oid, carrier_code=carrier, carrier_name=name,
                           waybill_no="W", shipped_at=NOW))
        extract_requirements(s, shop_id, now=NOW)
    with store.session() as s:
        assert shipped_with_excluded_courier(s, shop_id, now=NOW + H) == 2
        assert shipped_with_excluded_courier(s, shop_id, now=NOW + H) == 0
    with store.session() as s:
        alerts = {a.order_id: a for a in s.scalars(select(Alert))}
        assert set(alerts) == {refused, wanted}
        assert alerts[refused].severity == "critical" and alerts[refused].rule == "快递不符: 买家不要申通, 实发申通 (W)"
        assert alerts[wanted].severity == "warning" and alerts[wanted].rule == "快递不符: 买家要韵达, 实发中通 (W)"
        s.execute(OrderRequirement.__table__.delete().where(OrderRequirement.order_id == wanted))
    with store.session() as s:
        result = sweep(s, shop_id, now=NOW + 2 * H)
        assert result.resolved == 1 and s.scalar(select(Alert.status).where(Alert.order_id == wanted)) == "resolved"


def test_pick_list_has_paid_unshipped_orders_with_lines_asks_and_memo(store):
    with store.session() as s:
        shop_id = get_or_create_shop(s, "拣货店").id
        second = add_order(s, shop_id, "2", "上午发，不要放发票", paid_at=NOW - H, seller_memo="送小样")
        first = add_order(s, shop_id, "1", None, paid_at=NOW - 5 * H)
        add_order(s, shop_id, "3", "请发中通", status=os_.WAIT_BUYER_CONFIRM_GOODS)
        add_order(s, shop_id, "4", None, status=os_.WAIT_BUYER_PAY)
        for n, (title, sku) in enumerate([("碎花连衣裙", "颜色分类:白色;尺码:M"), ("棉袜", None)], start=1):
            s.add(OrderLine(id=f"{second}:#{n}", shop_id=shop_id, order_id=second, line_no=n, title=title,
                            sku_properties=sku, quantity=n, price=Decimal("10.00")))
        extract_requirements(s, shop_id, now=NOW)
    with store.session() as s:
        picked = pick_list(s, shop_id)
        assert [p.order.id for p in picked] == [first, second]  # longest waiting first
        p = picked[1]
        assert [(l.title, l.sku_properties, l.quantity) for l in p.lines] == [
            ("碎花连衣裙", "颜色分类:白色;尺码:M", 1), ("棉袜", None, 2)]
        assert [(r.kind, r.value) for r in p.requirements] == [("ship_time", "morning"), ("other", "no_invoice")]
        assert p.order.seller_memo == "送小样" and p.ship_by == NOW - H + 48 * H
        assert picked[0].requirements == [] and picked[0].lines == []
