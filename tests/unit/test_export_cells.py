from datetime import datetime

import pytest

from kefu.ingest.cells import (
    CellError,
    clean,
    clean_header,
    parse_count,
    parse_fen,
    parse_id,
    parse_local_time,
    parse_refund_fen,
    split_address,
)


@pytest.mark.parametrize(
    "raw, expected",
    [
        ('="3876512093841527761"', "3876512093841527761"),
        ("'13800000001", "13800000001"),
        ("  中通快递\t", "中通快递"),
        ('="夏季纯棉短袖T恤女宽松百搭"', "夏季纯棉短袖T恤女宽松百搭"),
        ("", ""),
    ],
)
def test_clean_removes_excel_guards_and_whitespace(raw, expected):
    assert clean(raw) == expected


def test_clean_header_strips_bom_and_trailing_space():
    assert clean_header("\ufeff订单编号") == "订单编号"
    assert clean_header("收货地址 \t") == "收货地址"


def test_ids_stay_exact_and_excel_tail_is_dropped():
    assert parse_id("3878120957734810452", "订单编号") == "3878120957734810452"
    assert parse_id("13800000001.00", "联系手机") == "13800000001"
    with pytest.raises(CellError, match="scientific notation"):
        parse_id("3.87812E+18", "订单编号")


@pytest.mark.parametrize("raw, fen", [("59.00", 5900), ("0.1", 10), ("1,234.56", 123456), ("¥12", 1200), ("", None), ("7", 700)])
def test_amounts_are_exact_fen(raw, fen):
    assert parse_fen(raw, "总金额") == fen


def test_bad_amount_names_the_field():
    with pytest.raises(CellError, match="买家实际支付金额 'abc'"):
        parse_fen("abc", "买家实际支付金额")


def test_no_refund_words_read_as_zero():
    assert parse_refund_fen("无退款申请", "退款金额") == 0
    assert parse_refund_fen("12.50", "退款金额") == 1250


def test_times_in_every_export_shape():
    expected = datetime(2025, 3, 10, 20, 41, 7)
    assert parse_local_time("2025-03-10 20:41:07", "t") == expected
    assert parse_local_time("2025/03/10 20:41:07", "t") == expected
    serial = parse_local_time("45726.86188657", "t")  # Excel serial for 2025-03-10 20:41:07
    assert abs((serial - expected).total_seconds()) <= 1
    with pytest.raises(CellError, match="订单创建时间"):
        parse_local_time("yesterday", "订单创建时间")


def test_counts():
    assert parse_count("3", "宝贝总数量") == 3
    assert parse_count("3.0", "宝贝总数量") == 3
    with pytest.raises(CellError):
        parse_count("three", "宝贝总数量")


def test_address_splits_into_province_city_district_street():
    assert split_address("浙江省 杭州市 西湖区 文三路***号") == ("浙江省", "杭州市", "西湖区", "文三路***号")
    assert split_address("上海 上海市 ***") == ("上海", "上海市", "***", None)
    assert split_address("江苏省 南京市 建邺区 沙洲街道**** (210000)")[3] == "沙洲街道****"


def test_local_times_become_utc_text_in_every_shape():
    from zoneinfo import ZoneInfo

    from kefu.ingest.cells import LocalTimes

    times = LocalTimes(ZoneInfo("Asia/Shanghai"))
    assert times.utc("2025-03-10 20:41:07", "t") == "2025-03-10 12:41:07.000000"
    assert times.utc("2025-03-10 20:59:59", "t") == "2025-03-10 12:59:59.000000"  # the same hour, reused
    assert times.utc("2025-03-11 03:00:00", "t") == "2025-03-10 19:00:00.000000"  # crosses midnight backwards
    assert times.utc("2025/03/10 20:41", "t") == "2025-03-10 12:41:00.000000"
    assert times.utc("", "t") is None
    india = LocalTimes(ZoneInfo("Asia/Kolkata"))  # +05:30: a part-hour offset is never reused by the hour
    assert india.utc("2025-03-10 20:41:07", "t") == "2025-03-10 15:11:07.000000"
    with pytest.raises(CellError):
        times.utc("2025-03-10 20:99:07", "t")
