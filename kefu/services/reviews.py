"""Reviews in the store: import (linked to order, item and customer; 追评 under their parent), classify, train, query."""

from __future__ import annotations

import csv
import logging
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from kefu.config import shop_rules
from kefu.domain.privacy import redact_phones
from kefu.domain.reviews.aspects import topics_of
from kefu.ids import new_id, stable_id
from kefu.ids import order_id as make_order_id
from kefu.ingest.reviews_file import ReviewFile, ReviewRecord, UnreadableReviews, read_review_file
from kefu.services.shops import find_shop, get_or_create_shop
from kefu.store.database import Store
from kefu.store.review_tables import Review, SentimentModelRow
from kefu.store.tables import Customer, ImportRejection, ImportRun, Order, OrderLine, Product, Shop
from kefu.text.base_corpus import LabelledTexts
from kefu.text.sentiment import SentimentModel, base_model, model_bytes, model_from_bytes, train

log = logging.getLogger(__name__)

KIND = "reviews"
# Texts the platform writes when the buyer wrote nothing: no words to learn from.
DEFAULT_TEXTS = frozenset({"", "好评！", "好评", "此用户没有填写评价。", "此用户没有填写评价", "系统默认好评",
                           "评价方未及时做出评价,系统默认好评!", "该用户觉得商品较好，默认给出好评"})  # fmt: skip


def reviews_rules(shop: Shop | None) -> dict[str, Any]:
    """The shop's review settings (config key "reviews")."""
    return shop_rules(shop.settings if shop else None)["reviews"]


# ---------------------------------------------------------------------------------------------------------------- models

_models: dict[str, tuple[str, SentimentModel]] = {}  # shop id → (model row id, model)
_models_lock = threading.Lock()


def shop_model(session: Session, shop_id: str) -> tuple[str, SentimentModel]:
    """The shop's trained model (id, model) when there is one, else ("base", the base model). Cached per process."""
    row_id = session.scalar(select(SentimentModelRow.id).where(SentimentModelRow.shop_id == shop_id))
    if row_id is None:
        return "base", base_model()
    with _models_lock:
        cached = _models.get(shop_id)
        if cached and cached[0] == row_id:
            return cached
    data = session.scalar(select(SentimentModelRow.data).where(SentimentModelRow.id == row_id))
    model = model_from_bytes(data)
    with _models_lock:
        _models[shop_id] = (row_id, model)
    return row_id, model


@dataclass(frozen=True)
class Reading:
    """kefu's reading of one review text."""

    sentiment: str
    score: float
    flagged: bool
    topics: tuple[str, ...]


def read_texts(model: SentimentModel, results: Sequence[str], texts: Sequence[str], flag_below: float) -> list[Reading]:
    """Sentiment, the good-rating-negative-text flag and topics for each text, in one batch."""
    predictions = model.predict(list(texts))
    readings = []
    for result, text, prediction in zip(results, texts, predictions, strict=True):
        flagged = result == "good" and text.strip() not in DEFAULT_TEXTS and prediction.score < flag_below
        readings.append(Reading(prediction.label, round(prediction.score, 4), flagged, topics_of(text)))
    return readings


def classify_reviews(session: Session, shop: Shop, reviews: Sequence[Review]) -> int:
    """Write sentiment, score, flag and topics on the given reviews with the shop's current model."""
    if not reviews:
        return 0
    model_id, model = shop_model(session, shop.id)
    flag_below = float(reviews_rules(shop)["flag_below_score"])
    readings = read_texts(model, [r.result for r in reviews], [r.content or "" for r in reviews], flag_below)
    for review, reading in zip(reviews, readings, strict=True):
        review.sentiment, review.sentiment_score = reading.sentiment, reading.score
        review.flagged, review.topics, review.classified_by = reading.flagged, list(reading.topics), model_id
    return len(reviews)


