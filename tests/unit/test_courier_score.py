"""Courier scoreboard rules: medians, p90, rates, prices from configuration, recommendations and small samples."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from kefu.config import shop_rules
from kefu.domain.rules.courier_score import (
    CourierPolicy,
    ParcelFact,
    courier_policy,
    median,
    p90,
    recommend,
    score,
)

T0 = datetime(2026, 3, 1, 8, tzinfo=UTC)
H = timedelta(hours=1)


def delivered(carrier, province, hours, **kw):
    return ParcelFact(carrier=carrier, province=province, picked_up_at=T0, signed_at=T0 + hours * H, state="signed",
                      **kw)


def test_median_and_nearest_rank_p90():
    assert median([]) is None and p90([]) is None
    assert median([3.0, 1.0, 2.0]) == 2.0
    assert median([1.0, 2.0, 3.0, 4.0]) == 2.5
    assert p90(list(map(float, range(1, 11)))) == 9.0  # ceil(0.9*10)=9th value
    assert p90(list(map(float, range(1, 21)))) == 18.0
    assert p90([5.0]) == 5.0


def test_default_prices_from_configuration_and_overrides():
    policy = courier_policy(shop_rules(None))
    assert policy.prices == {"shentong": Decimal(15), "yuantong": Decimal(12), "zhongtong": Decimal(11),
                             "shunfeng": Decimal(20)}
    assert policy.price("yunda", "浙江") is None  # unset = unknown
    assert policy.min_sample == 20
    shop = shop_rules({"courier_prices": {"中通": "11.5"},
                       "courier_province_prices": {"新疆维吾尔自治区": {"zhongtong": 22, "顺丰": 35}},
                       "courier_score": {"min_sample": 5}})
    policy = courier_policy(shop)
    assert policy.price("zhongtong", "浙江省") == Decimal("11.5")
    assert policy.price("shentong", "浙江省") == Decimal(15)  # the other defaults stay
    assert policy.price("zhongtong", "新疆") == Decimal(22)
    assert policy.price("shunfeng", "新疆维吾尔自治区") == Decimal(35)
    assert policy.price("shentong", "新疆") == Decimal(15)
    assert policy.min_sample == 5
    assert courier_policy({"courier_prices": {"zhongtong": "abc", "yuantong": -1}}).prices == {}


def test_scores_per_carrier_and_province():
    facts = [
        delivered("zhongtong", "新疆维吾尔自治区", 10),
        delivered("中通快递", "新疆", 20),
        delivered("zhongtong", "新疆", 30, complaints=1),
        ParcelFact("zhongtong", "新疆", picked_up_at=T0, state="in_transit", had_exception=True),
        ParcelFact("zhongtong", "浙江省", picked_up_at=T0, state="rejected"),
        ParcelFact("zhongtong", None, state="signed"),  # no province: only in the carrier's total
        ParcelFact(None, "新疆", state="signed"),  # no carrier: left out
        delivered("shunfeng", "新疆", 5),
    ]
    policy = CourierPolicy(prices={"zhongtong": Decimal(11), "shunfeng": Decimal(20)},
                           province_prices={"新疆": {"zhongtong": Decimal(22)}})
    board = score(facts, policy)
    assert board.carriers == ["shunfeng", "zhongtong"] and board.provinces == ["新疆", "浙江"]
    xj = board.row("zhongtong", "新疆维吾尔自治区")
    assert (xj.parcels, xj.delivered, xj.median_hours, xj.p90_hours) == (4, 3, 20.0, 30.0)
    assert (xj.exceptions, xj.complaints, xj.exception_rate) == (1, 1, 0.25)
    assert xj.price == Decimal(22)
    zj = board.row("zhongtong", "浙江")
    assert (zj.parcels, zj.exceptions, zj.median_hours, zj.price) == (1, 1, None, Decimal(11))
    total = board.totals["zhongtong"]
    assert (total.parcels, total.delivered, total.exceptions, total.price) == (6, 4, 2, Decimal(11))
    assert total.median_hours == 20.0  # the province-less signed parcel has no pickup time: no hours
    assert board.row("shunfeng", "新疆").median_hours == 5.0


def _board(min_sample=3):
    facts = []
    # 新疆: zhongtong slow and cheap, shunfeng fast and dear, yuantong reliable but few parcels to 新疆.
    facts += [delivered("zhongtong", "新疆", h) for h in (70, 80, 90)]
    facts += [ParcelFact("zhongtong", "新疆", picked_up_at=T0, state="problem")]
    facts += [delivered("shunfeng", "新疆", h) for h in (30, 40, 50)]
    facts += [delivered("shunfeng", "新疆", 45, complaints=1)]
    facts += [delivered("yuantong", "新疆", 60)]
    facts += [delivered("yuantong", "浙江", h) for h in (20, 24, 30)]
    facts += [delivered("shentong", "浙江", 24)]  # too few anywhere
    policy = CourierPolicy(prices={"zhongtong": Decimal(11), "yuantong": Decimal(12), "shunfeng": Decimal(20),
                                   "shentong": Decimal(15)},
                           province_prices={"新疆": {"zhongtong": Decimal(22), "yuantong": Decimal(25)}},
                           min_sample=min_sample)
    return score(facts, policy)


def test_recommend_cheapest_fastest_most_reliable():
    board = _board()
    cheap = recommend(board, "新疆维吾尔自治区", "cheapest")
    assert cheap.province == "新疆"
    assert [r.carrier for r in cheap.ranked] == ["shunfeng", "zhongtong", "yuantong"]  # 20 < 22 < 25
    assert [r.price for r in cheap.ranked] == [Decimal(20), Decimal(22), Decimal(25)]
    assert cheap.best.rank == 1 and cheap.best.basis == "province"
    fast = recommend(board, "新疆", "fastest")
    assert [r.carrier for r in fast.ranked] == ["yuantong", "shunfeng", "zhongtong"]  # yuantong's 24 h (all provinces)
    reliable = recommend(board, "新疆", "most_reliable")
    assert [r.carrier for r in reliable.ranked] == ["yuantong", "shunfeng", "zhongtong"]
    assert reliable.ranked[2].score.exception_rate == 0.25
    assert [s.carrier for s in cheap.too_few] == ["shentong"]


def test_small_sample_falls_back_to_all_provinces_and_says_so():
    board = _board()
    rec = recommend(board, "新疆", "fastest")
    yuantong = next(r for r in rec.ranked if r.carrier == "yuantong")
    assert yuantong.basis == "all_provinces" and yuantong.province_parcels == 1
    assert yuantong.score.province is None and yuantong.score.parcels == 4
    assert yuantong.price == Decimal(25)  # still the province's price
    strict = recommend(board, "新疆", "fastest", min_sample=20)
    assert strict.ranked == [] and {s.carrier for s in strict.too_few} == {"zhongtong", "shunfeng", "yuantong",
                                                                           "shentong"}
    nowhere = recommend(board, None, "cheapest")
    assert all(r.basis == "all_provinces" for r in nowhere.ranked)
    assert nowhere.best.carrier == "zhongtong"  # 11 yuan outside 新疆


def test_unknown_priority_refused():
    with pytest.raises(ValueError):
        recommend(_board(), "新疆", "prettiest")
