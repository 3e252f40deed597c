"""The growth report: segment sizes and value, coupon returns, gift outcomes, risk levels, audit findings and stock
alerts, in one read for the report page."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kefu.services.coupons import CampaignReport, campaign_report, campaigns
from kefu.services.listing_audit import audit_shop
from kefu.services.segments import GroupFigures, group_report
from kefu.services.watch import LIVE
from kefu.store.growth_tables import GiftRecord, RiskAssessment
from kefu.store.tables import Alert

STOCK_ALERT_PREFIX = "stock."


@dataclass(frozen=True)
class GrowthReport:
    groups: list[GroupFigures]
    campaigns: list[CampaignReport]
    gifts_by_status: dict[str, int]
    gift_cost: Decimal
    risk_by_level: dict[str, int]
    findings_by_code: dict[str, int]
    stock_alerts: dict[str, int] = field(default_factory=dict)

    def chart(self) -> dict:
        """The figures the page's charts draw."""
        return {
            "groups": {"labels": [g.group for g in self.groups], "spend": [float(g.spend) for g in self.groups],
                       "customers": [g.customers for g in self.groups]},
            "coupons": {"labels": [c.campaign.name for c in self.campaigns],
                        "cost": [float(c.figures.cost) for c in self.campaigns],
                        "revenue": [float(c.figures.revenue) for c in self.campaigns]},
            "risk": self.risk_by_level,
            "findings": self.findings_by_code,
        }


def growth_report(session: Session, shop_id: str, now: datetime) -> GrowthReport:
    gifts = dict(session.execute(select(GiftRecord.status, func.count()).where(GiftRecord.shop_id == shop_id)
                                 .group_by(GiftRecord.status)).all())
    cost = session.scalar(select(func.coalesce(func.sum(GiftRecord.cost), 0)).where(
        GiftRecord.shop_id == shop_id, GiftRecord.status == "sent")) or 0
    latest = (select(RiskAssessment.customer_id, func.max(RiskAssessment.assessed_at).label("at"))
              .where(RiskAssessment.shop_id == shop_id).group_by(RiskAssessment.customer_id).subquery())
    risk = dict(session.execute(
        select(RiskAssessment.level, func.count()).join(
            latest, (latest.c.customer_id == RiskAssessment.customer_id) & (latest.c.at == RiskAssessment.assessed_at))
        .group_by(RiskAssessment.level)).all())
    findings = Counter(f.code for lf in audit_shop(session, shop_id) for f in lf.findings)
    stock = dict(session.execute(
        select(Alert.kind, func.count()).where(Alert.shop_id == shop_id, Alert.status.in_(LIVE),
                                               Alert.kind.like(f"{STOCK_ALERT_PREFIX}%"))
        .group_by(Alert.kind)).all())
    return GrowthReport(
        groups=group_report(session, shop_id),
        campaigns=[campaign_report(session, c.id, now) for c in campaigns(session, shop_id)],
        gifts_by_status={k: int(v) for k, v in gifts.items()}, gift_cost=Decimal(cost),
        risk_by_level={k: int(v) for k, v in risk.items()}, findings_by_code=dict(findings),
        stock_alerts={k: int(v) for k, v in stock.items()},
    )
