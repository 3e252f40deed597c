"""The 千牛 importer against a real store: quirks, idempotency, updates, rejections — on SQLite and PostgreSQL."""

from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import func, select

from kefu.services.import_orders import import_taobao_files
from kefu.store.tables import Customer, ImportRejection, ImportRun, Order, OrderLine, Product, Shipment

FIXTURE = Path(__file__).parent.parent / "fixtures" / "taobao" / "ExportOrderList202503121030.csv"

ORDER_HEADER = (
    "订单编号,买家会员名,买家应付货款,买家应付邮费,总金额,买家实际支付金额,订单状态,买家留言,收货人姓名,收货地址 ,"
    "运送方式,联系手机,订单创建时间,订单付款时间 ,宝贝标题 ,宝贝种类,物流单号 ,物流公司,订单备注,宝贝总数量,订单关闭原因,退款金额,自定义列"
)


def order_row(no, nick="tb_kitty2019", status="买家已付款，等待卖家发货", paid="54.00", waybill="", carrier="", created="2025-03-10 20:41:07",
              paid_at="2025-03-10 20:41:15", refund="0.00", memo="", close="订单未关闭", custom=""):
    return (f'="{no}",{nick},59.00,0.00,59.00,{paid},"{status}",请发中通谢谢,张*,浙江省 杭州市 西湖区 文三路***号,快递,'
            f"'13800000001,{created},{paid_at},=\"夏季纯棉短袖T恤女宽松百搭\",1,{waybill},{carrier},{memo},1,{close},{refund},{custom}")


def write(path: Path, lines: list[str], encoding="gbk") -> Path:
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    return path


def count(store, table) -> int:
    with store.session() as s:
        return s.scalar(select(func.count()).select_from(table))


def test_reference_sample_lands_with_every_quirk_handled(store):
    [result] = import_taobao_files(store, [FIXTURE], "测试店")
    assert result.error is None and result.kind == "taobao_orders"
    assert (result.rows_read, result.rows_landed, result.rows_new, result.rows_rejected) == (3, 3, 3, 0)
    with store.session() as s:
        orders = {o.order_no: o for o in s.scalars(select(Order))}
        assert set(orders) == {"3876512093841527761", "3877004419265531208", "3878120957734810452"}
        first = orders["3876512093841527761"]
        assert first.status == "WAIT_SELLER_SEND_GOODS"
        assert first.paid_amount == Decimal("54.00") and first.total_amount == Decimal("59.00")
        assert first.buyer_message == "请发中通谢谢"
        assert first.receiver_province == "浙江省" and first.receiver_address == "文三路***号"
        assert first.receiver_phone == "13800000001"
        assert first.created_at.isoformat() == "2025-03-10T12:41:07+00:00"  # 20:41:07 Beijing time
        assert orders["3877004419265531208"].status == "TRADE_CLOSED_BY_TAOBAO"  # closed, never paid
        shipped = orders["3878120957734810452"]
        assert shipped.status == "WAIT_BUYER_CONFIRM_GOODS" and shipped.seller_memo == "赠品已放"
        assert shipped.title_summary == "保温杯316不锈钢500ml，保温杯替换杯盖" and shipped.item_count == 3
        [parcel] = s.scalars(select(Shipment)).all()
        assert (parcel.waybill_no, parcel.carrier_code) == ("78901234567890", "zhongtong")
        customers = {c.buyer_nick: c for c in s.scalars(select(Customer))}
        assert customers["tb_kitty2019"].total_spent == Decimal("54.00")
        assert customers["洛洛的小店铺"].total_spent == Decimal("0.00")


def test_reimport_adds_nothing(store):
    import_taobao_files(store, [FIXTURE], "测试店")
    [again] = import_taobao_files(store, [FIXTURE], "测试店")
    assert (again.rows_new, again.rows_updated, again.rows_rejected) == (0, 0, 0)
    assert count(store, Order) == 3 and count(store, Customer) == 3 and count(store, Shipment) == 1


def test_newer_export_updates_status_amount_and_waybill_but_an_older_one_does_not_undo_it(store, tmp_path):
    old = write(tmp_path / "ExportOrderList202503101200.csv", [ORDER_HEADER, order_row("3876512093841527761")])
    new = write(tmp_path / "ExportOrderList202503121200.csv", [ORDER_HEADER, order_row(
        "3876512093841527761", status="卖家已发货,等待买家确认", paid="50.00", waybill="YT0000000000001", carrier="圆通速递")])
    import_taobao_files(store, [old], "店")
    [update] = import_taobao_files(store, [new], "店")
    assert (update.rows_new, update.rows_updated) == (0, 1)
    [stale] = import_taobao_files(store, [old], "店")
    assert stale.rows_updated == 0
    with store.session() as s:
        order = s.scalar(select(Order))
        assert order.status == "WAIT_BUYER_CONFIRM_GOODS"  # ASCII comma in the status read like the full-width one
        assert order.paid_amount == Decimal("50.00")
        assert s.scalar(select(Shipment.carrier_code)) == "yuantong"


