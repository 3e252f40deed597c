"""Buyer requests in 买家留言 and chat: couriers wanted or refused, extra freight, ship and delivery times, other asks."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kefu.domain.carriers import CARRIERS
from kefu.text.requests import KINDS, find_requirements

WEDNESDAY = date(2025, 3, 12)


def asks(text: str, ordered_on: date | None = WEDNESDAY) -> list[tuple[str, str | None]]:
    return [(r.kind, r.value) for r in find_requirements(text, ordered_on=ordered_on)]


PHRASINGS = [
    # couriers wanted
    ("请发中通", [("courier_wanted", "zhongtong")]),
    ("只要韵达", [("courier_wanted", "yunda")]),
    ("中通快递，不要放小票", [("courier_wanted", "zhongtong"), ("other", "no_price_slip")]),
    ("顺丰可以吗", [("courier_wanted", "shunfeng")]),
    ("发邮局", [("courier_wanted", "youzhengguonei")]),
    ("ems可以", [("courier_wanted", "ems")]),
    ("能不能发中通", [("courier_wanted", "zhongtong")]),
    ("圆通或者韵达", [("courier_wanted", "yuantong"), ("courier_wanted", "yunda")]),
    ("走京东", [("courier_wanted", "jd")]),
    ("你好,请发中通快递,13800000001,谢谢", [("courier_wanted", "zhongtong")]),
    # couriers refused
    ("不要发申通", [("courier_excluded", "shentong")]),
    ("别发邮政", [("courier_excluded", "youzhengguonei")]),
    ("韵达不要", [("courier_excluded", "yunda")]),
    ("申通的不要", [("courier_excluded", "shentong")]),
    ("别用极兔", [("courier_excluded", "jtexpress")]),
    ("极兔太慢了", [("courier_excluded", "jtexpress")]),
    ("除了申通其他都可以", [("courier_excluded", "shentong")]),
    ("不要EMS", [("courier_excluded", "ems")]),
    ("不要 申通", [("courier_excluded", "shentong")]),
    ("申通的话就算了", [("courier_excluded", "shentong")]),
    ("不要申通和韵达", [("courier_excluded", "shentong"), ("courier_excluded", "yunda")]),
    ("申通和韵达都不要", [("courier_excluded", "shentong"), ("courier_excluded", "yunda")]),
    ("邮政不要，EMS也不要", [("courier_excluded", "youzhengguonei"), ("courier_excluded", "ems")]),
    # both in one message
    ("不要发申通，发中通", [("courier_excluded", "shentong"), ("courier_wanted", "zhongtong")]),
    ("发中通不要申通", [("courier_wanted", "zhongtong"), ("courier_excluded", "shentong")]),
    ("不要中通要圆通", [("courier_excluded", "zhongtong"), ("courier_wanted", "yuantong")]),
    ("申通太慢了发中通", [("courier_excluded", "shentong"), ("courier_wanted", "zhongtong")]),
    ("中通到不了 发邮政", [("courier_excluded", "zhongtong"), ("courier_wanted", "youzhengguonei")]),
    # extra freight
    ("发顺丰我补运费", [("courier_wanted", "shunfeng"), ("extra_freight", "shunfeng")]),
    ("顺丰到付", [("courier_wanted", "shunfeng"), ("extra_freight", "shunfeng")]),
    ("走SF，运费我出", [("courier_wanted", "shunfeng"), ("extra_freight", "shunfeng")]),
    ("发顺丰 补10元", [("courier_wanted", "shunfeng"), ("extra_freight", "shunfeng")]),
    ("补差价可以吗", [("extra_freight", None)]),
    # ship times (the order was placed on Wednesday 2025-03-12)
    ("上午发", [("ship_time", "morning")]),
    ("早上发", [("ship_time", "morning")]),
    ("下午再发", [("ship_time", "afternoon")]),
    ("今天发", [("ship_time", "2025-03-12")]),
    ("明天能发吗", [("ship_time", "2025-03-13")]),
    ("请尽快发货谢谢", [("ship_time", "asap")]),
    ("这周五前发", [("ship_time", "2025-03-14")]),
    # delivery dates
    ("周六前要到", [("deliver_by", "2025-03-15")]),
    ("星期天之前到", [("deliver_by", "2025-03-16")]),
    ("这周六之前能收到吗", [("deliver_by", "2025-03-15")]),
    ("下周一前到", [("deliver_by", "2025-03-17")]),
    ("3号前到", [("deliver_by", "2025-04-03")]),  # the 3rd has passed this month
    ("31号前到", [("deliver_by", "2025-03-31")]),
    ("十五号要用", [("deliver_by", "2025-03-15")]),
    ("4月1日前要到", [("deliver_by", "2025-04-01")]),
    ("后天到", [("deliver_by", "2025-03-14")]),
    ("周六前要到，急用", [("deliver_by", "2025-03-15"), ("ship_time", "asap")]),
    # other asks
    ("不要放发票", [("other", "no_invoice")]),
    ("不要发票", [("other", "no_invoice")]),
    ("不要开发票", [("other", "no_invoice")]),
    ("要发票", [("other", "invoice")]),
    ("需要开发票，抬头xx公司", [("other", "invoice")]),
    ("送人的礼物 不要放价格单", [("other", "gift"), ("other", "no_price_slip")]),
    ("送女朋友的，包装好一点", [("other", "gift"), ("other", "careful_packing")]),
    ("送货前电话联系", [("other", "call_before")]),
    # nothing asked
    ("包邮吗", []),
    ("质量很好，谢谢老板", []),
    ("今天不发也行", []),
    ("不着急，慢慢发", []),
    ("发快递就行", []),
    ("我在京东买过同款", []),
    ("别发错颜色了", []),
    ("邮政编码 830000", []),
    ("我不补运费", []),
    ("发票", []),
    ("", []),
]


@pytest.mark.parametrize(("text", "expected"), PHRASINGS, ids=[p[0] or "empty" for p in PHRASINGS])
def test_phrasings(text, expected):
    assert asks(text) == expected


def test_there_are_plenty_of_phrasings():
    assert len(PHRASINGS) >= 25
    assert sum(1 for _, expected in PHRASINGS if not expected) >= 10


@pytest.mark.parametrize("carrier", [c for c in CARRIERS if c.name not in ("京东", "跨越", "安能", "百世", "优速")],
                         ids=lambda c: c.code)
def test_bu_yao_x_against_yao_x_for_every_courier(carrier):
    assert asks(f"要{carrier.name}") == [("courier_wanted", carrier.code)]
    assert asks(f"不要{carrier.name}") == [("courier_excluded", carrier.code)]
    assert asks(f"请发{carrier.name}") == [("courier_wanted", carrier.code)]
    assert asks(f"别发{carrier.name}") == [("courier_excluded", carrier.code)]


def test_full_width_text_and_latin_case_are_folded():
    assert asks("请发中通！不要ＥＭＳ") == [("courier_wanted", "zhongtong"), ("courier_excluded", "ems")]
    assert asks("ＳＦ顺丰到付") == [("courier_wanted", "shunfeng"), ("extra_freight", "shunfeng")]


def test_dates_need_the_order_day():
    assert asks("周六前要到", ordered_on=None) == [("deliver_by", None)]
    assert asks("今天发", ordered_on=None) == [("ship_time", None)]


def test_weekday_on_its_own_day_means_the_next_one():
    saturday = date(2025, 3, 15)
    assert asks("周六前要到", ordered_on=saturday) == [("deliver_by", "2025-03-22")]
    assert asks("这周六前到", ordered_on=saturday) == [("deliver_by", "2025-03-15")]


def test_day_numbers_wrap_into_the_next_month_and_year():
    assert asks("31号前到", ordered_on=date(2025, 4, 10)) == [("deliver_by", "2025-04-30")]  # April has 30 days
    assert asks("5号前到", ordered_on=date(2025, 12, 20)) == [("deliver_by", "2026-01-05")]
    assert asks("1月3日前到", ordered_on=date(2025, 12, 20)) == [("deliver_by", "2026-01-03")]
    assert asks("40号前到") == []


def test_the_asking_words_and_order_are_kept():
    found = find_requirements("你好，不要发申通，发中通，周六前要到", ordered_on=WEDNESDAY)
    assert [r.kind for r in found] == ["courier_excluded", "courier_wanted", "deliver_by"]
    assert found[0].text == "不要发申通" and found[2].text == "周六前要到"


def test_phone_numbers_never_reach_the_asking_words():
    found = find_requirements("发中通13800000001", ordered_on=WEDNESDAY)
    assert found and all("13800000001" not in r.text for r in found)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("不要别发中通申通顺丰邮政号前到周六今天上午补运费发票送人，。 123")), max_size=40))
def test_any_text_gives_known_kinds_and_codes(text):
    codes = {c.code for c in CARRIERS}
    found = find_requirements(text, ordered_on=WEDNESDAY)
    assert len({(r.kind, r.value) for r in found}) == len(found)
    for r in found:
        assert r.kind in KINDS
        if r.kind in ("courier_wanted", "courier_excluded"):
            assert r.value in codes
        if r.kind == "deliver_by" and r.value:
            assert date.fromisoformat(r.value) > WEDNESDAY


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80))
def test_never_fails_on_any_text(text):
    find_requirements(text, ordered_on=WEDNESDAY)
    find_requirements(text)
