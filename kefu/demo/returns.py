"""Demo step: return requests for the demo shop's orders — wrong sizes, colours that differ from the photos, a few
quality problems, one made-to-order dress (exempt), late ones taken back by goodwill with a fee, refunds finished,
waiting and overdue — and one product whose return rate jumps in the last month. Deterministic (seeded)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from random import Random

from sqlalchemy import func, select

from kefu.demo.steps import DemoContext
from kefu.services.returns import (
    ReturnsError,
    act,
    create_request,
    mark_refunded,
    record_return,
    sweep_returns,
)
from kefu.store.returns_tables import ReturnRequest
from kefu.store.tables import Order, OrderLine, Product, Shipment

AGENT = "demo"
HISTORY_DAYS = 150  # requests are made for orders signed in this many days before the demo's end
BASE_RATE = 0.022  # share of signed lines returned
JUMP_RATE = 0.30  # the jumping product's share in the last 30 days
CUSTOM_TITLE = "伴娘服"  # the made-to-order product (按尺寸定做)
# (TOP reason, desc, weight)
REASONS: tuple[tuple[str, str, int], ...] = (
    ("尺码拍错", "平时穿M，这件偏小，想换大一码", 30),
    ("尺码拍错", "买大了，腰围太松", 12),
    ("颜色与图片不符", "实物颜色比图片深很多，有色差", 14),
    ("不喜欢/效果不好", "上身效果不好，不适合我", 16),
    ("7天无理由退换货", "不想要了", 12),
    ("质量问题", "线头多，有一处开线", 6),
    ("商品与描述不符", "面料不是描述的纯棉", 4),
    ("卖家发错货", "下单白色收到杏色", 3),
    ("物流破损", "外包装破了，衣服有污渍", 3),
)
JUMP_REASONS: tuple[tuple[str, str, int], ...] = (
    ("质量问题", "洗了一次就起球", 5), ("尺码拍错", "裤长偏短，和尺码表不一样", 4), ("商品与描述不符", "面料很薄透", 3),
)
CLOTHING_CHECKS = ("tags_on", "unwashed", "no_odour", "no_stains")


@dataclass(frozen=True)
class _Line:
    order_no: str
    sub_order_no: str | None
    product_id: str | None
    title: str
    signed_at: datetime


def _aware(moment: datetime) -> datetime:
    from datetime import UTC
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _signed_lines(context: DemoContext) -> list[_Line]:
    since = context.now - timedelta(days=HISTORY_DAYS)
    signed = (select(Shipment.order_id, func.max(Shipment.signed_at).label("signed_at"))
              .where(Shipment.shop_id == context.shop_id).group_by(Shipment.order_id).subquery())
    when = func.coalesce(signed.c.signed_at, Order.finished_at)
    with context.store.session() as session:
        rows = session.execute(
            select(Order.order_no, OrderLine.sub_order_no, OrderLine.product_id, OrderLine.title, when.label("at"))
            .join(Order, Order.id == OrderLine.order_id)
            .outerjoin(signed, signed.c.order_id == Order.id)
            .where(OrderLine.shop_id == context.shop_id, Order.paid_at.is_not(None), when >= since,
                   when < context.now)
            .order_by(Order.order_no, OrderLine.line_no)
        ).all()
    return [_Line(r.order_no, r.sub_order_no, r.product_id, r.title, _aware(r.at)) for r in rows]


def _pick(rng: Random, table: tuple[tuple[str, str, int], ...]) -> tuple[str, str]:
    total = sum(w for _r, _d, w in table)
    roll = rng.random() * total
    for reason, desc, weight in table:
        roll -= weight
        if roll < 0:
            return reason, desc
    return table[-1][0], table[-1][1]


def add_returns(context: DemoContext) -> str:
    """Write the demo's return requests, take the older ones through to refunds, and sweep for returns alerts."""
    rng = Random(20250611)
    lines = _signed_lines(context)
    with context.store.session() as session:
        if session.scalar(select(func.count()).select_from(ReturnRequest)
                          .where(ReturnRequest.shop_id == context.shop_id)):
            return "退货 / returns: 已存在 / already there"
        custom = session.scalars(select(Product).where(Product.shop_id == context.shop_id,
                                                       Product.title.contains(CUSTOM_TITLE))).first()
        if custom is not None:  # the bridesmaid dress is cut to the buyer's measurements
            custom.extra = {**(custom.extra or {}), "returns_exempt": "made_to_order"}
        session.flush()
    by_product: dict[str | None, list[_Line]] = defaultdict(list)
    for line in lines:
        by_product[line.product_id].append(line)
    recent = context.now - timedelta(days=30)
    # The month's best seller (not the made-to-order dress) is the product whose return rate jumps.
    sellers = {pid: sum(1 for ln in items if ln.signed_at >= recent) for pid, items in by_product.items()
               if pid is not None and (custom is None or pid != custom.id)}
    jump_ids = {max(sorted(sellers), key=lambda pid: sellers[pid])} if sellers else set()
    chosen: list[tuple[_Line, str, str, int]] = []  # line, reason, desc, days after signing
    for line in lines:
        jumping = line.product_id in jump_ids and line.signed_at >= recent - timedelta(days=3)
        if rng.random() < (JUMP_RATE if jumping else BASE_RATE):
            reason, desc = _pick(rng, JUMP_REASONS if jumping else REASONS)
            days = rng.choice((1, 2, 2, 3, 3, 4, 5, 6)) if rng.random() > 0.08 else rng.choice((9, 10, 12))
            chosen.append((line, reason, desc, days))
    custom_lines = [ln for ln in lines if custom is not None and ln.product_id == custom.id]
    if custom_lines:  # one buyer asks to send the made-to-order dress back without a reason
        chosen.append((custom_lines[-1], "7天无理由退换货", "尺寸是按我给的做的，但还是不想要了", 3))
    made = refunded = late = 0
    with context.store.session() as session:  # one transaction: a commit per request would cost more than the work
        for number, (line, reason, desc, days) in enumerate(chosen, start=1):
            requested = line.signed_at + timedelta(days=days, hours=rng.randint(1, 10))
            if requested >= context.now:
                requested = context.now - timedelta(hours=rng.randint(2, 20))
            try:
                request = create_request(
                    session, context.shop_id, order_no=line.order_no, sub_order_no=line.sub_order_no, reason=reason,
                    description=desc, requested_at=requested, prefers_exchange=reason == "尺码拍错" and rng.random() < 0.35,
                    by=AGENT, now=requested, source="demo", refund_id=f"2{20250000000 + number * 7919:011d}")
            except ReturnsError:
                continue
            made += 1
            late += days > 7
            refunded += _progress(session, request, context.now, rng)
        swept = sweep_returns(session, context.shop_id, now=context.now)
    return (f"退货 / returns: 申请 {made} requests, 已退款 {refunded} refunded, 超期善意 {late} late, "
            f"退货率跳升 {swept.rate_jumps} rate jumps, 退款逾期 {swept.overdue} overdue")