def reclassify_shop(session: Session, shop: Shop, batch: int = 5000) -> int:
    """Classify every review of the shop again (after training), in batches of plain updates."""
    model_id, model = shop_model(session, shop.id)
    flag_below = float(reviews_rules(shop)["flag_below_score"])
    rows = session.execute(select(Review.id, Review.result, Review.content).where(Review.shop_id == shop.id)).all()
    for start in range(0, len(rows), batch):
        chunk = rows[start : start + batch]
        readings = read_texts(model, [r.result for r in chunk], [r.content or "" for r in chunk], flag_below)
        session.execute(update(Review), [
            {"id": row.id, "sentiment": reading.sentiment, "sentiment_score": reading.score,
             "flagged": reading.flagged, "topics": list(reading.topics), "classified_by": model_id}
            for row, reading in zip(chunk, readings, strict=True)
        ])  # fmt: skip
    return len(rows)


@dataclass(frozen=True)
class TrainResult:
    shop_id: str
    model_id: str
    texts: int
    seconds: float
    reclassified: int


class NotEnoughReviews(ValueError):
    """Training needs rated reviews with words, of both kinds (good and neutral/bad)."""


def training_set(session: Session, shop_id: str) -> tuple[list[str], list[str]]:
    """The shop's own rated reviews with real words (not the platform's default texts): texts and ratings."""
    rows = session.execute(
        select(Review.content, Review.result).where(Review.shop_id == shop_id, Review.kind == "review")
    ).all()
    pairs = [(content, result) for content, result in rows if (content or "").strip() not in DEFAULT_TEXTS]
    return [content for content, _ in pairs], [result for _, result in pairs]


def train_shop_model(session: Session, shop: Shop, *, now: datetime | None = None,
                     base: LabelledTexts | Literal["shipped"] = "shipped") -> TrainResult:  # fmt: skip
    """Train the shop's model on its rated reviews over the base corpus, keep it, and reclassify every review.

    base: the shipped corpus, or another (the benchmark leaves its scoring texts out of it).
    """
    texts, ratings = training_set(session, shop.id)
    if not texts or len(set(ratings)) < 2:
        raise NotEnoughReviews(
            f"店铺只有 {len(texts)} 条带文字的评价且需要好评和中差评都有 / the shop has {len(texts)} reviews with words; "
            "training needs both good and neutral/bad ones"
        )
    started = time.perf_counter()
    model = train(texts, ratings, base=base)
    seconds = time.perf_counter() - started
    row = session.scalar(select(SentimentModelRow).where(SentimentModelRow.shop_id == shop.id))
    model_id = new_id()
    about = {**dict(model.about), "ratings": {r: ratings.count(r) for r in sorted(set(ratings))}}
    if row is None:
        session.add(SentimentModelRow(id=model_id, shop_id=shop.id, trained_at=now or datetime.now(UTC),
                                      shop_texts=len(texts), data=model_bytes(model), about=about))  # fmt: skip
    else:
        row.id, row.trained_at, row.shop_texts, row.data, row.about = (
            model_id, now or datetime.now(UTC), len(texts), model_bytes(model), about)  # fmt: skip
    session.flush()
    with _models_lock:
        _models[shop.id] = (model_id, model)
    reclassified = reclassify_shop(session, shop)
    return TrainResult(shop.id, model_id, len(texts), seconds, reclassified)


def model_info(session: Session, shop_id: str) -> dict[str, Any] | None:
    """When and on how many reviews the shop's model was trained (None: the base model is in use)."""
    row = session.execute(
        select(SentimentModelRow.id, SentimentModelRow.trained_at, SentimentModelRow.shop_texts)
        .where(SentimentModelRow.shop_id == shop_id)
    ).first()  # fmt: skip
    return None if row is None else {"id": row.id, "trained_at": row.trained_at, "shop_texts": row.shop_texts}


# --------------------------------------------------------------------------------------------------------------- import