def test_bad_rows_are_reported_with_file_and_line_and_good_rows_land(store, tmp_path):
    path = write(tmp_path / "ExportOrderList202503121030.csv", [
        ORDER_HEADER,
        order_row("3876512093841527761"),
        order_row(""),                                  # line 3: no order number
        order_row("3876512093841527762", paid="五十四"),  # line 4: amount
        order_row("3876512093841527763", created="下午三点"),  # line 5: time
        order_row("3876512093841527764") + ",多出来的,列",   # line 6: column count
        order_row("3876512093841527765"),
    ])
    [result] = import_taobao_files(store, [path], "店")
    assert result.error is None
    assert (result.rows_read, result.rows_landed, result.rows_rejected) == (6, 2, 4)
    reasons = {r.line_no: r.reason for r in result.rejections}
    assert set(reasons) == {3, 4, 5, 6}
    assert "订单编号" in reasons[3] and "买家实际支付金额" in reasons[4] and "订单创建时间" in reasons[5]
    assert "column count" in reasons[6]
    assert count(store, Order) == 2
    with store.session() as s:
        run = s.get(ImportRun, result.run_id)
        assert (run.status, run.rows_rejected, run.rows_landed) == ("done", 4, 2)
        stored = s.scalars(select(ImportRejection).where(ImportRejection.run_id == run.id)).all()
        assert sorted(r.line_no for r in stored) == [3, 4, 5, 6]
        assert all("13800000001" not in (r.raw or "") for r in stored)  # phones redacted in the stored raw row


def test_unreadable_file_fails_alone_with_a_clear_message(store, tmp_path):
    junk = tmp_path / "notes.csv"
    junk.write_text("hello,world\n1,2\n", encoding="utf-8")
    results = import_taobao_files(store, [junk, FIXTURE], "店")
    by_name = {r.file_name: r for r in results}
    assert "notes.csv" in by_name["notes.csv"].error and "header" in by_name["notes.csv"].error
    assert by_name[FIXTURE.name].rows_new == 3


def test_utf8_bom_tabs_unknown_columns_and_the_2026_layout_without_buyer_nick(store, tmp_path):
    header = ("订单编号\t,支付单号,买家应付货款,买家应付邮费,总金额,买家实付金额,订单状态,收货地址,运送方式,订单创建时间,"
              "商品标题,宝贝种类,物流单号,物流公司,备注标签,商家备注,宝贝总数量,开票信息,手机订单,商品属性SKU,发货时间")
    row = ('="4011122233344455566",="2025031122001100001",99.00,0.00,99.00,89.00,交易成功,上海 上海市 ***,快递,'
           "2025-03-11 10:00:00,连衣裙,1,SF1234567890123,顺丰速运,红旗,尺码偏小提醒,1,,是,颜色分类：黑色;尺码：M,2025-03-11 16:00:00")
    path = write(tmp_path / "orders.csv", [header, row], encoding="utf-8-sig")
    [result] = import_taobao_files(store, [path], "店")
    assert result.rows_new == 1, result.rejections
    with store.session() as s:
        order = s.scalar(select(Order))
        assert order.customer_id is None and order.buyer_nick is None  # stored without a buyer identity
        assert order.status == "TRADE_FINISHED" and order.paid_amount == Decimal("89.00")
        assert order.seller_memo == "尺码偏小提醒" and order.is_mobile is True
        assert order.extra["备注标签"] == "红旗" and order.extra["商品属性SKU"] == "颜色分类：黑色;尺码：M"
        assert "支付单号" not in (order.extra or {})  # payment ids are not kept (PIPL minimisation)
        assert s.scalar(select(Shipment.carrier_code)) == "shunfeng"


LEGACY_LINE_HEADER = "订单编号,标题,价格,购买数量,外部系统编号,商品属性,套餐信息,备注,订单状态,商家编码"


def test_line_report_before_order_report_in_any_order(store, tmp_path):
    lines = write(tmp_path / "ExportOrderDetailList202503121030.csv", [
        LEGACY_LINE_HEADER,
        '="3878120957734810452",="保温杯316不锈钢500ml",128.00,2,,"颜色分类：白色;容量：500ml",,,"卖家已发货，等待买家确认",BWB-500-W',
        '="3878120957734810452",="保温杯替换杯盖",25.00,1,,颜色分类：白色,,,"卖家已发货，等待买家确认",BWB-LID',
    ])
    results = import_taobao_files(store, [lines, FIXTURE], "店")  # given lines first; orders are read first anyway
    assert [r.kind for r in results] == ["taobao_orders", "taobao_lines"]
    assert count(store, OrderLine) == 2 and count(store, Order) == 3
    again = import_taobao_files(store, [lines], "店")
    assert again[0].rows_new == 0 and count(store, OrderLine) == 2
    with store.session() as s:
        cup = s.scalar(select(OrderLine).where(OrderLine.outer_id == "BWB-500-W"))
        assert cup.quantity == 2 and cup.price == Decimal("128.00") and cup.sku_properties == "颜色分类：白色;容量：500ml"
        assert s.scalar(select(func.count()).select_from(Product)) == 2


