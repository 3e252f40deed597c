"""Demo step: a few hundred invented reviews on the demo shop's finished orders (good, neutral, bad, 追评, and good
ratings with unhappy words), landed through the real import path so replies, recovery cases and causes appear."""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import select

from kefu.demo.steps import DemoContext
from kefu.ingest.reviews_file import ReviewRecord
from kefu.services.reviews import ReviewImportResult, after_landing, land_records
from kefu.store.tables import Order, OrderLine, Shop

SEED = 20261122
MAX_REVIEWS = 320

PRAISE = (
    "质量很好，做工精致", "面料舒服，手感柔软", "尺码合适，版型好看", "颜色和图片一样，很喜欢", "物流很快，第二天就到了",
    "包装很用心，没有一点破损", "客服态度很好，耐心推荐尺码", "性价比很高，会回购", "穿着很舒服，透气", "款式时尚，朋友都说好看",
)  # fmt: skip
CLOSINGS = ("五星推荐！", "满意。", "下次还来。", "给家人也买了一件。", "", "值得购买。")
NEUTRAL = (
    "还行吧，尺码偏小一点，建议拍大一码", "一般般，颜色比图片深", "东西还可以，就是物流有点慢，等了五天",
    "凑合，面料有点薄", "质量一般，和价格差不多",
)  # fmt: skip
BAD = (
    "色差太大了，和图片完全不一样", "洗了一次就掉色，还起球", "尺码严重偏小，根本穿不上", "快递压坏了，盒子都扁了",
    "等了一个星期才发货，催了也没用", "客服态度差，问了半天不回复", "线头很多，做工粗糙", "收到有很大的异味",
    "发错颜色了，要的白色给了黑色", "说好的赠品没有收到，活动规则也没说清楚",
)  # fmt: skip
GOOD_BUT_UNHAPPY = (
    "给个好评吧，但是质量真的很差，线头很多", "默认好评，实际色差太大，很失望", "好评是看在客服面子上，尺码严重偏小",
    "物流太慢了，等了十天，东西还行",
)  # fmt: skip
FOLLOW_UPS = (
    "穿了两周，没有起球，洗了也不变形", "用了一段时间还是很好，推荐", "洗过几次有点缩水", "第二次买了，品质稳定",
    "客服帮忙换了尺码，现在很合适",
)  # fmt: skip


def _text(rng: random.Random, kind: str) -> str:
    if kind == "good":
        parts = rng.sample(PRAISE, k=rng.choice((1, 2, 2, 3)))
        return "，".join(parts) + "，" + rng.choice(CLOSINGS) if rng.random() < 0.7 else "，".join(parts)
    return rng.choice({"neutral": NEUTRAL, "bad": BAD, "unhappy_good": GOOD_BUT_UNHAPPY}[kind])


def demo_reviews(context: DemoContext) -> str:
    """Invent and land the reviews; returns the summary line."""
    rng = random.Random(SEED)
    with context.store.session() as session:
        shop = session.get(Shop, context.shop_id)
        assert shop is not None
        rows = session.execute(
            select(Order.order_no, Order.buyer_nick, Order.finished_at, OrderLine.sub_order_no, OrderLine.title,
                   OrderLine.price)
            .join(OrderLine, OrderLine.order_id == Order.id)
            .where(Order.shop_id == shop.id, Order.finished_at.isnot(None))
            .order_by(Order.finished_at.desc(), Order.order_no, OrderLine.line_no)
            .limit(MAX_REVIEWS * 6)
        ).all()  # fmt: skip
        rows = list({row.order_no: row for row in reversed(rows)}.values())  # the first line of each order
        chosen = sorted(rng.sample(rows, min(MAX_REVIEWS, len(rows))), key=lambda r: (r.finished_at, r.order_no))
        records: list[ReviewRecord] = []
        for line_no, row in enumerate(chosen, start=2):
            roll = rng.random()
            kind = "good" if roll < 0.74 else "neutral" if roll < 0.84 else "bad" if roll < 0.95 else "unhappy_good"
            created = min(row.finished_at + timedelta(days=rng.randint(0, 6), hours=rng.randint(1, 20)), context.now)
            follow = rng.random() < 0.12 and created + timedelta(days=8) < context.now
            records.append(ReviewRecord(
                line=line_no, source="top", result="good" if kind == "unhappy_good" else kind,  # type: ignore[arg-type]
                content=_text(rng, kind), created=created.replace(tzinfo=None) + timedelta(hours=8),
                tid=row.order_no, oid=row.sub_order_no, nick=row.buyer_nick, item_title=row.title,
                item_price=row.price, valid_score=True,
                append_content=rng.choice(FOLLOW_UPS) if follow else None,
                append_created=(created + timedelta(days=rng.randint(7, 20))).replace(tzinfo=None) + timedelta(hours=8)
                if follow else None,
            ))  # fmt: skip
        result = ReviewImportResult(file_name="demo-reviews")
        touched = land_records(session, shop, records, result, context.now)
        cases = after_landing(session, shop, touched, context.now)
    return (f"评价 / reviews: {result.new - result.follow_ups} (追评 follow-ups {result.follow_ups},"
            f" 挽回案件 recovery cases {cases})")
