from kefu.domain.listing_audit import Listing, ShopPromises, audit_listing

SHOP = ShopPromises(same_day_shipping=False, ship_promise_hours=48, return_exempt_categories=("定制",))
CLEAN = Listing(
    key="1", title="秋冬新款羊毛混纺大衣 包邮（新疆西藏除外）",
    description="尺码表：衣长 98cm 胸围 108cm，平铺测量，误差1-3cm。支持七天无理由退换货。",
    freight_free_everywhere=False, freight_charged_regions=("新疆", "西藏"),
)


def codes(listing, shop=SHOP):
    return [f.code for f in audit_listing(listing, shop)]


def test_a_careful_listing_has_no_findings():
    assert codes(CLEAN) == []


def test_free_shipping_claim_against_a_charging_template_names_the_regions():
    listing = Listing(**{**CLEAN.__dict__, "title": "秋冬新款羊毛大衣 全国包邮"})
    [finding] = audit_listing(listing, SHOP)
    assert finding.code == "free_shipping_claim" and finding.field == "title" and "新疆、西藏" in finding.zh


def test_sizes_without_method_and_warranty_without_scope():
    listing = Listing(key="2", title="保温杯", description="杯身高度尺码 20cm。质保一年。支持7天无理由。")
    found = audit_listing(listing, SHOP)
    assert [f.code for f in found] == ["size_without_method", "warranty_without_scope"]
    assert "范围" in found[1].zh and "运费由谁承担" in found[1].zh and "期限" not in found[1].zh


def test_promises_the_shop_cannot_keep():
    assert "unkeepable_promise" in codes(Listing(key="3", title="现货当天发 T恤", description="七天无理由"))
    assert "unkeepable_promise" in codes(Listing(key="4", title="T恤", description="24小时内发货 七天无理由"))
    assert "unkeepable_promise" not in codes(Listing(key="5", title="T恤", description="72小时内发货 七天无理由"))
    fast_shop = ShopPromises(same_day_shipping=True, ship_promise_hours=24)
    assert codes(Listing(key="6", title="现货当天发", description="七天无理由"), fast_shop) == []
    with_cutoff = ShopPromises(same_day_shipping=True, ship_promise_hours=24, ship_cutoff="16:00")
    assert codes(Listing(key="7", title="现货当天发", description="七天无理由"), with_cutoff) == ["unqualified_same_day"]
    assert codes(Listing(key="8", title="现货 16点前付款当天发", description="七天无理由"), with_cutoff) == []


def test_made_to_order_must_say_it_is_exempt_from_no_reason_returns():
    custom = Listing(key="7", title="定制刻字项链", description="可刻字", category="定制")
    [finding] = audit_listing(custom, SHOP)
    assert finding.code == "missing_return_facts" and finding.severity == "high"
