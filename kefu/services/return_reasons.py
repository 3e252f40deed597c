"""Return-reason analysis: returns per product and period, subjective (the shop's to fix) vs objective, the trend,
the top products, and the rate-jump alert (kind `returns.rate_jump`) when a product's last period beats its history.

Sold lines count order lines of paid orders by pay time; returns count requests by request time; a product is its
product id, else its title (lines of an export without a catalogue).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kefu.config import shop_rules
from kefu.domain.returns.rate_jump import JumpSettings, PeriodCount, RateJump, rate_jumps
from kefu.domain.returns.reasons import OBJECTIVE, REASONS, SUBJECTIVE
from kefu.ids import stable_id
from kefu.services.watch import insert_ignoring
from kefu.store.returns_tables import ReturnRequest
from kefu.store.tables import Alert, Order, OrderLine, Product, Shop

RATE_JUMP_KIND = "returns.rate_jump"
DEFAULT_PERIODS = 6


@dataclass(frozen=True)
class ProductReasons:
    """One product over the report's span: sold lines, returns, the rate and the reasons."""

    key: str
    product_id: str | None
    title: str
    category: str | None
    sold: int
    returns: int
    subjective: int
    objective: int
    by_reason: dict[str, int]

    @property
    def rate(self) -> float:
        return self.returns / self.sold if self.sold else 0.0

    @property
    def top_reason(self) -> str | None:
        return max(self.by_reason, key=lambda code: (self.by_reason[code], code)) if self.by_reason else None


@dataclass(frozen=True)
class TrendPoint:
    """One period of the trend (oldest first)."""

    start: datetime
    end: datetime
    sold: int
    returns: int
    subjective: int
    objective: int

    @property
    def rate(self) -> float:
        return self.returns / self.sold if self.sold else 0.0


@dataclass(frozen=True)
class JumpRow:
    jump: RateJump
    title: str
    product_id: str | None


@dataclass
class ReasonReport:
    """The reasons report of one shop: totals, per product (most returns first), trend, and rate jumps."""

    since: datetime
    until: datetime
    period_days: int
    returns: int = 0
    sold: int = 0
    subjective: int = 0
    objective: int = 0
    by_reason: dict[str, int] = field(default_factory=dict)
    products: list[ProductReasons] = field(default_factory=list)
    trend: list[TrendPoint] = field(default_factory=list)
    jumps: list[JumpRow] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "since": self.since.isoformat(), "until": self.until.isoformat(), "period_days": self.period_days,
            "sold": self.sold, "returns": self.returns, "subjective": self.subjective, "objective": self.objective,
            "by_reason": self.by_reason,
            "products": [{"key": p.key, "product_id": p.product_id, "title": p.title, "category": p.category,
                          "sold": p.sold, "returns": p.returns, "rate": round(p.rate, 4), "subjective": p.subjective,
                          "objective": p.objective, "by_reason": p.by_reason} for p in self.products],
            "trend": [{"start": t.start.isoformat(), "end": t.end.isoformat(), "sold": t.sold, "returns": t.returns,
                       "rate": round(t.rate, 4), "subjective": t.subjective, "objective": t.objective}
                      for t in self.trend],
            "jumps": [{"key": j.jump.product_key, "product_id": j.product_id, "title": j.title,
                       "rate": round(j.jump.current_rate, 4), "baseline_rate": round(j.jump.baseline_rate, 4),
                       "sold": j.jump.current.sold, "returns": j.jump.current.returned, "rule": j.jump.rule}
                      for j in self.jumps],
        }


def _aware(moment: datetime | str | None) -> datetime | None:
    if moment is None:
        return None
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _key(product_id: str | None, title: str | None) -> str:
    return product_id or f"title:{(title or '—')[:120]}"


def _period_index(moment: datetime, until: datetime, period: timedelta, periods: int) -> int | None:
    """0 = oldest … periods-1 = the one ending at `until`; None outside."""
    if moment >= until:
        return None
    back = int((until - moment) / period)
    return periods - 1 - back if back < periods else None


def _sold_lines(session: Session, shop_id: str, since: datetime, until: datetime):
    paid = func.coalesce(Order.paid_at, Order.created_at)
    return session.execute(
        select(OrderLine.product_id, OrderLine.title, paid.label("at"))
        .join(Order, Order.id == OrderLine.order_id)
        .where(OrderLine.shop_id == shop_id, Order.paid_at.is_not(None), paid >= since, paid < until)
    )


def _returns(session: Session, shop_id: str, since: datetime, until: datetime):
    return session.execute(
        select(ReturnRequest.product_id, ReturnRequest.title, ReturnRequest.requested_at, ReturnRequest.reason_code,
               ReturnRequest.reason_side, ReturnRequest.category)
        .where(ReturnRequest.shop_id == shop_id, ReturnRequest.requested_at >= since,
               ReturnRequest.requested_at < until)
    )


