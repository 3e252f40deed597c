"""Pure stock rules: allocation first paid first served, the buyer's reply, substitutes, the options message, safety
stock and sell-through, and what the packer does with a stockout order."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from kefu.config import shop_rules
from kefu.domain.stock.allocation import LineDemand, OrderDemand, allocate
from kefu.domain.stock.buyer_choice import CANCEL, SHIP_AVAILABLE, SUBSTITUTE, WAIT, parse_buyer_reply, wait_until
from kefu.domain.stock.levels import (
    LOW,
    OK,
    OUT,
    UNTRACKED,
    days_of_cover,
    level_status,
    safety_stock,
    sell_through,
    stock_policy,
    velocity,
)
from kefu.domain.stock.messages import MissingItem, StockoutOffer, offered_options, presale_text, stockout_text
from kefu.domain.stock.pick import AWAITING_BUYER, CANCELLED, DONE, WAITING_RESTOCK, CaseLine, order_pick
from kefu.domain.stock.substitutes import SkuOption, describe, matching_hint, property_values, suggest_substitutes

T0 = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
SUNDAY = date(2026, 11, 22)


def order(oid, hours, *lines, no=None):
    return OrderDemand(oid, T0 + timedelta(hours=hours) if hours is not None else None, no or oid,
                       tuple(LineDemand(f"{oid}#{i}", sku, q) for i, (sku, q) in enumerate(lines)))


# ---------------------------------------------------------------- allocation


def test_the_first_paid_order_is_served_first_whatever_the_input_order():
    late, early = order("late", 5, ("a", 2)), order("early", 1, ("a", 2))
    result = allocate([late, early], {"a": 3})
    by_id = {o.order_id: o for o in result.orders}
    assert not by_id["early"].short and by_id["late"].lines[0].allocated == 1 and by_id["late"].lines[0].missing == 1
    assert result.left == {"a": 0} and result.committed == {"a": 3}
    assert [o.order_id for o in result.short_orders()] == ["late"]


def test_unknown_skus_and_unknown_stock_count_as_covered_and_negative_stock_as_zero():
    result = allocate([order("o", 1, (None, 2), ("b", 1), ("c", 1))], {"b": None, "c": -4})
    lines = result.orders[0].lines
    assert [(l.allocated, l.tracked) for l in lines] == [(2, False), (1, False), (0, True)]
    assert result.orders[0].short and not result.orders[0].nothing_ships


def test_an_order_without_payment_time_comes_last_and_ties_go_by_order_number():
    result = allocate([order("x", None, ("a", 1)), order("b", 1, ("a", 1), no="2"), order("c", 1, ("a", 1), no="1")],
                      {"a": 2})
    assert {o.order_id: o.short for o in result.orders} == {"c": False, "b": False, "x": True}


def test_nothing_ships_when_every_line_is_missing():
    assert allocate([order("o", 1, ("a", 2), ("b", 1))], {"a": 0, "b": 0}).orders[0].nothing_ships


# ---------------------------------------------------------------- the buyer's reply


@pytest.mark.parametrize("text, option", [
    ("先发有货的", SHIP_AVAILABLE), ("有货的先发吧", SHIP_AVAILABLE), ("退款", SHIP_AVAILABLE),
    ("不等了，退款吧", SHIP_AVAILABLE), ("换白色", SUBSTITUTE), ("换个颜色吧", SUBSTITUTE), ("其他颜色也行", SUBSTITUTE),
    ("等", WAIT), ("可以等到下周", WAIT), ("我等补货", WAIT), ("可以等，不要取消", WAIT),
    ("取消吧", CANCEL), ("不要了", CANCEL), ("全部退款", CANCEL), ("等不了，取消吧", CANCEL),
    ("1", SHIP_AVAILABLE), ("２", SUBSTITUTE), ("选3", WAIT), ("4。", CANCEL), ("第1个", SHIP_AVAILABLE),
    ("3吧，谢谢", WAIT),
])
def test_replies_choose_an_option(text, option):
    assert parse_buyer_reply(text, today=SUNDAY).option == option


@pytest.mark.parametrize("text", ["", "   ", "在吗", "什么时候发货", "好的谢谢", "5", "不换", "不等", "先发有货的还是换一个呢"])
def test_replies_that_choose_nothing_are_not_understood(text):
    choice = parse_buyer_reply(text, today=SUNDAY)
    assert choice.option is None and not choice.understood


def test_a_substitute_reply_carries_the_colour_or_size_asked_for():
    assert parse_buyer_reply("换白色", today=SUNDAY).substitute_hint == "白色"
    assert parse_buyer_reply("换成xl吧", today=SUNDAY).substitute_hint == "XL"
    assert parse_buyer_reply("改成黑色的", today=SUNDAY).substitute_hint == "黑色"
    assert parse_buyer_reply("换个颜色吧", today=SUNDAY).substitute_hint is None


@pytest.mark.parametrize("text, until", [
    ("可以等到下周", date(2026, 11, 29)), ("等到下周五", date(2026, 11, 27)), ("等到周五", date(2026, 11, 27)),
    ("等到12月5号", date(2026, 12, 5)), ("等一周", date(2026, 11, 29)), ("能等10天", date(2026, 12, 2)),
    ("月底前都行，等", date(2026, 11, 30)), ("等到25号", date(2026, 11, 25)), ("等到1月3日", date(2027, 1, 3)),
    ("等", None),
])
def test_the_wait_date_is_read_relative_to_the_shops_today(text, until):
    assert wait_until(text, SUNDAY) == until


# ---------------------------------------------------------------- substitutes and messages


def test_properties_read_and_describe():
    assert property_values("颜色分类：白色;尺码：XL") == {"颜色分类": "白色", "尺码": "XL"}
    assert describe("颜色分类:白色；尺码:XL") == "白色 / XL" and describe("") == "默认款"


def test_substitutes_keep_the_most_properties_and_need_enough_free_units():
    missing = SkuOption("bm", "p", "颜色分类：黑色;尺码：M", 0)
    options = [SkuOption("wm", "p", "颜色分类：白色;尺码：M", 3), SkuOption("bl", "p", "颜色分类：黑色;尺码：L", 9),
               SkuOption("wl", "p", "颜色分类：白色;尺码：L", 50), SkuOption("rm", "p", "颜色分类：红色;尺码：M", 1),
               SkuOption("other", "q", "颜色分类：黑色;尺码：M", 99)]
    assert [o.sku_id for o in suggest_substitutes(missing, options, 2)] == ["bl", "wm", "wl"]
    assert [o.sku_id for o in suggest_substitutes(missing, options, 2, limit=1)] == ["bl"]
    assert matching_hint(options, "白色").sku_id == "wm" and matching_hint(options, "xl") is None


def offer(**kw):
    base = dict(order_no="3901", items=(MissingItem("法式碎花连衣裙", "颜色分类：黑色;尺码：M", 1, ("颜色分类：白色;尺码：M",)),),
                refund=Decimal("129.00"), restock_date=date(2026, 12, 5), something_ships=True)
    return StockoutOffer(**{**base, **kw})


def test_the_options_message_numbers_options_and_states_refund_and_date():
    text = stockout_text(offer())
    assert "订单 3901" in text and "黑色 / M）缺 1 件" in text
    assert "1. 先发有货的商品，缺货部分退款 ¥129.00" in text and "2. 换成有货的规格：白色 / M" in text
    assert "3. 等补货：预计 12月5日 到货" in text and "4. 取消订单，全额退款" in text


def test_options_that_do_not_apply_are_left_out_but_numbers_stay():
    bare = offer(items=(MissingItem("连衣裙", None, 2),), something_ships=False, restock_date=None)
    assert offered_options(bare) == (WAIT, CANCEL)
    text = stockout_text(bare)
    assert "1." not in text and "2." not in text and "3. 等补货：到货时间确认后告诉您" in text and "4. 取消" in text


def test_the_presale_notice_is_honest_about_the_date_and_the_way_out():
    text = presale_text("3901", "法式碎花连衣裙", "颜色分类：黑色;尺码：M", date(2026, 12, 5))
    assert "12月5日" in text and "取消" in text and "全额退款" in text


# ---------------------------------------------------------------- safety stock, cover, sell-through


def test_safety_stock_follows_the_documented_formula():
    policy = stock_policy(shop_rules(None))
    speed = velocity([4, 0, 2, 6], 4)
    assert speed.mean == 3 and math.isclose(speed.sigma, math.sqrt(5))
    expected = math.ceil(1.65 * math.sqrt(5) * math.sqrt(9) + 3 * 9)
    assert safety_stock(speed, 9, policy) == expected
    assert safety_stock(speed, None, policy) == math.ceil(1.65 * math.sqrt(5) * math.sqrt(7) + 3 * 7)
    assert safety_stock(velocity([], 28), 7, policy) == 0


def test_safety_stock_parameters_come_from_configuration():
    policy = stock_policy(shop_rules({"stock": {"safety_z": 0, "min_safety_stock": 5, "default_lead_time_days": 2}}))
    assert safety_stock(velocity([1, 1], 2), None, policy) == 5
    assert safety_stock(velocity([10, 10], 2), None, policy) == 20


def test_days_of_cover_and_status():
    speed = velocity([2, 2], 2)
    assert days_of_cover(10, speed) == 5 and days_of_cover(-3, speed) == 0 and days_of_cover(5, velocity([], 7)) is None
    assert level_status(None, None, 3) == UNTRACKED and level_status(5, 0, 3) == OUT
    assert level_status(5, 3, 3) == LOW and level_status(9, 4, 3) == OK


def test_sell_through_counts_skus_products_and_units():
    rate = sell_through({"a": "p", "b": "p", "c": "q", "d": "r"}, {"a": 3, "c": 0, "zz": 9}, {"a": 7, "b": 10, "c": None})
    assert (rate.skus, rate.skus_sold, rate.products, rate.products_sold) == (4, 1, 3, 1)
    assert rate.sku_rate == 0.25 and rate.product_rate == 1 / 3 and rate.unit_rate == 3 / 20
    empty = sell_through({}, {}, {})
    assert empty.sku_rate is None and empty.unit_rate is None


# ---------------------------------------------------------------- the pick list


LINES = [CaseLine("l1", 3, 2, None, 0, "颜色分类：黑色", False)]


def test_awaiting_and_cancelled_orders_do_not_ship():
    waiting = order_pick(AWAITING_BUYER, None, LINES, split_when_waiting=True)
    assert waiting.hold_order and waiting.for_line("l1", 3).held == 3 and waiting.for_line("l2", 1).held == 1
    cancelled = order_pick(CANCELLED, CANCEL, LINES, split_when_waiting=True)
    assert cancelled.do_not_ship and cancelled.for_line("l1", 3).ship_now == 0


def test_waiting_splits_the_shipment_unless_the_shop_says_not_to():
    split = order_pick(WAITING_RESTOCK, WAIT, LINES, split_when_waiting=True)
    assert not split.hold_order and split.for_line("l1", 3) == split.lines["l1"]
    assert (split.lines["l1"].ship_now, split.lines["l1"].held) == (1, 2) and split.for_line("l2", 4).ship_now == 4
    whole = order_pick(WAITING_RESTOCK, WAIT, LINES, split_when_waiting=False)
    assert whole.hold_order and whole.for_line("l2", 4).held == 4


def test_refunded_and_substituted_lines():
    refunded = order_pick(DONE, SHIP_AVAILABLE, [CaseLine("l1", 3, 2, "refund", 2, None, False)], split_when_waiting=True)
    assert (refunded.lines["l1"].ship_now, refunded.lines["l1"].refunded) == (1, 2)
    swapped = order_pick(DONE, SUBSTITUTE, [CaseLine("l1", 3, 2, "substitute", 0, "颜色分类：黑色", True)],
                         split_when_waiting=True)
    assert swapped.lines["l1"].ship_now == 3 and swapped.lines["l1"].substituted_from == "颜色分类：黑色"
