"""The shop's knowledge base: entries edited in the workbench, product stock from SKUs, retrieval for reply drafts."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.domain.desk.knowledge import (
    KINDS,
    Entry,
    Knowledge,
    build_knowledge,
    data_from_lines,
    data_problems,
)
from kefu.domain.desk.retrieval import Ranked, rank_entries
from kefu.ids import new_id
from kefu.store.desk_tables import KnowledgeEntry
from kefu.store.tables import Product, Sku

MAX_TITLE_LENGTH = 200
MAX_BODY_LENGTH = 20000


class KnowledgeError(ValueError):
    """An entry could not be saved; the message names the field (Chinese / English)."""


class EntryNotFound(LookupError):
    """No knowledge entry with that id."""


def _utc(moment: datetime | None) -> datetime:
    if moment is None:
        return datetime.now(UTC)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class SavedEntry:
    entry: KnowledgeEntry
    warnings: tuple[str, ...]  # data values the drafts cannot read (the entry is saved anyway)


def save_entry(session: Session, *, shop_id: str, kind: str, title: str, body: str = "",
               data: dict[str, Any] | str | None = None, product_id: str | None = None, active: bool = True,
               entry_id: str | None = None, by: str | None = None, now: datetime | None = None) -> SavedEntry:
    """Create or change an entry; `data` is a dict or ``key: value`` lines."""
    if kind not in KINDS:
        raise KnowledgeError(f"kind: 应为 {'/'.join(KINDS)} / one of {', '.join(KINDS)}")
    title = (title or "").strip()
    if not title:
        raise KnowledgeError("title: 标题不能为空 / title is empty")
    if len(title) > MAX_TITLE_LENGTH:
        raise KnowledgeError(f"title: 最多 {MAX_TITLE_LENGTH} 字 / at most {MAX_TITLE_LENGTH} characters")
    body = (body or "").strip()
    if len(body) > MAX_BODY_LENGTH:
        raise KnowledgeError(f"body: 最多 {MAX_BODY_LENGTH} 字 / at most {MAX_BODY_LENGTH} characters")
    values = data_from_lines(data) if isinstance(data, str) else dict(data or {})
    product_id = (product_id or "").strip() or None
    if product_id is not None:
        product = session.get(Product, product_id)
        if product is None or product.shop_id != shop_id:
            raise KnowledgeError(f"product_id: 本店没有这个商品 / no product {product_id!r} in this shop")
    if entry_id:
        entry = session.get(KnowledgeEntry, entry_id)
        if entry is None or entry.shop_id != shop_id:
            raise EntryNotFound(entry_id)
    else:
        entry = KnowledgeEntry(id=new_id(), shop_id=shop_id)
        session.add(entry)
    entry.kind, entry.title, entry.body, entry.data = kind, title, body, values
    entry.product_id, entry.active, entry.updated_at, entry.updated_by = product_id, bool(active), _utc(now), by
    session.flush()
    return SavedEntry(entry, tuple(data_problems(kind, values)))


def get_entry(session: Session, entry_id: str) -> KnowledgeEntry:
    entry = session.get(KnowledgeEntry, entry_id)
    if entry is None:
        raise EntryNotFound(entry_id)
    return entry


def delete_entry(session: Session, entry_id: str) -> None:
    session.delete(get_entry(session, entry_id))
    session.flush()


def list_entries(session: Session, shop_id: str | None, *, kind: str | None = None,
                 include_inactive: bool = True) -> list[KnowledgeEntry]:
    if shop_id is None:
        return []
    query = select(KnowledgeEntry).where(KnowledgeEntry.shop_id == shop_id)
    if kind:
        query = query.where(KnowledgeEntry.kind == kind)
    if not include_inactive:
        query = query.where(KnowledgeEntry.active.is_(True))
    order = {k: i for i, k in enumerate(KINDS)}
    return sorted(session.scalars(query).all(), key=lambda e: (order.get(e.kind, 99), e.title))


def _stock_by_product(session: Session, product_ids: list[str]) -> dict[str, dict[str, int]]:
    """SKU properties → stock for each product (SKUs without a stock figure are left out)."""
    stock: dict[str, dict[str, int]] = defaultdict(dict)
    if not product_ids:
        return stock
    for product_id, properties, count in session.execute(
            select(Sku.product_id, Sku.properties, Sku.stock).where(Sku.product_id.in_(product_ids)).order_by(Sku.properties)):
        if count is not None:
            stock[product_id][properties or ""] = int(count)
    return stock


def knowledge_of(session: Session, shop_id: str) -> Knowledge:
    """The shop's active entries as pure values, product entries with their SKUs' stock."""
    rows = list_entries(session, shop_id, include_inactive=False)
    stock = _stock_by_product(session, [r.product_id for r in rows if r.product_id])
    return build_knowledge(
        Entry(r.id, r.kind, r.title, r.body or "", dict(r.data or {}), r.product_id,
              stock.get(r.product_id) if r.product_id and r.product_id in stock else None)
        for r in rows
    )


def search_knowledge(session: Session, shop_id: str, query: str, *, top: int = 5) -> list[Ranked]:
    """The entries that best match a question (BM25 over jieba words)."""
    return rank_entries(query, knowledge_of(session, shop_id).entries, top=top)


def shop_products(session: Session, shop_id: str | None, *, limit: int = 500) -> list[Product]:
    """Products to link an entry to (for its stock)."""
    if shop_id is None:
        return []
    return list(session.scalars(select(Product).where(Product.shop_id == shop_id).order_by(Product.title).limit(limit)))


def entry_json(entry: KnowledgeEntry) -> dict[str, Any]:
    return {"id": entry.id, "shop_id": entry.shop_id, "kind": entry.kind, "title": entry.title, "body": entry.body,
            "data": entry.data or {}, "product_id": entry.product_id, "active": entry.active,
            "updated_at": _utc(entry.updated_at).isoformat(), "updated_by": entry.updated_by}
