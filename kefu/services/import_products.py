"""Importing a product catalogue: products and SKUs upserted per shop, bad rows recorded as `FILE:LINE: reason`."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.domain.privacy import redact_phones
from kefu.ids import new_id, stable_id
from kefu.ingest.product_catalog import CatalogItem, CatalogRejection, UnreadableCatalog, open_catalog
from kefu.services.shops import find_shop, get_or_create_shop
from kefu.store.database import Store
from kefu.store.tables import ImportRejection, ImportRun, Product, Shop, Sku

log = logging.getLogger(__name__)

KIND = "product_catalog"
KEPT_REJECTIONS = 200  # how many rejections the result carries back in memory (all are stored)


@dataclass
class CatalogImportResult:
    """What one catalogue file did to the store."""

    file_name: str
    run_id: str | None = None
    shop_id: str | None = None
    shop_name: str | None = None
    rows_read: int = 0
    rows_landed: int = 0
    rows_rejected: int = 0
    products_new: int = 0
    products_updated: int = 0
    skus_new: int = 0
    skus_updated: int = 0
    rejections: list[CatalogRejection] = field(default_factory=list)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def messages(self) -> list[str]:
        """`FILE:LINE: reason` for every kept rejection, then the error if the file failed."""
        lines = [f"{self.file_name}:{r.line_no}: {r.reason}" for r in self.rejections]
        if self.error:
            lines.append(self.error)
        return lines

    def __rich__(self) -> str:
        return str(self)

    def __str__(self) -> str:
        return (
            f"{self.file_name}: 商品 新增 {self.products_new} / 更新 {self.products_updated}, "
            f"SKU 新增 {self.skus_new} / 更新 {self.skus_updated}, 拒绝 {self.rows_rejected} 行 — "
            f"products new {self.products_new} / updated {self.products_updated}, "
            f"SKUs new {self.skus_new} / updated {self.skus_updated}, rows rejected {self.rows_rejected}"
        )


def _set(obj: object, name: str, value: object) -> bool:
    """Assign when the value is given and differs; True when something changed."""
    if value is None or getattr(obj, name) == value:
        return False
    setattr(obj, name, value)
    return True


class _Catalogue:
    """The shop's products and SKUs in memory, found the way the order importer finds them."""

    def __init__(self, session: Session, shop_id: str):
        self.session = session
        self.shop_id = shop_id
        self.by_item: dict[str, Product] = {}
        self.by_outer: dict[str, Product] = {}
        self.by_title: dict[str, Product] = {}
        self.by_key: dict[str, Product] = {}
        for product in session.scalars(select(Product).where(Product.shop_id == shop_id).order_by(Product.id)):
            self._remember(product)
        self.skus: dict[tuple[str, str], Sku] = {
            (sku.product_id, sku.properties): sku
            for sku in session.scalars(select(Sku).where(Sku.shop_id == shop_id))
        }
        self.new_products: set[str] = set()
        self.changed_products: set[str] = set()
        self.new_skus: set[str] = set()
        self.changed_skus: set[str] = set()
        self.lowest_price: dict[str, Decimal] = {}

    def _remember(self, product: Product) -> None:
        self.by_key.setdefault(product.product_key, product)
        for index, value in ((self.by_item, product.platform_item_id), (self.by_outer, product.outer_id),
                             (self.by_title, product.title)):
            if value:
                index.setdefault(value, product)

    def find(self, item: CatalogItem) -> Product | None:
        """By 商品ID, else 商家编码, else title; a product carrying another 商品ID is another listing."""
        if item.item_id and item.item_id in self.by_item:
            return self.by_item[item.item_id]
        for index, value in ((self.by_outer, item.outer_id), (self.by_title, item.title)):
            product = index.get(value) if value else None
            if product is not None and not (item.item_id and product.platform_item_id
                                            and product.platform_item_id != item.item_id):
                return product
        return None

    def product_for(self, item: CatalogItem) -> Product | None:
        """The product this row belongs to, created (or updated) from the row; None when it cannot be created."""
        product = self.find(item)
        if product is None:
            key = item.item_id or item.outer_id or item.title
            product = self.by_key.get(key)
        if product is None:
            if not item.title:
                return None
            product = Product(
                id=stable_id("product", self.shop_id, key), shop_id=self.shop_id, product_key=key,
                platform_item_id=item.item_id, outer_id=item.outer_id, title=item.title, category=item.category,
                price=item.price,
            )
            self.session.add(product)
            self.new_products.add(product.id)
        else:
            changed = False
            if not product.platform_item_id:
                changed |= _set(product, "platform_item_id", item.item_id)
            changed |= _set(product, "outer_id", item.outer_id)
            changed |= _set(product, "title", item.title)
            changed |= _set(product, "category", item.category)
            if changed and product.id not in self.new_products:
                self.changed_products.add(product.id)
        self._remember(product)
        if item.price is not None:
            lowest = self.lowest_price.get(product.id)
            self.lowest_price[product.id] = item.price if lowest is None else min(lowest, item.price)
        return product

    def put_sku(self, product: Product, item: CatalogItem) -> None:
        sku = self.skus.get((product.id, item.properties))
        if sku is None:
            sku = Sku(
                id=stable_id("sku", product.id, item.properties), shop_id=self.shop_id, product_id=product.id,
                properties=item.properties, outer_sku_id=item.sku_outer_id, price=item.price, stock=item.stock,
            )
            self.session.add(sku)
            self.skus[(product.id, item.properties)] = sku
            self.new_skus.add(sku.id)
            return
        changed = _set(sku, "outer_sku_id", item.sku_outer_id) | _set(sku, "price", item.price) | _set(sku, "stock", item.stock)
        if changed and sku.id not in self.new_skus:
            self.changed_skus.add(sku.id)

    def settle_prices(self) -> None:
        """A product's price is its lowest SKU price in the catalogue, as the listing shows it."""
        for product_id, price in self.lowest_price.items():
            product = self.session.get(Product, product_id)
            if product is not None and _set(product, "price", price) and product_id not in self.new_products:
                self.changed_products.add(product_id)


