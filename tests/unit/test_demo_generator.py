"""The demo generator: deterministic, skewed like a real shop, every order status present, only invented phones."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date, timedelta
from decimal import Decimal

import pytest

from kefu.demo import generator
from kefu.demo.generator import (
    CLOSED,
    CLOSED_REFUND_REASON,
    CLOSED_UNPAID_REASON,
    FINISHED,
    SENT,
    WAIT_PAY,
    WAIT_SEND,
    bench_orders,
    demo_end,
    generate_demo_shop,
)
from kefu.domain.order_status import from_export_wording

TODAY = date(2026, 11, 22)
INVENTED_PHONE = re.compile(r"^138000000\d\d$")
ANY_MOBILE = re.compile(r"1[3-9]\d{9}")


@pytest.fixture(scope="module")
def shop():
    return generate_demo_shop(seed=7, today=TODAY, customers=2000)


def test_same_seed_and_day_give_the_same_shop():
    first = generate_demo_shop(seed=11, today=TODAY, customers=200)
    second = generate_demo_shop(seed=11, today=TODAY, customers=200)
    assert first.orders == second.orders
    assert first.catalog == second.catalog
    assert first.customers == second.customers


def test_another_seed_or_day_gives_another_shop():
    base = generate_demo_shop(seed=11, today=TODAY, customers=200)
    other_seed = generate_demo_shop(seed=12, today=TODAY, customers=200)
    other_day = generate_demo_shop(seed=11, today=TODAY + timedelta(days=1), customers=200)
    assert [o.order_no for o, _ in base.orders] != [o.order_no for o, _ in other_seed.orders]
    assert max(o.created_at for o, _ in other_day.orders) > max(o.created_at for o, _ in base.orders)


def _top_fifth_share(revenue: list[Decimal]) -> float:
    ranked = sorted(revenue, reverse=True)
    return float(sum(ranked[: len(ranked) // 5]) / sum(ranked))


def test_the_top_fifth_of_customers_bring_60_to_80_percent_of_revenue(shop):
    revenue = shop.revenue_by_buyer()
    everyone = [revenue.get(c.nick, Decimal(0)) for c in shop.customers]
    assert 0.60 <= _top_fifth_share(everyone) <= 0.80
    orders_per_buyer = Counter(o.buyer_nick for o, _ in shop.orders)
    once = sum(1 for n in orders_per_buyer.values() if n == 1)
    often = sum(1 for n in orders_per_buyer.values() if n >= 4)
    assert once > len(shop.customers) / 2  # most buy once
    assert 0.12 <= often / len(shop.customers) <= 0.30  # about a fifth buy often


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_skew_holds_for_other_seeds_and_small_shops(seed):
    small = generate_demo_shop(seed=seed, today=TODAY, customers=400)
    revenue = small.revenue_by_buyer()
    assert 0.60 <= _top_fifth_share([revenue.get(c.nick, Decimal(0)) for c in small.customers]) <= 0.80


def test_every_status_is_present_and_consistent(shop):
    kinds = Counter((o.status_text, o.close_reason) for o, _ in shop.orders)
    for kind in [(WAIT_PAY, "订单未关闭"), (CLOSED, CLOSED_UNPAID_REASON), (CLOSED, CLOSED_REFUND_REASON),
                 (WAIT_SEND, "订单未关闭"), (SENT, "订单未关闭"), (FINISHED, "订单未关闭")]:
        assert kinds[kind] > 0, kind
    assert kinds[(FINISHED, "订单未关闭")] > len(shop.orders) / 2
    for order, lines in shop.orders:
        paid = order.paid_at is not None
        if order.status_text == WAIT_PAY or order.close_reason == CLOSED_UNPAID_REASON:
            assert not paid and order.paid_amount == 0 and not order.waybill_no
        if order.close_reason == CLOSED_REFUND_REASON:
            assert paid and order.refunded_amount == order.paid_amount > 0
            assert all(line.refund_status == "退款成功" for line in lines)
        if order.status_text == WAIT_SEND:
            assert paid and order.shipped_at is None and not order.waybill_no
        if order.status_text in (SENT, FINISHED):
            assert order.waybill_no and order.carrier and order.shipped_at > order.paid_at
        if order.status_text == FINISHED:
            assert order.finished_at > order.shipped_at
        assert from_export_wording(order.status_text, order.close_reason, paid=paid) != "UNKNOWN"


def test_partial_refunds_leave_the_order_finished(shop):
    partial = [(o, lines) for o, lines in shop.orders if o.status_text == FINISHED and o.refunded_amount > 0]
    assert partial
    for order, lines in partial:
        refunded = [line for line in lines if line.refund_status == "退款成功"]
        assert len(refunded) == 1 and refunded[0].status_text == CLOSED
        assert order.refunded_amount == refunded[0].refunded_amount < order.paid_amount


def test_amounts_add_up(shop):
    for order, lines in shop.orders:
        assert order.goods_amount == sum(line.price * line.quantity for line in lines)
        assert order.total_amount == order.goods_amount + order.post_fee
        assert order.item_count == sum(line.quantity for line in lines)
        assert order.titles == [line.title for line in lines]
        if order.paid_at is not None:
            assert sum(line.paid_amount for line in lines) + order.post_fee == order.paid_amount <= order.total_amount
        assert all(isinstance(v, Decimal) for v in (order.goods_amount, order.paid_amount, order.refunded_amount))


def test_phones_are_only_invented_ones(shop):
    phones = {o.mobile for o, _ in shop.orders if o.mobile} | {o.phone for o, _ in shop.orders if o.phone}
    assert phones and all(INVENTED_PHONE.match(p) for p in phones)
    for order, _ in shop.orders:
        for found in ANY_MOBILE.findall(order.buyer_message + order.seller_memo):
            assert INVENTED_PHONE.match(found)
        assert order.alipay_account == "" or re.fullmatch(r"138\*{4}00\d\d", order.alipay_account)
    for customer in shop.customers:
        for note in customer.profile.notes if customer.profile else ():
            assert not ANY_MOBILE.search(note.body)


def test_personal_data_is_masked_as_exports_show_it(shop):
    for order, _ in shop.orders[:500]:
        assert re.fullmatch(r"\w\*+", order.receiver_name), order.receiver_name
        parts = order.receiver_address.split(" ")
        assert len(parts) in (3, 4) and "*" in parts[-1]


def test_orders_cover_a_year_up_to_today_with_seasons_and_weekdays(shop):
    end = demo_end(TODAY)
    created = [o.created_at for o, _ in shop.orders]
    assert max(created) < end
    assert min(created) >= end - timedelta(days=366)
    per_day = Counter(c.date() for c in created)
    average = len(created) / 365
    assert per_day[date(2026, 11, 11)] > 3 * average  # 双11
    weekday = Counter(c.weekday() for c in created)
    assert weekday[6] > weekday[1]  # Sundays busier than Tuesdays
    summer = [line.title for o, lines in shop.orders if o.created_at.month in (6, 7) for line in lines]
    winter = [line.title for o, lines in shop.orders if o.created_at.month in (12, 1) for line in lines]
    assert summer.count("防晒衣女夏季冰丝防紫外线薄款外套") > 3 * max(1, winter.count("防晒衣女夏季冰丝防紫外线薄款外套"))


def test_regions_lean_to_the_east_coast_with_a_few_far_west(shop):
    provinces = Counter(o.receiver_address.split(" ")[0] for o, _ in shop.orders)
    top_five = {p for p, _ in provinces.most_common(5)}
    assert {"广东省", "浙江省", "江苏省"} <= top_five
    far_west = [o for o, _ in shop.orders if o.receiver_address.startswith(("新疆", "西藏"))]
    assert far_west and len(far_west) < len(shop.orders) / 50
    assert all(o.post_fee > 0 for o in far_west)


def test_nicks_mix_chinese_pinyin_and_tb_styles(shop):
    nicks = [c.nick for c in shop.customers]
    assert len(set(nicks)) == len(nicks)
    assert any(re.search(r"[\u4e00-\u9fff]", n) for n in nicks)
    assert any(re.fullmatch(r"[a-z]+_?\d+", n) for n in nicks)
    assert any(n.startswith("tb_") for n in nicks)


def test_orders_carry_messages_memos_and_couriers_that_honour_them(shop):
    orders = [o for o, _ in shop.orders]
    assert sum(1 for o in orders if o.buyer_message) > len(orders) / 20
    assert sum(1 for o in orders if o.seller_memo) > len(orders) / 30
    assert {o.carrier for o in orders if o.carrier} == {"中通快递", "圆通速递", "韵达快递", "申通快递", "顺丰速运", "极兔速递", "邮政快递包裹"}
    asked = [o for o in orders if o.buyer_message.startswith("请发中通") and o.carrier]
    assert asked and all(o.carrier == "中通快递" for o in asked)
    assert all(o.carrier != "申通快递" for o in orders if o.buyer_message.startswith("不要发申通"))
    assert len({o.waybill_no for o in orders if o.waybill_no}) == sum(1 for o in orders if o.waybill_no)
    assert any(len(o.titles) > 1 for o in orders)


def test_catalogue_has_about_forty_products_with_skus(shop):
    assert 35 <= len(shop.catalog) <= 50
    assert {p.category for p in shop.catalog} == {"上衣", "连衣裙", "裤装", "外套", "配饰", "家居"}
    skus = [s for p in shop.catalog for s in p.skus]
    assert len({s.outer_sku_id for s in skus}) == len(skus)
    assert len({p.item_id for p in shop.catalog}) == len(shop.catalog)
    assert all(re.fullmatch(r"颜色分类：[^;：]+(;尺码：[^;：]+)?", s.properties) for s in skus)
    assert any(s.stock < 6 for s in skus)  # a few nearly sold out


def test_some_customers_have_profiles_for_the_360(shop):
    profiles = [c.profile for c in shop.customers if c.profile]
    assert len(shop.customers) / 10 < len(profiles) < len(shop.customers) / 2
    assert any(p.notes for p in profiles) and any(p.tags for p in profiles) and any(p.birthday for p in profiles)
    assert Counter(p.gender for p in profiles).most_common(1)[0][0] == "female"
    loyal = [c for c in shop.customers if c.profile and "老客" in c.profile.tags]
    assert loyal and all(c.habit == "frequent" or c.order_count >= 4 for c in loyal)


def test_the_demo_needs_a_customer():
    with pytest.raises(ValueError):
        generate_demo_shop(seed=1, today=TODAY, customers=0)


def test_bench_orders_are_deterministic_with_one_and_a_half_lines_per_order():
    first = list(bench_orders(3000, 5))
    assert first == list(bench_orders(3000, 5))
    assert 1.4 <= sum(len(lines) for _, lines in first) / len(first) <= 1.6
    assert len({order.order_no for order, _ in first}) == 3000
    assert all(INVENTED_PHONE.match(o.mobile) for o, _ in first if o.mobile)
    statuses = {o.status_text for o, _ in first}
    assert statuses == set(generator.STATUS_TEXTS)
    for order, lines in first:
        assert all(line.order_no == order.order_no for line in lines)
        assert order.goods_amount == sum(line.price * line.quantity for line in lines)