def _progress(session, request: ReturnRequest, now: datetime, rng: Random) -> int:
    """Take a request as far as its age allows: decided, returned and inspected, refunded. Returns 1 if refunded."""
    requested = _aware(request.requested_at)
    age = now - requested
    if request.decision == "refuse" or age < timedelta(days=1):
        if request.decision == "refuse" and age > timedelta(days=1):
            act(session, request.id, "refuse", by=AGENT, now=requested + timedelta(hours=3))
        return 0
    outcome = request.decision or "accept"
    act(session, request.id, outcome, by=AGENT, now=requested + timedelta(hours=2))
    if outcome == "exchange" or request.kind == "refund_only" or age < timedelta(days=4):
        return 0
    arrived = requested + timedelta(days=rng.choice((2, 3, 3, 4)))
    soiled = request.reason_code in ("taste", "changed_mind", "size_choice") and rng.random() < 0.12
    checks = {name: not (soiled and name == "no_stains") for name in CLOTHING_CHECKS}
    late = (request.decision_detail or {}).get("goodwill_ends_at") is not None
    condition = "light_wear" if (late or soiled) else rng.choice(("as_new", "as_new", "tried_on"))
    record_return(session, request.id, checklist=checks, condition=condition, resellable=True, by=AGENT,
                  received_at=arrived, now=arrived)
    if request.decision == "refuse":  # the inspection found stains inside the window: the agent refuses after all
        request.status = "open"
        act(session, request.id, "refuse", by=AGENT, now=arrived + timedelta(hours=4))
        return 0
    if request.status == "accepted" and now - arrived > timedelta(days=2) and rng.random() < 0.93:
        mark_refunded(session, request.id, by=AGENT, now=arrived + timedelta(days=rng.choice((1, 1, 2, 3))))
        return 1
    return 0


__all__ = ["add_returns"]