@dataclass
class ReviewImportResult:
    """What one review file did to the store."""

    file_name: str
    kind: str = ""
    shop_id: str | None = None
    run_id: str | None = None
    rows_read: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    follow_ups: int = 0
    linked_orders: int = 0
    cases_opened: int = 0
    problems: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def rejected(self) -> int:
        return len(self.problems)

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_json(self) -> dict[str, Any]:
        return {"file": self.file_name, "kind": self.kind, "shop_id": self.shop_id, "rows_read": self.rows_read,
                "new": self.new, "updated": self.updated, "unchanged": self.unchanged, "follow_ups": self.follow_ups,
                "linked_orders": self.linked_orders, "cases_opened": self.cases_opened, "rejected": self.rejected,
                "problems": self.problems, "error": self.error}  # fmt: skip


@dataclass(frozen=True)
class _Links:
    """Orders, their customers and line products for the tids of one file, read in a few queries."""

    orders: dict[str, str | None]  # order id → customer id
    line_products: dict[tuple[str, str], str | None]  # (order id, sub-order no) → product id
    title_products: dict[str, str]  # product title → product id
    customers_by_nick: dict[str, str]
    customers_by_email: dict[str, str]


def _chunks(values: Sequence[str], size: int = 500) -> Iterable[Sequence[str]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _links(session: Session, shop: Shop, records: Sequence[ReviewRecord]) -> _Links:
    order_ids = sorted({make_order_id(shop.id, r.tid) for r in records if r.tid})
    orders: dict[str, str | None] = {}
    line_products: dict[tuple[str, str], str | None] = {}
    for chunk in _chunks(order_ids):
        orders.update(session.execute(select(Order.id, Order.customer_id).where(Order.id.in_(chunk))).all())
        for order, sub, product in session.execute(
            select(OrderLine.order_id, OrderLine.sub_order_no, OrderLine.product_id).where(OrderLine.order_id.in_(chunk))
        ):
            if sub:
                line_products[(order, sub)] = product
    titles = sorted({r.item_title for r in records if r.item_title})
    title_products: dict[str, str] = {}
    for chunk in _chunks(titles):
        title_products.update(session.execute(
            select(Product.title, Product.id).where(Product.shop_id == shop.id, Product.title.in_(chunk))
        ).all())  # fmt: skip
    nicks = sorted({r.nick for r in records if r.nick})
    by_nick: dict[str, str] = {}
    for chunk in _chunks(nicks):
        by_nick.update(session.execute(
            select(Customer.buyer_nick, Customer.id).where(Customer.shop_id == shop.id, Customer.buyer_nick.in_(chunk))
        ).all())  # fmt: skip
    emails = sorted({r.email.lower() for r in records if r.email})
    by_email: dict[str, str] = {}
    for chunk in _chunks(emails):
        by_email.update(session.execute(
            select(func.lower(Customer.email), Customer.id)
            .where(Customer.shop_id == shop.id, func.lower(Customer.email).in_(chunk))
        ).all())  # fmt: skip
    return _Links(orders, line_products, title_products, by_nick, by_email)


def _utc(moment: datetime, zone: ZoneInfo) -> datetime:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(UTC)


def _fields_of(record: ReviewRecord, shop: Shop, links: _Links, zone: ZoneInfo) -> dict[str, Any]:
    """The review columns a record sets (links resolved)."""
    order = make_order_id(shop.id, record.tid) if record.tid else None
    if order not in links.orders:
        order = None
    customer = links.orders.get(order) if order else None
    if customer is None and record.email:
        customer = links.customers_by_email.get(record.email.lower())
    if customer is None and record.nick:
        customer = links.customers_by_nick.get(record.nick)
    product = links.line_products.get((order, record.oid)) if order and record.oid else None
    if product is None and record.item_title:
        product = links.title_products.get(record.item_title)
    return {
        "source": record.source, "tid": record.tid, "oid": record.oid, "order_id": order, "customer_id": customer,
        "product_id": product, "nick": record.nick, "num_iid": record.num_iid, "item_title": record.item_title,
        "item_price": record.item_price, "result": record.result, "stars": record.stars,
        "content": redact_phones(record.content) or "", "reply": redact_phones(record.reply),
        "valid_score": record.valid_score, "created_at": _utc(record.created, zone),
    }  # fmt: skip


_COMPARED = ("result", "content", "reply", "valid_score", "order_id", "customer_id", "product_id", "stars")


def _upsert(session: Session, shop: Shop, existing: dict[str, Review], key: str, values: dict[str, Any],
            now: datetime, result: ReviewImportResult, touched: list[Review]) -> Review:  # fmt: skip
    review = existing.get(key)
    if review is None:
        review = Review(id=stable_id("review", shop.id, key), shop_id=shop.id, review_key=key, imported_at=now,
                        flagged=False, **values)  # fmt: skip
        session.add(review)
        existing[key] = review
        result.new += 1
        touched.append(review)
        return review
    changed = {name: values[name] for name in _COMPARED if getattr(review, name) != values[name]}
    if not changed:
        result.unchanged += 1
        return review
    if "result" in changed:  # a buyer changed the rating (e.g. bad → good within the window): keep the history
        history = list((review.extra or {}).get("result_changes", []))
        history.append({"from": review.result, "to": values["result"], "seen_at": now.isoformat()})
        review.extra = {**(review.extra or {}), "result_changes": history}
    for name, value in values.items():
        setattr(review, name, value)
    result.updated += 1
    touched.append(review)
    return review


def land_records(session: Session, shop: Shop, records: Sequence[ReviewRecord], result: ReviewImportResult,
                 now: datetime) -> list[Review]:  # fmt: skip
    """Upsert the records (and their 追评) into reviews; returns the reviews that are new or changed."""
    zone = ZoneInfo(shop_rules(shop.settings)["timezone"])
    links = _links(session, shop, records)
    existing = {r.review_key: r for r in session.scalars(select(Review).where(Review.shop_id == shop.id))}
    touched: list[Review] = []
    linked: set[str] = set()
    # Parents first, so a 追评 row finds its review wherever it stands in the file.
    for record in sorted(records, key=lambda r: r.is_append):
        values = _fields_of(record, shop, links, zone)
        if values["order_id"]:
            linked.add(values["order_id"])
        if record.is_append:
            parent = existing.get(record.parent_key or "")
            if parent is None:
                result.problems.append(f"{result.file_name}:{record.line}: 追评找不到原评价 / follow-up has no review "
                                       f"with tid {record.tid} oid {record.oid or '—'} in the shop")  # fmt: skip
                continue
            values.update(kind="follow_up", parent_id=parent.id)
            result.follow_ups += 1
            _upsert(session, shop, existing, record.key, values, now, result, touched)
            continue
        values.update(kind="review", parent_id=None)
        review = _upsert(session, shop, existing, record.key, values, now, result, touched)
        if record.append_content:
            session.flush()
            follow = {**values, "kind": "follow_up", "parent_id": review.id,
                      "content": redact_phones(record.append_content) or "",
                      "reply": redact_phones(record.append_reply),
                      "created_at": _utc(record.append_created or record.created, zone)}  # fmt: skip
            result.follow_ups += 1
            _upsert(session, shop, existing, f"{record.key}:append", follow, now, result, touched)
    result.linked_orders = len(linked)
    session.flush()
    return touched


def after_landing(session: Session, shop: Shop, touched: Sequence[Review], now: datetime) -> int:
    """Classify what landed, draft replies for it and open recovery cases; returns the cases opened."""
    from kefu.services.review_recovery import open_cases_for  # here: recovery builds on this module
    from kefu.services.review_replies import draft_replies

    classify_reviews(session, shop, touched)
    session.flush()
    draft_replies(session, shop, touched, now=now)
    return open_cases_for(session, shop, touched, now=now)


def import_review_file(store: Store, path: str | Path, shop_name: str | None = None, *,
                       display_name: str | None = None, now: datetime | None = None,
                       created_by: str | None = None) -> ReviewImportResult:  # fmt: skip
    """Import one review file into the named shop (created on first use): good rows land, bad rows are reported."""
    now = now or datetime.now(UTC)
    name = display_name or Path(path).name
    result = ReviewImportResult(file_name=name)
    with store.session() as session:
        shop = find_shop(session, shop_name) if shop_name else find_shop(session, None)
        shop = shop or get_or_create_shop(session, shop_name)
        rules = reviews_rules(shop)
        result.shop_id = shop.id
        try:
            parsed: ReviewFile = read_review_file(path, display_name=name, good_from=int(rules["stars_good_from"]),
                                                  bad_up_to=int(rules["stars_bad_up_to"]))  # fmt: skip
        except UnreadableReviews as error:
            result.error = str(error)
            return result
        result.kind, result.rows_read = parsed.kind, parsed.rows_read
        result.problems.extend(problem.located(name) for problem in parsed.problems)
        touched = land_records(session, shop, parsed.records, result, now)
        result.cases_opened = after_landing(session, shop, touched, now)
        run_id = new_id()
        result.run_id = run_id
        session.add(ImportRun(id=run_id, shop_id=shop.id, kind=KIND, file_name=name[:300], started_at=now,
                              finished_at=datetime.now(UTC), status="done", rows_read=result.rows_read,
                              rows_landed=result.rows_read - result.rejected, rows_new=result.new,
                              rows_updated=result.updated, rows_rejected=result.rejected, created_by=created_by))
        session.flush()
        for problem in result.problems:
            line = problem.split(":", 2)[1] if problem.count(":") >= 2 else "0"
            session.add(ImportRejection(run_id=run_id, line_no=int(line) if line.strip().isdigit() else 0,
                                        reason=redact_phones(problem) or problem))  # fmt: skip
    return result


# ------------------------------------------------------------------------------------------------------------- classify


def classify_csv(source: IO[str], sink: IO[str], model: SentimentModel, *, text_column: str = "review",
                 flag_below: float = 0.35, result_column: str = "result") -> int:  # fmt: skip
    """Copy a CSV to sink with sentiment, sentiment_score and topics added; returns the rows written.

    ValueError naming the column when the text column is missing. A `result` column (good/neutral/bad), when present,
    also fills `flagged` (a good rating whose words read negative).
    """
    reader = csv.DictReader(source)
    if reader.fieldnames is None or text_column not in reader.fieldnames:
        raise ValueError(f"没有文本列 / no column '{text_column}' (columns: {', '.join(reader.fieldnames or [])})")
    added = ["sentiment", "sentiment_score", "topics"]
    has_result = result_column in reader.fieldnames
    if has_result:
        added.append("flagged")
    writer = csv.DictWriter(sink, fieldnames=[*reader.fieldnames, *[c for c in added if c not in reader.fieldnames]])
    writer.writeheader()
    written = 0
    batch: list[dict[str, str]] = []

    def flush() -> None:
        nonlocal written
        results = [(row.get(result_column) or "").strip().lower() for row in batch] if has_result else [""] * len(batch)
        for row, reading in zip(batch, read_texts(model, results, [row[text_column] or "" for row in batch],
                                                  flag_below), strict=True):  # fmt: skip
            row.update(sentiment=reading.sentiment, sentiment_score=f"{reading.score:.4f}",
                       topics=";".join(reading.topics))
            if has_result:
                row["flagged"] = "1" if reading.flagged else "0"
            writer.writerow(row)
        written += len(batch)
        batch.clear()

    for row in reader:
        batch.append(row)
        if len(batch) >= 2048:
            flush()
    flush()
    return written


# ---------------------------------------------------------------------------------------------------------------- query

def review_or_none(session: Session, review_id: str, shop_id: str | None = None) -> Review | None:
    review = session.get(Review, review_id)
    if review is None or (shop_id is not None and review.shop_id != shop_id):
        return None
    return review


def follow_ups_of(session: Session, review_ids: Sequence[str]) -> dict[str, list[Review]]:
    """The 追评 of each review, oldest first."""
    found: dict[str, list[Review]] = {}
    for chunk in _chunks(list(review_ids)):
        for review in session.scalars(select(Review).where(Review.parent_id.in_(chunk)).order_by(Review.created_at)):
            found.setdefault(review.parent_id or "", []).append(review)
    return found


def shop_for(session: Session, shop_name: str | None) -> Shop | None:
    """The named shop, or the only one."""
    return find_shop(session, shop_name)
