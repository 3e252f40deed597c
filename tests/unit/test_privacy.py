from kefu.domain.privacy import mask_address, mask_name, mask_phone, redact_phones


def test_mask_phone_keeps_prefix_and_last_four():
    assert mask_phone("13800000001") == "138****0001"
    assert mask_phone("'13800000001") == "138****0001"
    assert mask_phone("+86 138 0000 0001") == "138****0001"


def test_mask_name_keeps_first_character():
    assert mask_name("张三") == "张*"
    assert mask_name("欧阳娜娜") == "欧***"


def test_mask_address_leaves_platform_masked_streets_alone():
    assert mask_address("文三路***号") == "文三路***号"
    assert mask_address("文三路100号2单元") .endswith("****")
    assert "100" not in mask_address("文三路100号2单元")


def test_redact_phones_in_courier_context():
    text = "【杭州市】快递员[王师傅,13900000000]正在为您派件，网点（020-00000000）"
    out = redact_phones(text)
    assert "13900000000" not in out and "139****0000" in out
    assert "020-00000000" not in out
    assert out.startswith("【杭州市】")


def test_redact_phones_with_separators_and_prefixes():
    """The quick no-phone check must not skip numbers written in groups: 138-0000-0001, +86 138 0000 0001."""
    assert redact_phones("电话 138-0000-0001 或 +86 138 0000 0001") == "电话 138****0001 或 138****0001"
    assert redact_phones("网点 0571-1234567，单号 75123456") == "网点 0**-********，单号 75123456"
    assert redact_phones("已签收 10:30 共 2 件") == "已签收 10:30 共 2 件"


def test_redact_phones_leaves_order_numbers():
    order_no = "3876512093841527761"
    assert redact_phones(f"订单{order_no}") == f"订单{order_no}"


def test_cookie_secure_setting_reads_common_truthy_words():
    from kefu.config import Settings

    assert Settings.from_env({"KEFU_COOKIE_SECURE": "true"}).cookie_secure is True
    assert Settings.from_env({"KEFU_COOKIE_SECURE": "0"}).cookie_secure is False
    assert Settings.from_env({}).cookie_secure is False
