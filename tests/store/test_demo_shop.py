"""The demo shop end to end on SQLite and PostgreSQL: files written, imported by the real importers, notes added."""

from __future__ import annotations

from datetime import date

import openpyxl
import pytest
from sqlalchemy import func, select

from kefu.demo import build_demo_shop
from kefu.store.tables import Customer, CustomerNote, CustomerTag, ImportRun, Order, OrderLine, Product, Shipment, Sku

pytest.importorskip(
    "kefu.services.import_orders", reason="the demo loads its files through kefu.services.import_orders (not written yet)"
)

pytestmark = pytest.mark.slow
TODAY = date(2026, 11, 22)


def count(session, table, *where) -> int:
    return session.scalar(select(func.count()).select_from(table).where(*where))


def test_demo_shop_builds_and_rebuilds_without_duplicates(store, tmp_path):
    stages: set[str] = set()
    summary = build_demo_shop(store, seed=7, today=TODAY, customers=300, out_dir=tmp_path,
                              progress=lambda name, done, total: stages.add(name))
    assert summary.ok, summary.problems()
    assert summary.customers == 300 and summary.orders > 600 and summary.lines > summary.orders
    catalog, orders_file, lines_file = summary.files
    assert catalog.name == "商品目录.csv"
    assert orders_file.name == "ExportOrderList202611220930.csv" and lines_file.suffix == ".xlsx"
    orders_file.read_bytes().decode("gbk")
    openpyxl.load_workbook(lines_file, read_only=True).close()
    assert {"商品目录.csv", orders_file.name, lines_file.name} <= stages
    assert [r.kind for r in summary.imports] == ["taobao_orders", "taobao_lines"]

    with store.session() as session:
        shop = summary.shop_id
        assert count(session, Order, Order.shop_id == shop) == summary.orders
        assert count(session, OrderLine, OrderLine.shop_id == shop) == summary.lines
        assert count(session, Customer, Customer.shop_id == shop) == summary.customers
        assert count(session, Product, Product.shop_id == shop) == summary.products  # lines found the catalogue's products
        assert count(session, Sku, Sku.shop_id == shop) == summary.catalog.skus_new
        assert count(session, OrderLine, OrderLine.product_id.is_(None)) == 0
        assert count(session, Shipment, Shipment.shop_id == shop) > summary.orders / 2
        statuses = set(session.scalars(select(Order.status).where(Order.shop_id == shop).distinct()))
        assert {"WAIT_BUYER_PAY", "WAIT_SELLER_SEND_GOODS", "WAIT_BUYER_CONFIRM_GOODS", "TRADE_FINISHED", "TRADE_CLOSED",
                "TRADE_CLOSED_BY_TAOBAO"} <= statuses
        assert count(session, Customer, Customer.shop_id == shop, Customer.total_spent > 0) > summary.customers / 2
        notes = count(session, CustomerNote)
        tags = count(session, CustomerTag)
        profiled = count(session, Customer, Customer.shop_id == shop, Customer.gender.is_not(None))
        assert notes > 0 and tags > 0 and profiled == summary.profiles > 0
        runs = count(session, ImportRun, ImportRun.shop_id == shop)

    again = build_demo_shop(store, seed=7, today=TODAY, customers=300, out_dir=tmp_path / "again")
    assert again.ok and again.shop_id == summary.shop_id
    assert again.imports[0].rows_new == 0 and again.catalog.products_new == 0
    with store.session() as session:
        assert count(session, Order, Order.shop_id == shop) == summary.orders
        assert count(session, OrderLine, OrderLine.shop_id == shop) == summary.lines
        assert count(session, CustomerNote) == notes and count(session, CustomerTag) == tags
        assert count(session, ImportRun, ImportRun.shop_id == shop) == runs + 3


def test_kefu_demo_command_prints_the_summary_and_the_next_step(tmp_path):
    from typer.testing import CliRunner

    from kefu.cli import app

    db = f"sqlite:///{tmp_path / 'demo.db'}"
    result = CliRunner().invoke(app, ["--db", db, "demo", "--customers", "60", "--seed", "3", "--today", "2026-06-18",
                                      "--shop", "演示店", "--out", str(tmp_path / "files"), "--quiet"])
    assert result.exit_code == 0, result.output
    assert "演示店" in result.output and "订单 / orders" in result.output
    assert (tmp_path / "files" / "ExportOrderList202606180930.csv").exists()
    assert "kefu --db" in result.output and "serve" in result.output
    bad = CliRunner().invoke(app, ["--db", db, "demo", "--today", "2026-02-30"])
    assert bad.exit_code != 0 and "YYYY-MM-DD" in bad.output


def test_demo_parcels_carry_carrier_scans_and_the_watch_opens_with_alerts(store, tmp_path):
    from datetime import UTC

    from kefu.demo.generator import demo_end
    from kefu.domain.rules.watch import province_key
    from kefu.services.courier_scoreboard import scoreboard_view
    from kefu.store.tables import Alert, TrackingEventRow

    summary = build_demo_shop(store, seed=7, today=TODAY, customers=300, out_dir=tmp_path)
    assert summary.ok, summary.problems()
    now = demo_end(TODAY).astimezone(UTC)
    with store.session() as session:
        shop = summary.shop_id
        parcels = count(session, Shipment, Shipment.shop_id == shop)
        assert summary.tracked == parcels
        assert count(session, Shipment, Shipment.shop_id == shop, Shipment.status.is_(None)) == 0
        states = set(session.scalars(select(Shipment.status).where(Shipment.shop_id == shop).distinct()))
        assert {"signed", "in_transit", "problem", "rejected", "awaiting_pickup"} <= states
        assert count(session, TrackingEventRow, TrackingEventRow.shop_id == shop) > parcels * 4
        assert count(session, TrackingEventRow, TrackingEventRow.at > now) == 0
        kinds = dict(session.execute(select(Alert.kind, func.count()).where(Alert.shop_id == shop, Alert.status == "open")
                                     .group_by(Alert.kind)).all())
        assert kinds.get("stall", 0) >= 1 and kinds.get("exception", 0) >= 1 and kinds.get("rejected", 0) >= 1
        assert kinds.get("fake_shipping", 0) == 1
        assert summary.alerts["stall"] == kinds["stall"]

        busiest = session.scalar(select(Shipment.destination_province).where(Shipment.shop_id == shop)
                                 .group_by(Shipment.destination_province).order_by(func.count().desc()).limit(1))
        view = scoreboard_view(session, shop, province=busiest, priority="fastest", now=now)
        best = view.recommendation.best
        assert best is not None and best.score.median_hours is not None and best.score.delivered > 0
        assert view.recommendation.province == province_key(busiest)
        assert any(r.basis == "province" for r in view.recommendation.ranked)
        remote = scoreboard_view(session, shop, province="新疆维吾尔自治区", priority="cheapest", now=now).recommendation
        assert remote.province == "新疆" and remote.best is not None and remote.best.price is not None
        events = count(session, TrackingEventRow, TrackingEventRow.shop_id == shop)

    again = build_demo_shop(store, seed=7, today=TODAY, customers=300, out_dir=tmp_path / "again")
    assert again.alerts == {}
    with store.session() as session:
        assert count(session, TrackingEventRow, TrackingEventRow.shop_id == shop) == events
