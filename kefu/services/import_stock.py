"""Importing a stock file: each row updates one SKU's stock, units in transit, restock date and lead time; a row
naming no SKU of the shop is reported as `FILE:LINE: reason` and every good row lands."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from kefu.domain.privacy import redact_phones
from kefu.ids import new_id
from kefu.ingest.stock_file import StockRejection, StockRow, UnreadableStockFile, open_stock_file
from kefu.services.shops import find_shop
from kefu.store.database import Store
from kefu.store.stock_tables import SkuIncoming, StockMovement
from kefu.store.tables import ImportRejection, ImportRun, Product, Sku

log = logging.getLogger(__name__)

KIND = "stock_levels"
KEPT_REJECTIONS = 200


@dataclass
class StockImportResult:
    """What one stock file did."""

    file_name: str
    run_id: str | None = None
    shop_id: str | None = None
    rows_read: int = 0
    skus_updated: int = 0
    rows_rejected: int = 0
    rejections: list[StockRejection] = field(default_factory=list)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def messages(self) -> list[str]:
        lines = [f"{self.file_name}:{r.line_no}: {r.reason}" for r in self.rejections]
        return lines + ([self.error] if self.error else [])

    def to_json(self) -> dict:
        return {"file": self.file_name, "run_id": self.run_id, "shop_id": self.shop_id, "rows_read": self.rows_read,
                "skus_updated": self.skus_updated, "rows_rejected": self.rows_rejected, "problems": self.messages()}

    def __str__(self) -> str:
        return (f"{self.file_name}: SKU 更新 {self.skus_updated}, 拒绝 {self.rows_rejected} 行 — "
                f"SKUs updated {self.skus_updated}, rows rejected {self.rows_rejected}")


class _ShopSkus:
    def __init__(self, skus: list[Sku], products: dict[str, str]):
        self.by_sku_code = {s.outer_sku_id: s for s in skus if s.outer_sku_id}
        self.by_code_props: dict[tuple[str, str], Sku] = {}
        self.by_code: dict[str, list[Sku]] = {}
        for sku in skus:
            code = products.get(sku.product_id)
            if code:
                self.by_code_props[(code, sku.properties)] = sku
                self.by_code.setdefault(code, []).append(sku)

    def find(self, row: StockRow) -> Sku | str:
        """The SKU, or why none was found."""
        if row.sku_outer_id:
            if row.sku_outer_id in self.by_sku_code:
                return self.by_sku_code[row.sku_outer_id]
            if not row.outer_id:
                return f"no SKU with SKU编码 {row.sku_outer_id} in this shop (import the product catalogue first)"
        if row.properties is not None and (row.outer_id, row.properties) in self.by_code_props:
            return self.by_code_props[(row.outer_id, row.properties)]
        skus = self.by_code.get(row.outer_id or "", [])
        if not skus:
            return f"no product with 商家编码 {row.outer_id} in this shop (import the product catalogue first)"
        if len(skus) == 1 and not row.properties:
            return skus[0]
        if row.properties:
            return f"商家编码 {row.outer_id} has no SKU with 属性 {row.properties}"
        return f"商家编码 {row.outer_id} has {len(skus)} SKUs: name one with SKU编码 or 属性"


def import_stock_file(store: Store, path: Path | str, shop_name: str | None = None, *, by: str | None = None,
                      display_name: str | None = None, now: datetime | None = None) -> StockImportResult:
    """Update the shop's SKUs from a stock file; every stock change is kept as a movement."""
    now = now or datetime.now(UTC)
    name = display_name or Path(path).name
    result = StockImportResult(file_name=name)
    with store.session() as session:
        shop = find_shop(session, shop_name)
        if shop is None:
            result.error = f"{name}: no shop {shop_name!r}" if shop_name else f"{name}: no shop yet; import products first"
            return result
        result.shop_id, result.run_id = shop.id, new_id()
        session.add(ImportRun(id=result.run_id, shop_id=shop.id, kind=KIND, file_name=name, started_at=now,
                              status="running", created_by=by))
    try:
        stock_file = open_stock_file(path, display_name=name)
        with store.session() as session:
            products = dict(session.execute(select(Product.id, Product.outer_id)
                                            .where(Product.shop_id == result.shop_id)).all())
            skus = _ShopSkus(list(session.scalars(select(Sku).where(Sku.shop_id == result.shop_id))), products)
            incoming = {i.sku_id: i for i in session.scalars(select(SkuIncoming).where(SkuIncoming.shop_id == result.shop_id))}
            updated: set[str] = set()
            rejections: list[ImportRejection] = []
            for row in stock_file:
                result.rows_read += 1
                found = skus.find(row) if isinstance(row, StockRow) else None
                if isinstance(row, StockRejection) or isinstance(found, str):
                    rejection = row if isinstance(row, StockRejection) else StockRejection(row.line_no, found)
                    result.rows_rejected += 1
                    if len(result.rejections) < KEPT_REJECTIONS:
                        result.rejections.append(rejection)
                    rejections.append(ImportRejection(run_id=result.run_id, line_no=rejection.line_no,
                                                      reason=rejection.reason,
                                                      raw=redact_phones(rejection.raw[:2000]) if rejection.raw else None))
                    log.warning("%s:%s: %s", name, rejection.line_no, rejection.reason)
                    continue
                sku = found
                if row.stock is not None and row.stock != sku.stock:
                    session.add(StockMovement(id=new_id(), shop_id=sku.shop_id, sku_id=sku.id, kind="import",
                                              delta=row.stock - (sku.stock or 0), stock_after=row.stock,
                                              reference=result.run_id, at=now, by=by))
                    sku.stock = row.stock
                if row.restock_date is not None:
                    sku.restock_date = row.restock_date
                if row.lead_time_days is not None:
                    sku.lead_time_days = row.lead_time_days
                if row.incoming is not None:
                    if sku.id in incoming:
                        incoming[sku.id].quantity, incoming[sku.id].updated_at = row.incoming, now
                    else:
                        incoming[sku.id] = SkuIncoming(sku_id=sku.id, shop_id=sku.shop_id, quantity=row.incoming,
                                                       updated_at=now)
                        session.add(incoming[sku.id])
                updated.add(sku.id)
            session.add_all(rejections)
        result.skus_updated = len(updated)
    except UnreadableStockFile as exc:
        result.error = str(exc)
    except Exception as exc:
        log.exception("stock import of %s failed", name)
        result.error = f"{name}: import failed and nothing from this file was stored ({exc})"
        result.skus_updated = 0
    with store.session() as session:
        run = session.get(ImportRun, result.run_id)
        run.finished_at = datetime.now(UTC)
        run.status = "failed" if result.error else "done"
        run.rows_read, run.rows_rejected = result.rows_read, result.rows_rejected
        run.rows_landed = result.rows_read - result.rows_rejected if not result.error else 0
        run.rows_updated = result.skus_updated
        run.error = result.error
    return result
