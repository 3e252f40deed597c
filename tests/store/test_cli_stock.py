"""`kefu stock import|check|report|reply|presale` as a seller runs them (SQLite file database)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from typer.testing import CliRunner

from kefu.cli import app
from kefu.services.shops import get_or_create_shop
from kefu.store.database import Store
from stock_seed import BLACK_M, NOW, WHITE_M, add_order, seed_catalogue

runner = CliRunner()


def run(db: Path, *args: str):
    return runner.invoke(app, ["--db", f"sqlite:///{db}", *args])


def seeded(tmp_path: Path) -> Path:
    db = tmp_path / "k.db"
    store = Store(f"sqlite:///{db}")
    with store.session() as s:
        shop_id = get_or_create_shop(s, "命令行店").id
        seed_catalogue(s, shop_id, white_m=1)
        add_order(s, shop_id, "1", [(WHITE_M, 1)], paid_at=NOW - timedelta(hours=3), buyer="a")
        add_order(s, shop_id, "2", [(BLACK_M, 1), (WHITE_M, 1)], paid_at=NOW - timedelta(hours=1), buyer="b")
    store.dispose()
    return db


def test_check_opens_cases_and_report_shows_levels(tmp_path):
    db = seeded(tmp_path)
    checked = run(db, "stock", "check", "--json")
    assert checked.exit_code == 0, checked.output
    [result] = json.loads(checked.stdout)
    assert (result["orders_checked"], result["short_orders"], result["cases_opened"]) == (2, 1, 1)
    report = run(db, "stock", "report", "--low", "--json")
    assert report.exit_code == 0, report.output
    [shop] = json.loads(report.stdout)
    assert {s["properties"] for s in shop["skus"]} == {BLACK_M, WHITE_M}
    assert shop["stockouts"]["live"] == 1 and shop["sell_through"]["skus"] == 3
    table = run(db, "stock", "report")
    assert table.exit_code == 0 and "动销率" in table.stdout


def test_import_names_bad_rows_and_then_checks(tmp_path):
    db = seeded(tmp_path)
    run(db, "stock", "check")
    stock = tmp_path / "stock.csv"
    stock.write_text("SKU编码,库存\nXTZ-001-s-bm,4\nXTZ-001-s-wm,lots\n", encoding="utf-8")
    result = run(db, "stock", "import", "--shop", "命令行店", "--json", str(stock))
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["imports"][0]["skus_updated"] == 1 and out["imports"][0]["problems"][0].startswith("stock.csv:3: ")
    assert out["checks"][0]["short_orders"] == 1  # white M is still short for the later order


def test_a_missing_file_fails_with_its_name(tmp_path):
    db = seeded(tmp_path)
    result = run(db, "stock", "import", str(tmp_path / "nope.csv"))
    assert result.exit_code == 1 and "nope.csv: file not found" in result.stderr


def test_reply_and_presale_from_the_command_line(tmp_path):
    db = seeded(tmp_path)
    run(db, "stock", "check")
    cases = json.loads(run(db, "stock", "report", "--json").stdout)
    store = Store(f"sqlite:///{db}")
    from kefu.store.stock_tables import StockoutCase

    with store.session() as s:
        case_id = s.query(StockoutCase.id).scalar()
    store.dispose()
    assert cases[0]["stockouts"]["live"] == 1
    unknown = run(db, "stock", "reply", case_id, "在吗")
    assert unknown.exit_code == 2 and "没看懂" in unknown.stdout
    waited = run(db, "stock", "reply", case_id, "3")
    assert waited.exit_code == 0 and waited.stdout.startswith("waiting_restock")
    bad_date = run(db, "stock", "presale", "s-bm", "--date", "someday")
    assert bad_date.exit_code == 1
    switched = run(db, "stock", "presale", "s-bm", "--date", "2026-12-05")
    assert switched.exit_code == 0 and "told 1 orders" in switched.stdout
