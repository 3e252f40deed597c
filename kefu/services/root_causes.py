"""Root causes by product and cause (a Pareto view): neutral/bad reviews, returns and complaint cases, one query each.

A review's cause is the one recorded in its recovery case, else its first complaint topic, else "unknown". Returns
bring their reason code, complaint cases the first topic of their summary. The seller reads which listing, packing or
courier problem costs the most and fixes that first.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from kefu.domain.reviews.aspects import topics_of
from kefu.domain.reviews.pareto import ParetoBar, pareto, vital_few
from kefu.store.review_tables import Review, ReviewRecoveryCase

UNKNOWN = "unknown"


@dataclass(frozen=True)
class CauseItem:
    """One counted problem: where it came from, the product and the cause."""

    source: str  # review | return | complaint
    subject_id: str
    product: str  # product title, or "—" when unknown
    cause: str


def review_causes(session: Session, shop_id: str, since: datetime | None) -> list[CauseItem]:
    """Neutral and bad reviews, and good ones whose text was flagged."""
    query = (
        select(Review.id, Review.item_title, Review.topics, ReviewRecoveryCase.cause)
        .outerjoin(ReviewRecoveryCase, ReviewRecoveryCase.review_id == Review.id)
        .where(Review.shop_id == shop_id, Review.kind == "review",
               or_(Review.result.in_(("neutral", "bad")), Review.flagged.is_(True)))
    )  # fmt: skip
    if since is not None:
        query = query.where(Review.created_at >= since)
    return [CauseItem("review", row.id, row.item_title or "—", row.cause or (row.topics or [UNKNOWN])[0])
            for row in session.execute(query)]  # fmt: skip


def return_causes(session: Session, shop_id: str, since: datetime | None) -> list[CauseItem]:
    """Returns and refunds by their reason code (when the returns tables are installed)."""
    try:
        from kefu.store.returns_tables import ReturnRequest
    except ImportError:
        return []
    query = select(ReturnRequest.id, ReturnRequest.title, ReturnRequest.reason_code).where(
        ReturnRequest.shop_id == shop_id)
    if since is not None:
        query = query.where(ReturnRequest.requested_at >= since)
    return [CauseItem("return", row.id, row.title or "—", f"return.{row.reason_code or UNKNOWN}")
            for row in session.execute(query)]  # fmt: skip


def complaint_causes(session: Session, shop_id: str, since: datetime | None) -> list[CauseItem]:
    """Complaint cases not opened from a review (those are counted as reviews), by the first topic of the summary."""
    try:
        from kefu.store.case_tables import Case
    except ImportError:
        return []
    query = select(Case.id, Case.summary, Case.order_id).where(Case.shop_id == shop_id, Case.source != "review")
    if since is not None:
        query = query.where(Case.opened_at >= since)
    rows = session.execute(query).all()
    titles = _order_titles(session, [row.order_id for row in rows if row.order_id])
    return [CauseItem("complaint", row.id, titles.get(row.order_id or "", "—"),
                      (topics_of(row.summary or "") or (UNKNOWN,))[0]) for row in rows]  # fmt: skip


def _order_titles(session: Session, order_ids: list[str]) -> dict[str, str]:
    from kefu.store.tables import Order

    found: dict[str, str] = {}
    for start in range(0, len(order_ids), 500):
        chunk = order_ids[start : start + 500]
        found.update({oid: title or "—" for oid, title in session.execute(
            select(Order.id, Order.title_summary).where(Order.id.in_(chunk)))})  # fmt: skip
    return found


SOURCES: dict[str, Callable[[Session, str, datetime | None], list[CauseItem]]] = {
    "review": review_causes,
    "return": return_causes,
    "complaint": complaint_causes,
}


@dataclass(frozen=True)
class ProductCauses:
    product: str
    total: int
    causes: list[tuple[str, int]]  # largest first


@dataclass(frozen=True)
class RootCauseReport:
    """The Pareto of causes, the vital few, and each product's causes (most problems first)."""

    bars: list[ParetoBar]
    vital: list[ParetoBar]
    products: list[ProductCauses]
    by_source: dict[str, int]
    total: int
    sources: tuple[str, ...] = field(default_factory=tuple)


def root_cause_report(session: Session, shop_id: str, *, now: datetime, days: int | None = 180,
                      sources: tuple[str, ...] = ("review", "return", "complaint"), cutoff: float = 0.8,
                      top_products: int = 20) -> RootCauseReport:  # fmt: skip
    """The report over the last `days` (None: all time) for the chosen sources."""
    since = now - timedelta(days=days) if days else None
    items = [item for source in sources if source in SOURCES for item in SOURCES[source](session, shop_id, since)]
    bars = pareto(item.cause for item in items)
    per_product: dict[str, Counter[str]] = defaultdict(Counter)
    for item in items:
        per_product[item.product][item.cause] += 1
    products = sorted(
        (ProductCauses(product, sum(counts.values()), counts.most_common()) for product, counts in per_product.items()),
        key=lambda p: (-p.total, p.product),
    )[:top_products]
    return RootCauseReport(bars, vital_few(bars, cutoff) if bars else [], products,
                           dict(Counter(item.source for item in items)), len(items), sources)  # fmt: skip