def reason_report(session: Session, shop_id: str, *, now: datetime | None = None, periods: int = DEFAULT_PERIODS,
                  period_days: int | None = None, top: int = 20) -> ReasonReport:
    """Returns and their reasons over the last `periods` periods (period length from `returns.rate_jump`)."""
    now = (now or datetime.now(UTC)).astimezone(UTC)
    rules = shop_rules(session.scalar(select(Shop.settings).where(Shop.id == shop_id)))
    settings = JumpSettings.from_rules(rules)
    days = period_days or settings.period_days
    span = max(periods, settings.history_periods + 1)
    period = timedelta(days=days)
    since = now - period * span
    sold: dict[str, list[int]] = defaultdict(lambda: [0] * span)
    returned: dict[str, list[int]] = defaultdict(lambda: [0] * span)
    titles: dict[str, str] = {}
    categories: dict[str, str | None] = {}
    reasons: dict[str, Counter] = defaultdict(Counter)
    sides: dict[str, Counter] = defaultdict(Counter)
    trend_sides = [Counter() for _ in range(span)]
    for row in _sold_lines(session, shop_id, since, now):
        index = _period_index(_aware(row.at), now, period, span)
        if index is not None:
            key = _key(row.product_id, row.title)
            sold[key][index] += 1
            titles.setdefault(key, row.title)
    for row in _returns(session, shop_id, since, now):
        index = _period_index(_aware(row.requested_at), now, period, span)
        if index is None:
            continue
        key = _key(row.product_id, row.title)
        returned[key][index] += 1
        titles.setdefault(key, row.title or "—")
        categories.setdefault(key, row.category)
        if index >= span - periods:
            reasons[key][row.reason_code] += 1
            sides[key][row.reason_side] += 1
        trend_sides[index][row.reason_side] += 1
    product_ids = [k for k in set(sold) | set(returned) if not k.startswith("title:")]
    if product_ids:
        for pid, title, category in session.execute(select(Product.id, Product.title, Product.category)
                                                    .where(Product.id.in_(product_ids))):
            titles[pid] = title
            categories[pid] = category
    shown = slice(span - periods, span)
    report = ReasonReport(since=now - period * periods, until=now, period_days=days)
    for key in set(sold) | set(returned):
        count = sum(returned[key][shown])
        if not count:
            continue
        report.products.append(ProductReasons(
            key=key, product_id=None if key.startswith("title:") else key, title=titles.get(key) or key,
            category=categories.get(key), sold=sum(sold[key][shown]), returns=count,
            subjective=sides[key][SUBJECTIVE], objective=sides[key][OBJECTIVE], by_reason=dict(reasons[key]),
        ))
    report.products.sort(key=lambda p: (-p.returns, -p.rate, p.title))
    all_reasons: Counter = Counter()
    for counter in reasons.values():
        all_reasons.update(counter)
    report.by_reason = {code: all_reasons[code] for code in REASONS if all_reasons[code]}
    report.returns = sum(p.returns for p in report.products)
    report.subjective = sum(p.subjective for p in report.products)
    report.objective = sum(p.objective for p in report.products)
    for index in range(span - periods, span):
        start = now - period * (span - index)
        report.trend.append(TrendPoint(
            start=start, end=start + period, sold=sum(v[index] for v in sold.values()),
            returns=sum(v[index] for v in returned.values()), subjective=trend_sides[index][SUBJECTIVE],
            objective=trend_sides[index][OBJECTIVE]))
    report.sold = sum(t.sold for t in report.trend)
    counts = {key: [PeriodCount(sold[key][i], returned[key][i]) for i in range(span - settings.history_periods - 1, span)]
              for key in returned}
    report.jumps = [JumpRow(j, titles.get(j.product_key) or j.product_key,
                            None if j.product_key.startswith("title:") else j.product_key)
                    for j in rate_jumps(counts, settings)]
    report.products = report.products[:top] if top else report.products
    return report


def raise_rate_jump_alerts(session: Session, shop_id: str, *, now: datetime | None = None) -> list[JumpRow]:
    """Raise one `returns.rate_jump` alert per product whose return rate jumped in the period ending now; a product
    keeps one alert per period (the period's end day is in the key). Returns the newly raised jumps."""
    now = (now or datetime.now(UTC)).astimezone(UTC)
    report = reason_report(session, shop_id, now=now, periods=1)
    conn = session.connection()
    raised: list[JumpRow] = []
    for row in report.jumps:
        jump = row.jump
        key = f"{RATE_JUMP_KIND}:{shop_id}:{jump.product_key}:{now.date().isoformat()}"[:200]
        period_key = f"{RATE_JUMP_KIND}:{shop_id}:{jump.product_key}:"
        live = session.scalar(select(Alert.id).where(Alert.shop_id == shop_id, Alert.kind == RATE_JUMP_KIND,
                                                     Alert.dedupe_key.like(period_key.replace("%", "") + "%"),
                                                     Alert.raised_at > now - timedelta(days=report.period_days)))
        if live is not None:
            continue
        rule_text = f"《{row.title[:40]}》{jump.rule}"[:200]
        result = conn.execute(insert_ignoring(conn, Alert.__table__, "dedupe_key").values(
            id=stable_id("alert", key), shop_id=shop_id, kind=RATE_JUMP_KIND, severity="warning", status="open",
            dedupe_key=key, raised_at=now, due_at=now + timedelta(days=3), rule=rule_text,
            detail={"product_id": row.product_id, "title": row.title, "rate": round(jump.current_rate, 4),
                    "baseline_rate": round(jump.baseline_rate, 4), "sold": jump.current.sold,
                    "returns": jump.current.returned, "period_days": report.period_days},
        ).returning(Alert.__table__.c.id))
        if result.all():  # RETURNING: PostgreSQL reports no rowcount for ON CONFLICT DO NOTHING
            raised.append(row)
    return raised
