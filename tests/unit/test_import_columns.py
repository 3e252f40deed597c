"""The columnar CSV reader gives exactly the rows and rejections of the record parser, quirk by quirk, chunk by chunk."""

from datetime import datetime, timezone
from pathlib import Path

import pytest

from kefu.ingest.taobao_export import open_export
from kefu.services.import_frames import column_batches
from kefu.services.import_rows import RowMaker, row_batches
from kefu.services.import_tables import from_rows

NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)

ORDER_HEADER = (
    "订单编号,买家会员名,买家支付宝账号,买家应付货款,买家应付邮费,总金额,买家实际支付金额,订单状态,买家留言,收货人姓名,收货地址 ,"
    "运送方式,联系电话 ,联系手机,订单创建时间,订单付款时间 ,宝贝标题 ,宝贝种类,物流单号 ,物流公司,订单备注,宝贝总数量,店铺Id,"
    "订单关闭原因,发票抬头,是否手机订单,退款金额,确认收货时间,发货时间,自定义列"
)
ORDER_ROWS = [
    # the usual row: guarded id and title, masked address, one waybill
    '="3876512093841527761",tb_kitty2019,alipay@x.com,59.00,0.00,59.00,54.00,"买家已付款，等待卖家发货",请发中通谢谢,张*,'
    "浙江省 杭州市 西湖区 文三路***号,快递,,'13800000001,2025-03-10 20:41:07,2025-03-10 20:41:15,=\"夏季纯棉短袖T恤\",1,,,"
    ",1,0,订单未关闭,,手机订单,0.00,,,",
    # spaces and tabs around cells, .00 tail on the id, two waybills split by a full-width comma and a semicolon
    " 3876512093841527762.00 ,\t小明 ,,1234.5 ,10,1244.5,1244.50,卖家已发货，等待买家确认,\"周六前要到\n谢谢\",李**,"
    "上海 上海市  浦东新区 世纪大道 (200120),快递,021-5555,,2025-03-11 09:00:00,2025-03-11 09:01:00,连衣裙,2,"
    '"SF1，SF2;YT3",顺丰速运,赠品已放,2,123,,"公司,抬头",否,无退款申请,,2025-03-12 10:00:00,"引号""和\\反斜杠"',
    # closed after payment, no refund given: refunded is the paid amount
    '="3876512093841527763",洛洛,,20.00,0.00,20.00,20.00,交易关闭,,王*,北京 北京市 朝阳区,快递,,,2025-03-12 08:00:00,'
    "2025-03-12 08:00:05,帽子,1,,,,1,,买家申请退款,,,,,,",
    # never paid: closed by Taobao
    '="3876512093841527764",洛洛,,20.00,0.00,20.00,0.00,交易关闭,,王*,北京,快递,,,2025-03-12 08:00:00,,帽子,1,,,,1,,'
    "买家未付款,,,,,,",
    # shapes only the record parser reads: slashes, an Excel serial date, a thousands comma, ¥, 3.0 items
    '="3876512093841527765",阿花,,"1,299.00",￥0,"1,299.00",1299,交易成功,,赵*,广东省 深圳市 南山区 科技园,快递,,,'
    "2025/03/13 10:00:00,45730.5,外套,1,JT9,极兔速递,,3.0,,,,1,0,2025-03-20 10:00:00,2025-03-14 10:00:00,\x07控制",
    # rejections: no order number, a word for an amount, a scientific id, a time nobody can read
    ',阿花,,1.00,0,1.00,1.00,交易成功,,,,,,,2025-03-13 10:00:00,,,1,,,,1,,,,,,,,',
    '="3876512093841527766",阿花,,1.00,0,1.00,五十四,交易成功,,,,,,,2025-03-13 10:00:00,,,1,,,,1,,,,,,,,',
    "3.87651E+18,阿花,,1.00,0,1.00,1.00,交易成功,,,,,,,2025-03-13 10:00:00,,,1,,,,1,,,,,,,,",
    '="3876512093841527767",阿花,,1.00,0,1.00,1.00,交易成功,,,,,,,下午三点,,,1,,,,1,,,,,,,,',
    # the same order again later in the file: the later row wins
    '="3876512093841527761",tb_kitty2019,,59.00,0.00,59.00,54.00,卖家已发货，等待买家确认,请发中通谢谢,张*,'
    "浙江省 杭州市 西湖区 文三路***号,快递,,13800000001,2025-03-10 20:41:07,2025-03-10 20:41:15,夏季纯棉短袖T恤,1,"
    "ZT100,中通快递,,1,0,订单未关闭,,手机订单,0.00,,2025-03-11 20:00:00,",
]
LINE_HEADER = "订单编号,子订单编号,标题,价格,购买数量,外部系统编号,商品属性,订单状态,买家实付金额,退款状态,退款金额,商品ID,发货时间,套餐信息"
LINE_ROWS = [
    '="3876512093841527761",="3876512093841527761001",夏季纯棉短袖T恤,59.00,1,TX-01,"颜色分类：白色;尺码：M",'
    "买家已付款，等待卖家发货,54.00,,无退款申请,=\"612345678901\",,",
    '="3876512093841527762",,连衣裙,622.25,2,,颜色分类：黑色,卖家已发货，等待买家确认,1244.50,退款成功,100,,'
    "2025-03-12 10:00:00,套餐A",
    "'3876512093841527763,,帽子,20,1.0,HAT,,交易关闭,20,,,,,",
    '="3876512093841527764",,,20,1,,,交易关闭,20,,,,,',  # no title: rejected
    '="3876512093841527765",,外套,"1,299.00",x,,,交易成功,1299,,,,,',  # not a count: rejected
]


