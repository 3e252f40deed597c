"""A CSV read in byte-range parts gives exactly the rows, rejections and line numbers of one reader, wherever it is cut."""

from pathlib import Path

import pytest

from kefu.ingest.csv_chunks import split_points, text_chunks
from kefu.ingest.taobao_export import open_export
from kefu.services.import_frames import column_batches
from kefu.services.import_rows import RowMaker
from kefu.services.import_split import SplitReader
from kefu.services.import_tables import TableBatch
from test_import_columns import NOW, ORDER_HEADER, ORDER_ROWS


class InProcessPart:
    """A part read in this process (the importer runs each part in a child process that stages its rows)."""

    def __init__(self, path: Path, start: int, stop: int | None, chunk_bytes: int):
        maker = RowMaker("s1", sqlite=True, now=NOW, stub_orders=False)
        self._batches = column_batches(open_export(path), maker, chunk_bytes, start=start, stop=stop)

    def batches(self):
        yield from self._batches

    def close(self) -> None:
        pass


def _write(path: Path, rows: list[str], encoding: str) -> Path:
    path.write_bytes(("\r\n".join([ORDER_HEADER, *rows]) + "\r\n").encode(encoding))
    return path


def _rows() -> list[str]:
    """The quirky rows twice (a multi-line buyer message in each half, orders repeated across any cut), then more."""
    second = [row.replace("38765120938415277", "38765120938415288") for row in ORDER_ROWS]
    return [*ORDER_ROWS, *second, *ORDER_ROWS[:3]]


def _result(batches: list[TableBatch]) -> dict:
    tables: dict[str, list] = {}
    for batch in batches:
        for table, frame in batch.tables.items():
            tables.setdefault(table, []).extend(frame.rows())
    return {
        "rows_read": sum(b.rows_read for b in batches),
        "rejections": [(r.line_no, r.reason, r.raw) for b in batches for r in b.rejections],
        "warnings": [w for b in batches for w in b.warnings],
        # the store keeps the last row of a key (orders, shipments) and the first of a buyer (customers)
        "orders": sorted(map(repr, {row[0]: row for row in tables.get("orders", [])}.values())),
        "shipments": sorted(map(repr, {row[0]: row for row in tables.get("shipments", [])}.values())),
        "customers": sorted({row[0] for row in tables.get("customers", [])}),
    }


def _one_reader(path: Path, chunk_bytes: int) -> dict:
    maker = RowMaker("s1", sqlite=True, now=NOW, stub_orders=False)
    return _result(list(column_batches(open_export(path), maker, chunk_bytes)))


def _in_parts(path: Path, points: list[int], chunk_bytes: int) -> tuple[dict, int]:
    starts, stops = [0, *points], [*points, None]
    parts = [InProcessPart(path, start, stop, chunk_bytes) for start, stop in zip(starts, stops)]
    reader = SplitReader(open_export(path), parts, starts)
    return _result(list(reader.batches())), reader.used


def _line_starts(path: Path) -> list[int]:
    data = path.read_bytes()
    return [i + 1 for i, byte in enumerate(data[:-1]) if byte == 0x0A]


@pytest.mark.parametrize("encoding", ["gbk", "utf-8-sig"])
@pytest.mark.parametrize("chunk_bytes", [64, 1 << 20])
def test_two_parts_match_one_reader_at_every_cut(tmp_path, encoding, chunk_bytes):
    path = _write(tmp_path / "orders.csv", _rows(), encoding)
    expected = _one_reader(path, chunk_bytes)
    assert len(expected["rejections"]) == 8 and expected["rejections"][0][0] == 8
    data = path.read_bytes()
    split, dropped = 0, 0
    for cut in _line_starts(path):
        got, used = _in_parts(path, [cut], chunk_bytes)
        assert got == expected, f"cut at byte {cut}"
        inside_cell = data[:cut].decode(encoding).count('"') % 2 == 1
        if inside_cell:
            assert used == 1, f"cut at byte {cut} is inside a quoted cell: the first part must read on"
            dropped += 1
        elif cut > len(ORDER_HEADER.encode(encoding)):
            assert used == 2, f"cut at byte {cut} starts a record: the second part must count"
            split += 1
    assert dropped >= 2 and split >= 20  # cuts inside both multi-line messages, and many real splits


def test_three_parts_and_the_cuts_split_points_chooses(tmp_path):
    path = _write(tmp_path / "orders.csv", _rows() * 3, "gbk")
    expected = _one_reader(path, 256)
    for parts in (2, 3, 4):
        points = split_points(path, parts)
        assert len(points) == parts - 1 and points == sorted(set(points))
        assert all(path.read_bytes()[p - 1] == 0x0A for p in points)
        got, _ = _in_parts(path, points, 256)
        assert got == expected
    starts = _line_starts(path)
    got, used = _in_parts(path, [starts[20], starts[45]], 256)
    assert got == expected and used == 3


@pytest.mark.parametrize("trouble", ["blank line in the first part", "lone carriage return in the second part"])
def test_a_part_the_columnar_reader_refuses_still_matches(tmp_path, trouble):
    rows = _rows()
    if trouble.startswith("blank"):
        rows.insert(2, "")
    else:
        rows[11] = rows[11].replace("周六前要到\n谢谢", "周六前要到\r谢谢")
    path = _write(tmp_path / "orders.csv", rows, "gbk")
    expected = _one_reader(path, 300)
    cut = _line_starts(path)[8]  # after the blank line, before the carriage return
    got, used = _in_parts(path, [cut], 300)
    assert got == expected
    # the record parser reads on to the end of the file once it takes over, so the second part is dropped
    assert used == (1 if trouble.startswith("blank") else 2)


def test_undecodable_bytes_in_both_parts_are_counted_once_in_total(tmp_path):
    path = _write(tmp_path / "orders.csv", _rows(), "gbk")
    data = path.read_bytes().replace("请发中通谢谢".encode("gbk"), b"\x81\x20\xff\x20", 1)
    data = data.replace("赠品已放".encode("gbk"), b"\xff\x20", 1)
    half = len(data) // 2
    data = data[:half] + data[half:].replace("赠品已放".encode("gbk"), b"\xff\x20", 1)
    path.write_bytes(data)
    expected = _one_reader(path, 1 << 20)
    assert expected["warnings"] == ["orders.csv: 4 byte sequences are not valid gb18030; they were kept as �"]
    cut = _line_starts(path)[14]
    got, used = _in_parts(path, [cut], 1 << 20)
    assert got == expected and used == 2


def test_a_boundary_only_where_a_record_ends(tmp_path):
    path = _write(tmp_path / "orders.csv", ORDER_ROWS[:3], "gbk")
    encoding, errors = "gb18030", "strict"
    data = path.read_bytes()
    for cut in _line_starts(path):
        chunks = list(text_chunks(path, encoding, errors, skip=1, chunk_bytes=50, stop=cut))
        boundaries = [c for c in chunks if c.boundary]
        before = data[:cut].decode("gbk")
        starts_record = before.count('"') % 2 == 0 and cut > len(ORDER_HEADER.encode("gbk"))
        assert len(boundaries) == (1 if starts_record else 0), cut
        if boundaries:  # the lines before it are the file's lines up to the cut, and reading goes on after it
            assert boundaries[0].first_line == before.count("\n") + 1
            assert "".join(c.text for c in chunks) == data.decode("gbk").split("\r\n", 1)[1]
