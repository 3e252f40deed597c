"""An order report read by two processes lands exactly the rows and FILE:LINE rejections of a one-reader import."""

import shutil
from pathlib import Path

import pytest
from sqlalchemy import text

import kefu.services.import_orders as importer
import kefu.services.import_split as split
from kefu.services.import_orders import import_taobao_files
from kefu.store.database import Store
from test_import_taobao import ORDER_HEADER, order_row, write

# A repeated order agrees with its first row on every cell it leaves empty: within one chunk a file's last row of
# an order replaces the earlier ones whole, across chunks (or parts) the upsert keeps what the later row leaves empty.
ROWS = [
    order_row("3876512093841527701"),  # line 2
    order_row("3876512093841527702", nick="小明", waybill="SF1;SF2", carrier="顺丰速运"),
    order_row("3876512093841527703", paid="五十四"),  # rejected: a word for an amount
    order_row("3876512093841527704", nick="洛洛", memo='"第一行\n第二行"'),  # lines 5 and 6
    order_row("3876512093841527701", status="卖家已发货，等待买家确认", waybill="ZT100", carrier="中通快递"),
    order_row("", nick="x"),  # rejected: no order number (line 8)
    order_row("3876512093841527705", nick="小明", memo='"再来\n一行"'),  # lines 9 and 10
    order_row("3876512093841527702", nick="小明", status="交易成功", waybill="SF1;SF2", carrier="顺丰速运",
              paid_at="2025-03-11 08:00:00"),
    order_row("3876512093841527706", created="下午三点"),  # rejected: a time nobody can read (line 12)
]

SNAPSHOT = {
    "orders": "SELECT * FROM orders ORDER BY id",
    "customers": "SELECT id, buyer_key, buyer_nick, province, city, district, orders_count, paid_orders_count,"
                 " total_spent FROM customers ORDER BY id",
    "shipments": "SELECT id, order_id, carrier_name, carrier_code, waybill_no, shipped_at FROM shipments ORDER BY id",
    "rejections": "SELECT line_no, reason, raw FROM import_rejections ORDER BY line_no",
}


def _snapshot(store: Store) -> dict:
    """Every stored row the import wrote, without the import's own clock (orders.updated_at)."""
    with store.engine.connect() as conn:
        out = {name: [row._asdict() for row in conn.execute(text(sql))] for name, sql in SNAPSHOT.items()}
    for row in out["orders"]:
        del row["updated_at"]
    return out


def _import(store: Store, path: Path):
    [result] = import_taobao_files(store, [path], "店")
    return (result.rows_read, result.rows_new, result.rows_rejected,
            [(r.line_no, r.reason) for r in result.rejections], result.error)


@pytest.fixture
def order_report(tmp_path) -> Path:
    return write(tmp_path / "ExportOrderList202503121030.csv", [ORDER_HEADER, *ROWS])


def _line_start(path: Path, line: int) -> int:
    """The byte offset physical line `line` (1-based) starts at."""
    data = path.read_bytes()
    offset = 0
    for _ in range(line - 1):
        offset = data.index(b"\n", offset) + 1
    return offset


@pytest.mark.parametrize("cut_line, parts_used", [
    (7, 2),   # a record starts there: two readers, the second's lines counted on from the first's
    (2, 2),   # right after the header: the first reader has no rows at all
    (11, 2),  # the last rejection is the second reader's
    (6, 1),   # inside the quoted two-line memo: the first reader reads the whole file, the second is dropped
    (10, 1),  # inside the second one
])
def test_split_import_matches_one_reader(sqlite_store, tmp_path, monkeypatch, order_report,
                                         cut_line, parts_used):
    importer._shop_for(sqlite_store, "店")  # the same shop (and so the same ids) in both stores
    sqlite_store.dispose()
    reference_path = tmp_path / "reference.db"
    shutil.copy(sqlite_store.engine.url.database, reference_path)
    reference = Store(f"sqlite:///{reference_path}")
    expected = _import(reference, order_report)
    assert expected[2] == 3 and [line for line, _ in expected[3]] == [4, 8, 12]

    cut = _line_start(order_report, cut_line)
    monkeypatch.setattr(importer, "PARALLEL_FROM_BYTES", 0)
    monkeypatch.setattr(split, "SPLIT_FROM_BYTES", 0)
    monkeypatch.setattr(split, "split_points", lambda path, parts: [cut])
    readers: list[split.SplitReader] = []
    start = split.SplitReader.start.__func__
    monkeypatch.setattr(split.SplitReader, "start",
                        classmethod(lambda cls, *a: readers.append(start(cls, *a)) or readers[-1]))
    got = _import(sqlite_store, order_report)
    assert len(readers) == 1 and readers[0].used == parts_used
    assert got == expected
    assert _snapshot(sqlite_store) == _snapshot(reference)
    assert _import(sqlite_store, order_report)[1] == 0  # a re-import adds nothing
    reference.dispose()