def _shop(session: Session, shop_name: str | None) -> Shop:
    if shop_name:
        return get_or_create_shop(session, shop_name, platform="taobao")
    return find_shop(session, None) or get_or_create_shop(session, None, platform="taobao")


def _reject(result: CatalogImportResult, rejections: list[ImportRejection], rejection: CatalogRejection) -> None:
    result.rows_rejected += 1
    if len(result.rejections) < KEPT_REJECTIONS:
        result.rejections.append(rejection)
    raw = redact_phones(rejection.raw[:2000]) if rejection.raw else None
    rejections.append(ImportRejection(run_id=result.run_id, line_no=rejection.line_no, reason=rejection.reason, raw=raw))
    log.warning("%s:%s: %s", result.file_name, rejection.line_no, rejection.reason)


def import_product_catalog(
    store: Store, path: Path | str, shop_name: str | None = None, *, display_name: str | None = None
) -> CatalogImportResult:
    """Upsert a catalogue file's products and SKUs into the shop; bad rows are reported, good rows land."""
    name = display_name or Path(path).name
    result = CatalogImportResult(file_name=name)
    with store.session() as session:
        shop = _shop(session, shop_name)
        result.shop_id, result.shop_name = shop.id, shop.name
        result.run_id = new_id()
        session.add(ImportRun(id=result.run_id, shop_id=shop.id, kind=KIND, file_name=name,
                              started_at=datetime.now(UTC), status="running"))
    try:
        catalog_file = open_catalog(path, display_name=name)
        with store.session() as session:
            catalogue = _Catalogue(session, result.shop_id)
            rejections: list[ImportRejection] = []
            for row in catalog_file:
                result.rows_read += 1
                if isinstance(row, CatalogRejection):
                    _reject(result, rejections, row)
                    continue
                product = catalogue.product_for(row)
                if product is None:
                    missing = "/".join(f for f, v in (("商品ID", row.item_id), ("商家编码", row.outer_id)) if v)
                    _reject(result, rejections, CatalogRejection(
                        row.line_no, f"宝贝标题 is empty and no product of this shop has this {missing}: a new product needs a title"))
                    continue
                catalogue.put_sku(product, row)
            catalogue.settle_prices()
            session.add_all(rejections)
        result.rows_landed = result.rows_read - result.rows_rejected
        result.products_new, result.products_updated = len(catalogue.new_products), len(catalogue.changed_products)
        result.skus_new, result.skus_updated = len(catalogue.new_skus), len(catalogue.changed_skus)
    except UnreadableCatalog as exc:
        result.error = str(exc)
    except Exception as exc:  # the file's rows are rolled back together; the run records why
        log.exception("catalogue import of %s failed", name)
        result.error = f"{name}: import failed and nothing from this file was stored ({exc})"
        result.rows_landed = result.products_new = result.products_updated = result.skus_new = result.skus_updated = 0
    with store.session() as session:
        run = session.get(ImportRun, result.run_id)
        run.finished_at = datetime.now(UTC)
        run.status = "failed" if result.error else "done"
        run.rows_read = result.rows_read
        run.rows_landed = result.rows_landed
        run.rows_new = result.products_new + result.skus_new
        run.rows_updated = result.products_updated + result.skus_updated
        run.rows_rejected = result.rows_rejected
        run.error = result.error
    return result