def _write(path: Path, header: str, rows: list[str], encoding: str, blank_line: bool = False) -> Path:
    lines = [header, *rows[:3], *([""] if blank_line else []), *rows[3:]]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    return path


def _tables(batches) -> dict[str, list]:
    out: dict[str, list] = {"rejections": []}
    for batch in batches:
        out["rejections"] += [(r.line_no, r.reason, r.raw) for r in batch.rejections]
        for table, frame in batch.tables.items():
            out.setdefault(table, []).extend(frame.rows())
    out.pop("customers", None)  # which row of a repeat buyer a batch keeps depends on where batches end
    out.pop("stub_orders", None)
    # Rows are upserted in file order, so a key read twice ends as its last row, whichever batch it was in.
    final = {table: list({row[0]: row for row in rows}.values()) for table, rows in out.items() if table != "rejections"}
    return {table: sorted(map(repr, rows)) for table, rows in {**out, **final}.items()}


def _both(path: Path, chunk_bytes: int) -> tuple[dict, dict]:
    maker = RowMaker("s1", sqlite=True, now=NOW, stub_orders=False)
    by_record = _tables(from_rows(b) for b in row_batches(open_export(path), maker, 2000))
    by_column = _tables(column_batches(open_export(path), maker, chunk_bytes))
    return by_record, by_column


@pytest.mark.parametrize("encoding", ["gbk", "utf-8-sig"])
@pytest.mark.parametrize("chunk_bytes", [64, 700, 1 << 20])
@pytest.mark.parametrize("report", ["orders", "lines"])
def test_columnar_reader_matches_the_record_parser(tmp_path, encoding, chunk_bytes, report):
    header, rows = (ORDER_HEADER, ORDER_ROWS) if report == "orders" else (LINE_HEADER, LINE_ROWS)
    by_record, by_column = _both(_write(tmp_path / f"{report}.csv", header, rows, encoding), chunk_bytes)
    assert by_column == by_record
    assert len(by_record["rejections"]) == (4 if report == "orders" else 2)


@pytest.mark.parametrize("trouble", ["blank line", "wrong column count", "lone carriage return"])
def test_a_chunk_the_columnar_reader_refuses_is_read_by_the_record_parser(tmp_path, trouble):
    rows = list(ORDER_ROWS)
    if trouble == "wrong column count":
        rows.insert(4, rows[0] + ",多出来的,列")
    if trouble == "lone carriage return":
        rows[1] = rows[1].replace("周六前要到\n谢谢", "周六前要到\r谢谢")
    path = _write(tmp_path / "orders.csv", ORDER_HEADER, rows, "gbk", blank_line=trouble == "blank line")
    for chunk_bytes in (300, 1 << 20):
        by_record, by_column = _both(path, chunk_bytes)
        assert by_column == by_record


def test_line_numbers_count_newlines_inside_cells(tmp_path):
    path = _write(tmp_path / "orders.csv", ORDER_HEADER, ORDER_ROWS, "gbk")
    maker = RowMaker("s1", sqlite=True, now=NOW, stub_orders=False)
    rejected = [r.line_no for b in column_batches(open_export(path), maker) for r in b.rejections]
    assert rejected == [8, 9, 10, 11]  # row 2 spans two lines (a buyer message with a line break)


def test_only_unusual_rows_go_to_the_record_parser(tmp_path, monkeypatch):
    from kefu.ingest.taobao_export import ExportFile

    slow: list[int] = []
    original = ExportFile.record
    monkeypatch.setattr(ExportFile, "record", lambda self, line_no, cells: slow.append(line_no) or original(self, line_no, cells))
    monkeypatch.setattr(ExportFile, "records", lambda self, rows: pytest.fail("the whole file fell back"))
    path = _write(tmp_path / "orders.csv", ORDER_HEADER, ORDER_ROWS, "gbk")
    list(column_batches(open_export(path), RowMaker("s1", sqlite=True, now=NOW, stub_orders=False)))
    assert slow == [7, 8, 9, 10, 11]  # the spreadsheet shapes (line 7) and the four rejections


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe"])
def test_times_convert_like_the_record_parser_in_any_zone(zone):
    import polars as pl
    from zoneinfo import ZoneInfo

    from kefu.ingest import cell_columns as cc
    from kefu.ingest.cells import CellError, LocalTimes

    texts = ["2025-03-09 01:59:59", "2025-03-09 02:30:00", "2025-03-09 03:00:00", "2025-11-02 01:30:00",
             "2025-11-02 00:59:59", "2025-04-06 01:45:00", "2025-04-06 02:15:00", "2025-10-05 02:10:00",
             "2025-07-01 12:00:00", "2025-02-30 10:00:00", "2025-07-01 12:60:00", "2025/07/01 12:00:00", ""]
    frame = pl.DataFrame({"t": texts})
    value, slow = cc.utc_time(pl.col("t"), cc.utc_hours(frame, ["t"], zone))
    got = frame.select(value=value, slow=slow).rows()
    times = LocalTimes(ZoneInfo(zone))
    for text, (converted, is_slow) in zip(texts, got):
        if is_slow:
            continue  # the record parser reads it (or rejects it)
        try:
            expected = times.utc(text, "t")
        except CellError:
            pytest.fail(f"{text!r} read as {converted!r} but the record parser rejects it")
        assert converted == expected, text
    assert frame.filter(pl.col("t") == "").select(value).item() is None


def test_no_times_at_all():
    import polars as pl

    from kefu.ingest import cell_columns as cc

    frame = pl.DataFrame({"t": ["", ""]})
    value, slow = cc.utc_time(pl.col("t"), cc.utc_hours(frame, ["t"], "Asia/Shanghai"))
    assert frame.select(value=value, slow=slow).rows() == [(None, False), (None, False)]