def test_lone_line_report_creates_an_order_the_order_report_completes(store, tmp_path):
    lines = write(tmp_path / "d.csv", [LEGACY_LINE_HEADER, '="3876512093841527761",T恤,59.00,1,,,,,"买家已付款，等待卖家发货",TX-1'])
    import_taobao_files(store, [lines], "店")
    with store.session() as s:
        assert s.scalar(select(Order.status)) == "WAIT_SELLER_SEND_GOODS"
    import_taobao_files(store, [FIXTURE], "店")
    with store.session() as s:
        order = s.get(Order, s.scalar(select(Order.id).where(Order.order_no == "3876512093841527761")))
        assert order.buyer_nick == "tb_kitty2019" and order.paid_amount == Decimal("54.00")


def test_new_xlsx_line_layout_with_refunds_and_numeric_cells(store, tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["子订单编号", "主订单编号", "商品标题", "商品价格", "购买数量", "商品属性", "订单状态", "买家实付金额",
                  "退款状态", "退款金额", "商品ID", "发货时间"])
    sheet.append(["3878120957734810453", "3878120957734810452", "保温杯316不锈钢500ml", 128, 1, "颜色分类：白色",
                  "交易关闭", 118, "退款成功", 118, 612345678901, 45727.25])
    sheet.append(["3878120957734810454", "3878120957734810452", "保温杯替换杯盖", 25, 2, "", "交易成功", 50,
                  "没有申请退款", "无退款申请", 612345678902, None])
    path = tmp_path / "ExportOrderDetailList202503121030.xlsx"
    book.save(path)
    import_taobao_files(store, [FIXTURE], "店")
    [result] = import_taobao_files(store, [path], "店")
    assert result.error is None and result.rows_new == 2, result.rejections
    with store.session() as s:
        refunded = s.scalar(select(OrderLine).where(OrderLine.sub_order_no == "3878120957734810453"))
        assert refunded.refunded_amount == Decimal("118.00") and refunded.refund_status == "退款成功"
        lid = s.scalar(select(OrderLine).where(OrderLine.sub_order_no == "3878120957734810454"))
        assert lid.refunded_amount == Decimal("0.00") and lid.quantity == 2
        order = s.scalar(select(Order).where(Order.order_no == "3878120957734810452"))
        assert order.refunded_amount == Decimal("118.00")  # the order's refund follows its lines
        wang = s.scalar(select(Customer).where(Customer.buyer_nick == "wangxm_88"))
        assert wang.total_spent == Decimal("50.00")  # 168 paid - 118 refunded
        assert s.scalar(select(Product.platform_item_id).where(Product.title == "保温杯替换杯盖")) == "612345678902"


def test_large_files_read_in_a_background_process_give_the_same_result(store, tmp_path, monkeypatch):
    import kefu.services.import_orders as importer

    monkeypatch.setattr(importer, "PARALLEL_FROM_BYTES", 0)  # every file counts as large
    path = write(tmp_path / "ExportOrderList202503121030.csv", [ORDER_HEADER, order_row("3876512093841527761"),
                                                                order_row("", nick="x"), order_row("3876512093841527762")])
    [result] = import_taobao_files(store, [path, ], "店")
    assert (result.rows_read, result.rows_new, result.rows_rejected) == (3, 2, 1)
    assert result.rejections[0].line_no == 3
    lines = write(tmp_path / "d.csv", [LEGACY_LINE_HEADER, '="3876512093841527761",T恤,59.00,1,,,,,"买家已付款，等待卖家发货",TX-1'])
    [line_result] = import_taobao_files(store, [lines], "店")
    assert line_result.rows_new == 1 and count(store, OrderLine) == 1


def test_sqlite_foreign_keys_hold_after_a_bulk_import_with_checks_off(sqlite_store, tmp_path):
    from sqlalchemy import text

    lines = write(tmp_path / "d.csv", [LEGACY_LINE_HEADER, '="3876512093841527799",T恤,59.00,1,,,,,交易成功,TX-1'])
    import_taobao_files(sqlite_store, [FIXTURE, lines], "店")
    with sqlite_store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall() == []
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1  # switched back on for the pool
