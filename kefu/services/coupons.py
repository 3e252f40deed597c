"""Coupon follow-ups in the store: campaigns for a segment, coupons issued through the outbox under a budget that
cannot be overspent, redemptions matched from later orders, and the return on what was spent."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from uuid import uuid4

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kefu.domain.growth.coupons import (
    CampaignReturn,
    CouponTerms,
    IssuedCoupon,
    PaidOrder,
    campaign_return,
    committed,
    expiry,
    issue_decision,
    match_redemptions,
)
from kefu.domain.growth.segment_filter import parse_definition
from kefu.domain.order_status import PAID
from kefu.services.segments import segment_member_ids
from kefu.store.growth_tables import Coupon, CouponCampaign, SavedSegment
from kefu.store.tables import Order

COUPON_TEMPLATE = "coupon.offer"


class CampaignError(ValueError):
    """A campaign that cannot be created or run, with the reason."""


def create_campaign(session: Session, shop_id: str, *, name: str, amount: Decimal, threshold: Decimal,
                    valid_days: int, per_customer_limit: int, budget: Decimal, segment_id: str | None,
                    message_cost: Decimal = Decimal("0"), by: str | None, now: datetime) -> CouponCampaign:
    """A draft campaign; the terms are checked here (a threshold below the amount is refused, and so on)."""
    try:
        CouponTerms(amount=amount, threshold=threshold, valid_days=valid_days, per_customer_limit=per_customer_limit,
                    budget=budget)
    except ValueError as exc:
        raise CampaignError(str(exc)) from None
    if segment_id is not None:
        segment = session.get(SavedSegment, segment_id)
        if segment is None or segment.shop_id != shop_id:
            raise CampaignError(f"segment {segment_id} not found in this shop / 找不到客户分组")
    campaign = CouponCampaign(id=uuid4().hex, shop_id=shop_id, name=name.strip() or "回访券", segment_id=segment_id,
                              amount=amount, threshold=threshold, valid_days=valid_days,
                              per_customer_limit=per_customer_limit, budget=budget, message_cost=message_cost,
                              template=COUPON_TEMPLATE, status="draft", created_by=by, created_at=now)
    session.add(campaign)
    session.flush()
    return campaign


def _terms(c: CouponCampaign) -> CouponTerms:
    return CouponTerms(amount=Decimal(c.amount), threshold=Decimal(c.threshold), valid_days=c.valid_days,
                       per_customer_limit=c.per_customer_limit, budget=Decimal(c.budget))


def _issued(session: Session, campaign_id: str) -> list[IssuedCoupon]:
    return [IssuedCoupon(c.id, c.customer_id, c.issued_at, c.expires_at, Decimal(c.amount), c.redeemed_order_id)
            for c in session.scalars(select(Coupon).where(Coupon.campaign_id == campaign_id))]


@dataclass(frozen=True)
class CampaignRun:
    """What one run did: coupons issued, customers skipped by the outbox (consent, opt-out, caps) or by the rules."""

    issued: int
    suppressed: int
    skipped: int
    stopped_for_budget: bool


def run_campaign(session: Session, campaign_id: str, *, now: datetime, by: str | None = None,
                 customer_ids: list[str] | None = None) -> CampaignRun:
    """Offer a coupon to every target customer through the outbox (marketing: consent, opt-out, quiet hours and caps
    apply). A coupon is issued only when its message is queued, and never past the budget: the run stops there."""
    from kefu.services.outbox import OutgoingMessage, queue_message

    campaign = session.get(CouponCampaign, campaign_id)
    if campaign is None:
        raise CampaignError(f"campaign {campaign_id} not found / 找不到活动")
    if campaign.status in ("stopped", "finished"):
        raise CampaignError(f"campaign is {campaign.status} / 活动已结束")
    if customer_ids is None:
        if campaign.segment_id is None:
            raise CampaignError("campaign has no segment / 活动没有目标分组")
        segment = session.get(SavedSegment, campaign.segment_id)
        customer_ids = segment_member_ids(session, campaign.shop_id, parse_definition(segment.definition), now)
    terms = _terms(campaign)
    issued = _issued(session, campaign_id)
    held = Counter(c.customer_id for c in issued)  # kept as coupons go out: no rescan per customer
    held_amount = committed(issued, now)
    counts = {"issued": 0, "suppressed": 0, "skipped": 0}
    out_of_budget = False
    campaign.status = "running"
    for customer_id in customer_ids:
        decision = issue_decision(terms, held_by_customer=held[customer_id], committed_now=held_amount)
        if not decision.allowed:
            if decision.code == "budget":
                out_of_budget = True
                break
            counts["skipped"] += 1
            continue
        expires = expiry(terms, now)
        queued = queue_message(session, OutgoingMessage(
            shop_id=campaign.shop_id, customer_id=customer_id, event="coupon.offer", purpose="marketing",
            template=campaign.template or COUPON_TEMPLATE,
            variables={"amount": f"{terms.amount:g}", "threshold": f"{terms.threshold:g}",
                       "expires": expires.strftime("%m月%d日")},
            idempotency_key=f"coupon:{campaign.id}:{customer_id}:{held[customer_id]}",
        ), now=now, actor=by)
        if queued.status != "queued":
            counts["suppressed"] += 1
            continue
        coupon = Coupon(id=uuid4().hex, shop_id=campaign.shop_id, campaign_id=campaign.id, customer_id=customer_id,
                        amount=terms.amount, issued_at=now, expires_at=expires, message_id=queued.message_id)
        session.add(coupon)
        held[customer_id] += 1
        held_amount += terms.amount
        counts["issued"] += 1
    if out_of_budget:
        campaign.status, campaign.stop_reason = "finished", "budget / 预算用完"
    session.flush()
    return CampaignRun(counts["issued"], counts["suppressed"], counts["skipped"], out_of_budget)


def match_campaign_redemptions(session: Session, campaign_id: str) -> int:
    """Match still-open coupons to later paid orders of the same customer; returns coupons newly redeemed."""
    coupons = session.scalars(select(Coupon).where(Coupon.campaign_id == campaign_id)).all()
    campaign = session.get(CouponCampaign, campaign_id)
    open_ones = [c for c in coupons if not c.redeemed_order_id]
    if not open_ones:
        return 0
    customers = sorted({c.customer_id for c in open_ones})
    first = min(c.issued_at for c in open_ones)
    orders = [PaidOrder(o.id, o.customer_id, o.paid_at or o.created_at,
                        Decimal(o.goods_amount if o.goods_amount is not None else o.paid_amount or 0),
                        Decimal(o.paid_amount or 0))
              for o in session.scalars(select(Order).where(
                  Order.customer_id.in_(customers), Order.status.in_(sorted(PAID)),
                  func.coalesce(Order.paid_at, Order.created_at) >= first))]
    taken = {c.redeemed_order_id for c in session.scalars(select(Coupon).where(
        Coupon.shop_id == campaign.shop_id, Coupon.redeemed_order_id.is_not(None)))}
    orders = [o for o in orders if o.order_id not in taken]
    matched = match_redemptions([IssuedCoupon(c.id, c.customer_id, c.issued_at, c.expires_at, Decimal(c.amount))
                                 for c in open_ones], orders, Decimal(campaign.threshold))
    by_id = {o.order_id: o for o in orders}
    for coupon in open_ones:
        order_id = matched.get(coupon.id)
        if order_id:
            coupon.redeemed_order_id, coupon.redeemed_at = order_id, by_id[order_id].paid_at
    session.flush()
    return len(matched)


@dataclass(frozen=True)
class CampaignReport:
    campaign: CouponCampaign
    figures: CampaignReturn
    committed: Decimal
    budget_left: Decimal


def campaign_report(session: Session, campaign_id: str, now: datetime) -> CampaignReport:
    """Issued, redeemed, cost, revenue and ROI, with the budget still free."""
    campaign = session.get(CouponCampaign, campaign_id)
    coupons = _issued(session, campaign_id)
    order_ids = [c.redeemed_order_id for c in coupons if c.redeemed_order_id]
    orders = {o.id: PaidOrder(o.id, o.customer_id, o.paid_at or o.created_at, Decimal(o.goods_amount or 0),
                              Decimal(o.paid_amount or 0))
              for o in session.scalars(select(Order).where(Order.id.in_(order_ids)))} if order_ids else {}
    figures = campaign_return(coupons, orders, message_cost=Decimal(campaign.message_cost or 0) * len(coupons))
    held = committed(coupons, now)
    return CampaignReport(campaign, figures, held, Decimal(campaign.budget) - held)


def campaigns(session: Session, shop_id: str) -> list[CouponCampaign]:
    return list(session.scalars(select(CouponCampaign).where(CouponCampaign.shop_id == shop_id)
                                .order_by(CouponCampaign.created_at.desc())))
