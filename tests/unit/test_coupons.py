from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from kefu.domain.growth.coupons import (
    CouponTerms,
    IssuedCoupon,
    PaidOrder,
    campaign_return,
    committed,
    expiry,
    match_redemptions,
    may_issue,
)

NOW = datetime(2026, 11, 1, tzinfo=UTC)
TERMS = CouponTerms(amount=Decimal("50"), threshold=Decimal("300"), valid_days=14, per_customer_limit=1,
                    budget=Decimal("120"))


def _coupon(cid: str, customer: str, *, days_ago: int = 0, redeemed: str | None = None) -> IssuedCoupon:
    issued = NOW - timedelta(days=days_ago)
    return IssuedCoupon(cid, customer, issued, expiry(TERMS, issued), Decimal("50"), redeemed)


def test_terms_refuse_nonsense():
    with pytest.raises(ValueError):
        CouponTerms(amount=Decimal("50"), threshold=Decimal("30"), valid_days=7, per_customer_limit=1, budget=Decimal(1))


def test_budget_can_never_be_overspent():
    coupons = [_coupon("c1", "a"), _coupon("c2", "b")]
    assert committed(coupons, NOW) == Decimal("100")
    decision = may_issue(TERMS, coupons, "c", NOW)
    assert not decision.allowed and decision.code == "budget"


def test_expired_unused_coupons_give_their_budget_back_but_redeemed_ones_do_not():
    coupons = [_coupon("c1", "a", days_ago=20), _coupon("c2", "b", days_ago=20, redeemed="o9")]
    assert committed(coupons, NOW) == Decimal("50")
    assert may_issue(TERMS, coupons, "c", NOW).allowed


def test_per_customer_limit():
    decision = may_issue(TERMS, [_coupon("c1", "a")], "a", NOW)
    assert not decision.allowed and decision.code == "customer_limit"


def test_redemption_is_the_first_qualifying_order_within_validity():
    coupons = [_coupon("c1", "a"), _coupon("c2", "b")]
    orders = [
        PaidOrder("o0", "a", NOW - timedelta(days=1), Decimal("500"), Decimal("500")),  # before issue
        PaidOrder("o1", "a", NOW + timedelta(days=2), Decimal("200"), Decimal("200")),  # under threshold
        PaidOrder("o2", "a", NOW + timedelta(days=3), Decimal("320"), Decimal("270")),
        PaidOrder("o3", "b", NOW + timedelta(days=15), Decimal("400"), Decimal("350")),  # after expiry
    ]
    matched = match_redemptions(coupons, orders, TERMS.threshold)
    assert matched == {"c1": "o2"}
    done = [IssuedCoupon(**{**c.__dict__, "redeemed_order_id": matched.get(c.coupon_id)}) for c in coupons]
    report = campaign_return(done, {o.order_id: o for o in orders}, message_cost=Decimal("0.10"))
    assert report.redeemed == 1 and report.cost == Decimal("50.10") and report.revenue == Decimal("270")
    assert report.roi == pytest.approx(4.39, abs=0.01) and report.redemption_rate == 0.5
