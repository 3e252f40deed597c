"""Threshold coupons under a budget: whether one may be issued, which later order redeemed it, what it returned.

A coupon commits its face value the moment it is issued; the commitment is released only when it expires unused, so
a campaign can never spend more than its budget however many coupons come back. Redemption is matched from later
orders: the customer's first paid order after issue, before expiry, whose goods amount reaches the threshold.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class CouponTerms:
    """A campaign's coupon: e.g. 50 off 300, valid 14 days, 1 per customer, 2,000 yuan in all."""

    amount: Decimal
    threshold: Decimal
    valid_days: int
    per_customer_limit: int
    budget: Decimal

    def __post_init__(self) -> None:
        if self.amount <= 0:
            raise ValueError("coupon amount must be above 0")
        if self.threshold < self.amount:
            raise ValueError("a threshold coupon's threshold must be at least its amount")
        if self.valid_days <= 0 or self.per_customer_limit <= 0 or self.budget < 0:
            raise ValueError("valid_days and per_customer_limit must be positive and budget not negative")


@dataclass(frozen=True)
class IssuedCoupon:
    """One coupon handed to one customer."""

    coupon_id: str
    customer_id: str
    issued_at: datetime
    expires_at: datetime
    amount: Decimal
    redeemed_order_id: str | None = None


@dataclass(frozen=True)
class IssueDecision:
    """May a coupon go to this customer now; if not, why (code + zh/en)."""

    allowed: bool
    code: str = "ok"
    zh: str = ""
    en: str = ""


@dataclass(frozen=True)
class PaidOrder:
    """A later order that may redeem a coupon."""

    order_id: str
    customer_id: str
    paid_at: datetime
    goods_amount: Decimal  # before the coupon
    paid_amount: Decimal


def committed(coupons: Sequence[IssuedCoupon], now: datetime) -> Decimal:
    """Budget held by coupons: redeemed ones, and unredeemed ones that can still be used."""
    return sum((c.amount for c in coupons if c.redeemed_order_id or c.expires_at > now), ZERO)


def may_issue(terms: CouponTerms, coupons: Sequence[IssuedCoupon], customer_id: str, now: datetime) -> IssueDecision:
    """Refuse when the customer reached the limit or the coupon would take the campaign past its budget."""
    mine = sum(1 for c in coupons if c.customer_id == customer_id)
    return issue_decision(terms, held_by_customer=mine, committed_now=committed(coupons, now))


def issue_decision(terms: CouponTerms, *, held_by_customer: int, committed_now: Decimal) -> IssueDecision:
    """`may_issue` from counts kept by the caller (a campaign run keeps them as it issues, instead of rescanning)."""
    if held_by_customer >= terms.per_customer_limit:
        return IssueDecision(False, "customer_limit", f"该客户已领 {held_by_customer} 张，达到每人上限",
                             f"the customer already has {held_by_customer}, the per-customer limit")
    left = terms.budget - committed_now
    if terms.amount > left:
        return IssueDecision(False, "budget", f"预算剩余 {left} 元，不够再发一张 {terms.amount} 元的券",
                             f"{left} yuan of budget left, not enough for another {terms.amount} yuan coupon")
    return IssueDecision(True)


def expiry(terms: CouponTerms, issued_at: datetime) -> datetime:
    return issued_at + timedelta(days=terms.valid_days)


def match_redemptions(coupons: Sequence[IssuedCoupon], orders: Sequence[PaidOrder],
                      threshold: Decimal) -> dict[str, str]:
    """coupon id → order id: each coupon's first qualifying order, each order redeeming at most one coupon."""
    by_customer: dict[str, list[PaidOrder]] = {}
    for order in sorted(orders, key=lambda o: (o.paid_at, o.order_id)):
        by_customer.setdefault(order.customer_id, []).append(order)
    used: set[str] = {c.redeemed_order_id for c in coupons if c.redeemed_order_id}
    matched: dict[str, str] = {}
    for coupon in sorted(coupons, key=lambda c: (c.issued_at, c.coupon_id)):
        if coupon.redeemed_order_id:
            continue
        for order in by_customer.get(coupon.customer_id, ()):
            if (order.order_id not in used and coupon.issued_at <= order.paid_at < coupon.expires_at
                    and order.goods_amount >= threshold):
                matched[coupon.coupon_id] = order.order_id
                used.add(order.order_id)
                break
    return matched


@dataclass(frozen=True)
class CampaignReturn:
    """Return on spend: what the redeemed coupons and messages cost and what the redeeming orders brought."""

    issued: int
    redeemed: int
    cost: Decimal  # coupon face value redeemed + message cost
    revenue: Decimal  # paid amount of the redeeming orders
    redemption_rate: float
    roi: float | None  # (revenue − cost) / cost; None when nothing was spent


def campaign_return(coupons: Sequence[IssuedCoupon], orders_by_id: dict[str, PaidOrder],
                    message_cost: Decimal = ZERO) -> CampaignReturn:
    """Sum a campaign up from its coupons (with redemptions filled in) and the orders that redeemed them."""
    redeemed = [c for c in coupons if c.redeemed_order_id and c.redeemed_order_id in orders_by_id]
    cost = sum((c.amount for c in redeemed), ZERO) + message_cost
    revenue = sum((orders_by_id[c.redeemed_order_id].paid_amount for c in redeemed), ZERO)
    roi = float((revenue - cost) / cost) if cost > 0 else None
    return CampaignReturn(issued=len(coupons), redeemed=len(redeemed), cost=cost, revenue=revenue,
                          redemption_rate=len(redeemed) / len(coupons) if coupons else 0.0,
                          roi=round(roi, 2) if roi is not None else None)
