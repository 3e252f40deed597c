"""Stock levels on SQLite and PostgreSQL: the stock file import, safety stock from sales, sell-through, low-stock
alerts, and the stockout message landing in the outbox."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from openpyxl import Workbook
from sqlalchemy import select

from kefu.domain import order_status as os_
from kefu.services.import_stock import import_stock_file
from kefu.services.shops import get_or_create_shop
from kefu.services.stock_check import check_stock, run_stock_pass
from kefu.services.stock_levels import low_stock_alerts, presale_candidates, shop_sell_through, sku_levels
from kefu.store.stock_tables import SkuIncoming, StockMovement
from kefu.store.tables import Alert, ImportRejection, ImportRun, Order, Sku
from stock_seed import BLACK_M, NOW, WHITE_L, WHITE_M, add_order, seed_catalogue


@pytest.fixture
def shop(store):
    with store.session() as s:
        shop_id = get_or_create_shop(s, "库存店").id
        seed_catalogue(s, shop_id, white_m=10, black_m=0, white_l=40, restock=date(2026, 12, 5))
    return shop_id


def test_a_stock_file_updates_skus_and_reports_bad_rows_by_line(store, shop, tmp_path):
    path = tmp_path / "库存.csv"
    path.write_text(
        "商家编码,SKU编码,属性,库存,在途,补货日期,供应商交期\n"
        "XTZ-001,XTZ-001-s-wm,,7,,,5天\n"            # by SKU code
        "XTZ-001,,颜色分类:黑色; 尺码:M,3,20,2026/12/8,10\n"  # by product code and properties
        "XTZ-001,,,4,,,\n"                           # product has three SKUs: which one?
        "XTZ-404,,,4,,,\n"                           # no such product
        "XTZ-001,XTZ-001-s-wl,,-2,,,\n"              # negative
        "XTZ-001,XTZ-001-s-wl,,5,,2026-13-40,\n"     # not a date
        ",,,5,,,\n",                                 # names no SKU
        encoding="gb18030")
    result = import_stock_file(store, path, "库存店", by="boss", now=NOW)
    assert result.ok and (result.rows_read, result.skus_updated, result.rows_rejected) == (7, 2, 5)
    assert [m.split(": ")[0] for m in result.messages()] == [f"库存.csv:{n}" for n in (4, 5, 6, 7, 8)]
    assert "3 SKUs" in result.messages()[0] and "XTZ-404" in result.messages()[1] and "negative" in result.messages()[2]
    with store.session() as s:
        wm, bm, wl = s.get(Sku, "s-wm"), s.get(Sku, "s-bm"), s.get(Sku, "s-wl")
        assert (wm.stock, wm.lead_time_days) == (7, 5)
        assert (bm.stock, bm.restock_date, bm.lead_time_days) == (3, date(2026, 12, 8), 10)
        assert wl.stock == 40  # its rows were refused: untouched
        assert s.get(SkuIncoming, "s-bm").quantity == 20
        moves = s.scalars(select(StockMovement).order_by(StockMovement.sku_id)).all()
        assert [(m.sku_id, m.kind, m.delta, m.stock_after) for m in moves] == [("s-bm", "import", 3, 3),
                                                                              ("s-wm", "import", -3, 7)]
        run = s.get(ImportRun, result.run_id)
        assert (run.kind, run.status, run.rows_rejected) == ("stock_levels", "done", 5)
        assert s.scalar(select(ImportRejection.line_no).where(ImportRejection.run_id == run.id)
                        .order_by(ImportRejection.line_no)) == 4


def test_an_xlsx_stock_file_with_real_dates_lands(store, shop, tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.append(["库存导出"])  # a title line above the header
    sheet.append(["SKU编码", "库存", "补货日期"])
    sheet.append(["XTZ-001-s-bm", 0, NOW.replace(tzinfo=None) + timedelta(days=9)])
    path = tmp_path / "stock.xlsx"
    book.save(path)
    result = import_stock_file(store, path, None, now=NOW)
    assert result.ok and result.skus_updated == 1
    with store.session() as s:
        assert s.get(Sku, "s-bm").restock_date == date(2026, 11, 29)


def test_an_unreadable_file_names_itself(store, shop, tmp_path):
    path = tmp_path / "notes.csv"
    path.write_text("hello,world\n1,2\n", encoding="utf-8")
    result = import_stock_file(store, path, "库存店", now=NOW)
    assert not result.ok and result.error.startswith("notes.csv: no stock header")


def sell(s, shop, no, props, quantity, days_ago, status=os_.TRADE_FINISHED):
    oid = add_order(s, shop, no, [(props, quantity)], paid_at=NOW - timedelta(days=days_ago), buyer=f"b{no}")
    s.get(Order, oid).status = status
    s.flush()
    return oid


def test_levels_show_committed_stock_velocity_safety_and_cover(store, shop):
    with store.session() as s:
        for n, days_ago in enumerate((1, 2, 3, 10)):
            sell(s, shop, f"s{n}", WHITE_M, 7, days_ago)
        sell(s, shop, "old", WHITE_L, 5, 200)  # outside the 28-day window
        sell(s, shop, "closed", WHITE_L, 5, 1, status=os_.TRADE_CLOSED)  # refunded: not a sale
        add_order(s, shop, "open", [(WHITE_M, 4)], paid_at=NOW - timedelta(hours=2), buyer="waiting")
        levels = {lv.sku.id: lv for lv in sku_levels(s, shop, now=NOW)}
    wm, bm, wl = levels["s-wm"], levels["s-bm"], levels["s-wl"]
    assert (wm.stock, wm.committed, wm.available, wm.velocity.units) == (10, 4, 6, 32)  # the paid open order sold too
    assert wm.velocity.mean == 32 / 28 and wm.cover_days == pytest.approx(6 / (32 / 28)) and wm.best_seller
    assert wm.safety > 7 and wm.status == "low"  # 6 free ≤ safety stock for a 7-day lead time
    assert (bm.status, bm.available, bm.cover_days) == ("out", 0, None)
    assert (wl.velocity.units, wl.status) == (0, "ok")
    with store.session() as s:
        assert [lv.sku.id for lv in sku_levels(s, shop, now=NOW, q="黑色")] == ["s-bm"]


def test_sell_through_over_the_period(store, shop):
    with store.session() as s:
        sell(s, shop, "a", WHITE_M, 2, 3)
        sell(s, shop, "b", WHITE_M, 1, 40)  # before the 30-day period
        rate = shop_sell_through(s, shop, now=NOW)
        assert (rate.skus, rate.skus_sold, rate.products, rate.products_sold) == (3, 1, 1, 1)
        assert rate.units_sold == 2 and rate.units_on_hand == 50 and rate.unit_rate == pytest.approx(2 / 52)
        assert shop_sell_through(s, shop, now=NOW, days=60).units_sold == 3


def test_low_stock_alerts_are_raised_once_and_resolved_when_stock_returns(store, shop):
    with store.session() as s:
        first = low_stock_alerts(s, shop, now=NOW)
        assert (first.raised, first.resolved) == (1, 0)  # black M is out (white M and L have no sales: safety 0)
        assert low_stock_alerts(s, shop, now=NOW + timedelta(hours=1)).raised == 0
        alert = s.scalar(select(Alert).where(Alert.kind == "stock.low"))
        assert (alert.severity, alert.status, alert.detail["sku_id"]) == ("critical", "open", "s-bm")
        s.get(Sku, "s-bm").stock = 30
        s.flush()
        assert low_stock_alerts(s, shop, now=NOW + timedelta(hours=2)).resolved == 1
        s.get(Sku, "s-bm").stock = 0
        s.flush()
        assert low_stock_alerts(s, shop, now=NOW + timedelta(hours=3)).raised == 1  # a new episode
        assert s.scalar(select(Alert.status).where(Alert.id == alert.id)) == "resolved"


def test_a_sold_out_best_seller_with_a_date_is_a_presale_candidate(store, shop):
    with store.session() as s:
        for n in range(3):
            sell(s, shop, f"bm{n}", BLACK_M, 8, n + 1)
        candidates = presale_candidates(sku_levels(s, shop, now=NOW), today=NOW.date())
        assert [lv.sku.id for lv in candidates] == ["s-bm"]


def test_the_options_message_lands_in_the_outbox(store, shop):
    from kefu.store.messaging_tables import OutboxMessage

    with store.session() as s:
        oid = add_order(s, shop, "m1", [(BLACK_M, 1)], paid_at=NOW - timedelta(hours=1), buyer="msg")
        check_stock(s, shop, now=NOW)
        message = s.scalar(select(OutboxMessage).where(OutboxMessage.order_id == oid))
        assert message is not None
        assert (message.event, message.purpose) == ("stockout.options", "transactional")
        assert "缺 1 件" in message.text and "4. 取消订单" in message.text


def test_a_full_pass_sets_safety_stock_and_alerts(store, shop):
    with store.session() as s:
        for n in range(4):
            sell(s, shop, f"p{n}", WHITE_M, 3, n + 1)
        run = run_stock_pass(s, shop, now=NOW)
        assert run.safety_changed == 3 and run.alerts_raised >= 1
        assert s.get(Sku, "s-wm").safety_stock > 0
        assert s.get(Sku, "s-wm").price is None or s.get(Sku, "s-wm").price >= Decimal(0)


def test_a_wait_past_its_date_raises_an_alert_until_the_case_closes(store, shop):
    from kefu.services.stock_levels import overdue_wait_alerts
    from kefu.services.stockouts import live_case_for_order, record_reply

    with store.session() as s:
        oid = add_order(s, shop, "w1", [(BLACK_M, 1)], paid_at=NOW - timedelta(hours=1), buyer="wait")
        check_stock(s, shop, now=NOW)
        case_id = live_case_for_order(s, oid).id
        record_reply(s, case_id, "等到下周五", now=NOW)  # Friday 2026-11-27
        assert overdue_wait_alerts(s, shop, now=NOW + timedelta(days=3)).raised == 0
        later = NOW + timedelta(days=8)
        assert overdue_wait_alerts(s, shop, now=later).raised == 1
        assert overdue_wait_alerts(s, shop, now=later).raised == 0
        alert = s.scalar(select(Alert).where(Alert.kind == "stock.wait_over"))
        assert (alert.order_id, alert.customer_id, alert.detail["wait_until"]) == (oid, "c-wait", "2026-11-27")
        s.get(Sku, "s-bm").stock = 5  # the goods arrived: the check closes the case, the alert goes
        s.flush()
        check_stock(s, shop, now=later)
        assert overdue_wait_alerts(s, shop, now=later).resolved == 1
