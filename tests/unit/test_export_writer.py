"""The 千牛 export writers: GBK bytes, the real quirks, xlsx readable, and the importer's parser reads them back."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from decimal import Decimal

import openpyxl
import pytest

from kefu.demo.export_writer import (
    LEGACY_LINE_HEADER,
    NEW_LINE_HEADER,
    ORDER_REPORT_HEADER,
    CatalogRow,
    LineRow,
    OrderRow,
    beijing_time,
    line_report_name,
    order_report_name,
    write_bench_exports,
    write_catalog_csv,
    write_line_report_csv,
    write_line_report_xlsx,
    write_order_report_csv,
)
from kefu.domain import order_status
from kefu.ingest.taobao_export import LINES, ORDERS, LineRecord, OrderRecord, open_export

D = Decimal


def order(**changes) -> OrderRow:
    values = {
        "order_no": "3878120957734810452",
        "buyer_nick": "wangxm_88",
        "goods_amount": D("178.00"),
        "post_fee": D("0.00"),
        "total_amount": D("178.00"),
        "paid_amount": D("168.00"),
        "status_text": "卖家已发货，等待买家确认",
        "created_at": datetime(2025, 3, 11, 13, 15, 9),
        "titles": ["保温杯316不锈钢500ml", "保温杯替换杯盖"],
        "item_count": 3,
        "paid_at": datetime(2025, 3, 11, 13, 15, 40),
        "shipped_at": datetime(2025, 3, 12, 9, 0, 0),
        "buyer_message": "请发中通谢谢",
        "seller_memo": "赠品已放",
        "receiver_name": "王*",
        "receiver_address": "北京 北京市 朝阳区 望京街道***",
        "mobile": "13800000003",
        "waybill_no": "78901234567890",
        "carrier": "中通快递",
        "alipay_account": "138****0003",
        "shop_id": "447712782",
        "shop_name": "小桃子的衣橱",
    }
    values.update(changes)
    return OrderRow(**values)


def line(**changes) -> LineRow:
    values = {
        "order_no": "3878120957734810452",
        "title": "保温杯316不锈钢500ml",
        "price": D("89.00"),
        "quantity": 2,
        "status_text": "卖家已发货，等待买家确认",
        "properties": "颜色分类：白色;尺码：500ml",
        "outer_id": "XTZ-JJ009",
        "outer_sku_id": "XTZ-JJ009-01",
        "sub_order_no": "3878120957734810453",
        "item_id": "674512390875",
        "paid_amount": D("168.00"),
        "shipped_at": datetime(2025, 3, 12, 9, 0, 0),
    }
    values.update(changes)
    return LineRow(**values)


def read_csv(path, encoding="gbk") -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_bytes().decode(encoding), newline="")))


def test_order_report_is_gbk_with_the_legacy_header_and_quirks(tmp_path):
    path = tmp_path / "orders.csv"
    rows = (r for r in [order(), order(order_no="3877004419265531208", status_text="买家已付款，等待卖家发货")])
    assert write_order_report_csv(path, rows) == 2
    data = path.read_bytes()
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    text = data.decode("gbk")
    assert "\r\n" in text
    header, first, second = read_csv(path)
    assert tuple(header) == ORDER_REPORT_HEADER
    for spaced in ("收货地址 ", "订单付款时间 ", "宝贝标题 ", "物流单号 ", "联系电话 "):
        assert spaced in header
    cells = dict(zip(header, first))
    assert text.splitlines()[1].startswith('="3878120957734810452",wangxm_88,')
    assert cells["宝贝标题 "] == '="保温杯316不锈钢500ml，保温杯替换杯盖"'
    assert cells["联系手机"] == "'13800000003"
    assert cells["订单状态"] == "卖家已发货，等待买家确认"
    assert cells["物流单号 "] == '="78901234567890"'
    assert cells["订单创建时间"] == "2025-03-11 13:15:09"
    assert cells["买家实际支付金额"] == "168.00"
    assert cells["宝贝种类"] == "2" and cells["宝贝总数量"] == "3"
    assert cells["订单关闭原因"] == "订单未关闭"
    assert cells["是否手机订单"] == "手机订单"
    assert cells["买家支付宝账号"] == "138****0003"
    assert dict(zip(header, second))["订单状态"] == "买家已付款，等待卖家发货"


def test_cells_with_commas_or_quotes_round_trip(tmp_path):
    path = tmp_path / "orders.csv"
    tricky = order(buyer_message='要"加急",谢谢\n周六前', titles=['标题,带逗号', "第二件"], seller_memo="a,b")
    write_order_report_csv(path, [tricky])
    header, row = read_csv(path)
    cells = dict(zip(header, row))
    assert cells["买家留言"] == '要"加急",谢谢\n周六前'
    assert cells["宝贝标题 "] == '="标题,带逗号，第二件"'
    assert cells["订单备注"] == "a,b"


def test_aware_times_are_written_in_beijing_time():
    assert beijing_time(datetime(2025, 3, 10, 16, 30, 5, tzinfo=UTC)) == "2025-03-11 00:30:05"
    assert beijing_time(datetime(2025, 3, 10, 16, 30, 5, 999)) == "2025-03-10 16:30:05"
    assert beijing_time(None) == ""


def test_legacy_line_report(tmp_path):
    path = tmp_path / "lines.csv"
    assert write_line_report_csv(path, iter([line(), line(title="保温杯替换杯盖", price=D("0.50"), quantity=1)])) == 2
    header, first, second = read_csv(path)
    assert tuple(header) == LEGACY_LINE_HEADER
    cells = dict(zip(header, first))
    assert cells["订单编号"] == '="3878120957734810452"'
    assert cells["价格"] == "89.00" and cells["购买数量"] == "2"
    assert cells["商品属性"] == "颜色分类：白色;尺码：500ml"
    assert cells["商家编码"] == "XTZ-JJ009" and cells["外部系统编号"] == "XTZ-JJ009-01"
    assert dict(zip(header, second))["价格"] == "0.50"


def test_new_line_layout_words_refunds_as_the_export_does(tmp_path):
    path = tmp_path / "lines.csv"
    refunded = line(refund_status="退款成功", refunded_amount=D("168.00"), status_text="交易关闭")
    write_line_report_csv(path, [line(), refunded], layout="new", encoding="utf-8-sig")
    header, plain, closed = read_csv(path, encoding="utf-8-sig")
    assert tuple(header) == NEW_LINE_HEADER
    plain_cells, closed_cells = dict(zip(header, plain)), dict(zip(header, closed))
    assert plain_cells["退款状态"] == "没有申请退款" and plain_cells["退款金额"] == "无退款申请"
    assert closed_cells["退款状态"] == "退款成功" and closed_cells["退款金额"] == "168.00"
    assert plain_cells["子订单编号"] == '="3878120957734810453"'


def test_unknown_layout_is_refused(tmp_path):
    with pytest.raises(ValueError, match="layout"):
        write_line_report_csv(tmp_path / "x.csv", [], layout="newest")


def test_xlsx_line_report_is_readable_and_all_text(tmp_path):
    path = tmp_path / "lines.xlsx"
    assert write_line_report_xlsx(path, (r for r in [line(), line(sub_order_no="", refunded_amount=D("1.00"))])) == 2
    book = openpyxl.load_workbook(path, read_only=True)
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    book.close()
    assert rows[0] == NEW_LINE_HEADER
    assert rows[1][0] == "3878120957734810453" and rows[1][1] == "3878120957734810452"
    assert rows[2][0] == "3878120957734810452"  # a single-line order's sub-order number is the order's own
    assert all(isinstance(v, str) for v in rows[1] if v is not None)
    assert rows[1][NEW_LINE_HEADER.index("发货时间")] == "2025-03-12 09:00:00"


def test_the_order_importers_parser_reads_what_the_writers_write(tmp_path):
    orders_path = tmp_path / order_report_name(datetime(2025, 3, 12, 10, 30))
    lines_path = tmp_path / line_report_name(datetime(2025, 3, 12, 10, 30), ".xlsx")
    closed = order(order_no="3877004419265531208", status_text="交易关闭", close_reason="买家未付款", paid_at=None,
                   paid_amount=D("0.00"), shipped_at=None, waybill_no="", carrier="", mobile="")
    write_order_report_csv(orders_path, [order(), closed])
    write_line_report_xlsx(lines_path, [line()])
    export = open_export(orders_path)
    assert export.kind == ORDERS and export.encoding == "gb18030"
    shipped, unpaid = list(export)
    assert isinstance(shipped, OrderRecord) and isinstance(unpaid, OrderRecord)
    assert shipped.order_no == "3878120957734810452"
    assert shipped.status == order_status.WAIT_BUYER_CONFIRM_GOODS
    assert shipped.paid_amount == 16800 and shipped.receiver_phone == "13800000003"
    assert shipped.title_summary == "保温杯316不锈钢500ml，保温杯替换杯盖"
    assert shipped.waybills == ("78901234567890",) and shipped.carrier == "中通快递"
    assert (shipped.province, shipped.city, shipped.district) == ("北京", "北京市", "朝阳区")
    assert shipped.created_at == "2025-03-11 05:15:09.000000"  # 13:15:09 Beijing time, as UTC text
    assert unpaid.status == order_status.TRADE_CLOSED_BY_TAOBAO
    lines = open_export(lines_path)
    assert lines.kind == LINES
    (record,) = list(lines)
    assert isinstance(record, LineRecord)
    assert record.item_id == "674512390875" and record.refunded_amount == 0 and record.price == 8900


def test_catalog_csv(tmp_path):
    path = tmp_path / "商品目录.csv"
    write_catalog_csv(path, [CatalogRow("674512390875", "XTZ-SY001", "纯棉T恤", "上衣", D("49"), "白色", "M", "XTZ-SY001-01M", 12)])
    header, row = read_csv(path, encoding="utf-8-sig")
    assert header == ["商品ID", "商家编码", "宝贝标题", "类目", "价格", "颜色分类", "尺码", "SKU编码", "库存"]
    assert row == ['="674512390875"', "XTZ-SY001", "纯棉T恤", "上衣", "49.00", "白色", "M", "XTZ-SY001-01M", "12"]


def test_file_names_follow_qianniu():
    at = datetime(2025, 3, 12, 10, 30)
    assert order_report_name(at) == "ExportOrderList202503121030.csv"
    assert line_report_name(at, ".xlsx") == "ExportOrderDetailList202503121030.xlsx"


def test_bench_exports_stream_both_reports(tmp_path):
    orders_path, lines_path = write_bench_exports(tmp_path, 2000, seed=3)
    orders = read_csv(orders_path)
    lines = read_csv(lines_path)
    assert tuple(orders[0]) == ORDER_REPORT_HEADER and tuple(lines[0]) == LEGACY_LINE_HEADER
    assert len(orders) == 2001
    assert 1.4 <= (len(lines) - 1) / 2000 <= 1.6
    order_numbers = {row[0] for row in orders[1:]}
    assert {row[0] for row in lines[1:]} <= order_numbers and len(order_numbers) == 2000
    assert all(len(row) == len(ORDER_REPORT_HEADER) for row in orders)
    again, _ = write_bench_exports(tmp_path / "again", 2000, seed=3)
    assert again.read_bytes() == orders_path.read_bytes()
