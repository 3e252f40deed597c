from datetime import UTC, datetime

from kefu.services.listing_audit import audit_shop, import_listings
from kefu.services.shops import get_or_create_shop

NOW = datetime(2026, 11, 22, tzinfo=UTC)

CSV = """宝贝ID,标题,价格,类目,运费模板,属性,描述
="680000000000000001",秋冬羊毛大衣 全国包邮,399.00,女装,"包邮,新疆西藏除外",材质:羊毛;尺码:M,衣长98cm 胸围108cm 支持七天无理由
680000000000000002,纯棉T恤 现货当天发,59,女装,包邮,材质:棉,平铺测量 误差1-3cm 七天无理由退换
680000000000000003,定制刻字项链,128,配饰,包邮,,可刻字
680000000000000004,,abc,女装,包邮,,
680000000000000005,羊毛围巾,89,配饰,包邮,,支持7天无理由；平铺测量
"""


def test_import_reports_bad_rows_and_audit_finds_what_to_fix(store, tmp_path):
    path = tmp_path / "listings.csv"
    path.write_text(CSV, encoding="gb18030")
    with store.session() as session:
        shop = get_or_create_shop(session, "自查店")
        result = import_listings(session, shop.id, path, now=NOW)
        shop_id = shop.id
    assert (result.new, result.updated) == (4, 0)
    assert result.messages() == ["listings.csv:5: 价格/price 'abc' 不是金额 / is not an amount"]
    with store.session() as session:
        found = {lf.listing.listing_key: [f.code for f in lf.findings] for lf in audit_shop(session, shop_id)}
    assert found == {
        "680000000000000001": ["free_shipping_claim", "size_without_method"],
        "680000000000000002": ["unqualified_same_day"],
        "680000000000000003": ["missing_return_facts"],
    }
    with store.session() as session:
        again = import_listings(session, shop_id, path, now=NOW)
    assert (again.new, again.updated) == (0, 4)


def test_json_listings(store, tmp_path):
    path = tmp_path / "listings.json"
    path.write_text('[{"listing_id": "A1", "title": "保温杯 质保一年", "freight": "包邮", '
                    '"description": "七天无理由"}, 5]', encoding="utf-8")
    with store.session() as session:
        shop = get_or_create_shop(session, "自查店")
        result = import_listings(session, shop.id, path, now=NOW)
        [item] = audit_shop(session, shop.id)
    assert result.new == 1 and [r.line_no for r in result.rejected] == [2]
    assert [f.code for f in item.findings] == ["warranty_without_scope"]
